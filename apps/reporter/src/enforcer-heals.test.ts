// Which applies are heals of drift (kept while no dashboard hears: agent/unheard-heals.ts):
// one that changed back the rules of the config already applied here, never a first apply,
// a new revision, or one that found nothing to change.
import { DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import { afterEach, describe, expect, it } from "vitest";
import { createMemoryBackend } from "./backend/memory.js";
import { createEnforcer, type Enforcer, type Heal } from "./enforcer.js";

let enforcer: Enforcer | undefined;
afterEach(async () => {
  await enforcer?.stop();
  enforcer = undefined;
});

async function setup() {
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  const heals: Heal[] = [];
  const e = createEnforcer({
    backend,
    mode: "enforce",
    heal: "next-resync",
    onHeal: (h) => heals.push(h),
  });
  enforcer = e;
  await e.start();
  return { backend, heals, e };
}

/** A hand edit: the agent chain's last rule removed, read and judged as the agent does. */
async function handEdit(backend: ReturnType<typeof createMemoryBackend>, e: Enforcer) {
  backend.edit("ipv4", (s) => {
    s.chain = s.chain?.slice(0, -1) ?? null;
  });
  e.observe(await backend.read());
}

describe("heals of drift", () => {
  it("a periodic apply changing back a hand edit is one, with what the last read showed", async () => {
    const { backend, heals, e } = await setup();
    const config = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] };
    await e.receive({ config, revision: 5, resourceVersion: "5" });
    expect(heals).toEqual([]); // the first apply of a revision
    await e.resync("periodic");
    expect(heals).toEqual([]); // nothing to change back
    await handEdit(backend, e);
    const before = Date.now();
    await e.resync("periodic");
    expect(heals).toEqual([{ at: expect.any(Number), revision: 5, what: "MASQUERADE missing" }]);
    expect(heals[0]!.at).toBeGreaterThanOrEqual(before);
  });

  it("a new revision changing the rules is not one", async () => {
    const { backend, heals, e } = await setup();
    await e.receive({ config: defaultConfig(), revision: 1, resourceVersion: "1" });
    await handEdit(backend, e);
    const config = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] };
    await e.receive({ config, revision: 2, resourceVersion: "2" });
    expect(heals).toEqual([]);
  });
});
