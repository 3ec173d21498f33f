import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type ApplyResult,
  applyResultSchema,
  DEFAULT_FLAGS,
  defaultConfig,
  MAX_APPLY_ERROR_CHARS,
  type MasqConfig,
} from "@masq/shared";
import { CNI_CONFIGS_DIR as FIXTURES } from "@masq/testkit/cni-configs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMemoryBackend, type MemoryBackend } from "./backend/memory.js";
import type { Observed } from "./backend/types.js";
import { createWindowsCniBackend } from "./backend/windows-cni.js";
import { createEnforcer, type Enforcer, type EnforcerOptions } from "./enforcer.js";
import { createStateStore } from "./state.js";

const base = defaultConfig();
const cfg = (cidrs: string[], extra: Partial<MasqConfig> = {}): MasqConfig => ({
  ...base,
  nonMasqueradeCIDRs: cidrs,
  ...extra,
});
const hasCidr = (b: MemoryBackend, cidr: string) =>
  b.state().chain?.some((l) => l.includes(`-d ${cidr} `)) ?? false;
/** A file check period no test waits for: the tests call checkConfigFile() instead. */
const HOUR = 3_600_000;
/** How long the periodic check (every 40 ms) may take to find an edit on a loaded machine. */
const CHECK_WAIT = { timeout: 10_000, interval: 10 };

let dir: string;
let enforcer: Enforcer | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "imr-enf-"));
});
afterEach(async () => {
  vi.useRealTimers();
  await enforcer?.stop();
  enforcer = undefined;
  await rm(dir, { recursive: true, force: true });
});

function setup(opts: Partial<EnforcerOptions> = {}) {
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  const results: ApplyResult[] = [];
  enforcer = createEnforcer({
    backend,
    mode: "enforce",
    heal: "next-resync",
    store: createStateStore(dir),
    onResult: (r) => results.push(r),
    ...opts,
  });
  return { backend, results, enforcer };
}

describe("enforce mode", () => {
  it("writes nothing before it has a config", async () => {
    const { backend, enforcer } = setup();
    await enforcer.start();
    expect(backend.writes()).toBe(0);
  });

  it("applies a desired config, reports the result and persists it", async () => {
    const { backend, results, enforcer } = setup();
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 7, resourceVersion: "r7" });
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(true);
    expect(results).toEqual([
      expect.objectContaining({
        type: "apply-result",
        revision: 7,
        ok: true,
        trigger: "desired",
        changed: true,
      }),
    ]);
    expect(enforcer.appliedRevision()).toBe(7);
    expect(
      (await createStateStore(dir).load()).ok && (await createStateStore(dir).load()),
    ).toMatchObject({ state: { revision: 7, source: "dashboard" } });
  });

  it("refuses an invalid config: result says why, rules and desired config stay", async () => {
    const { backend, results, enforcer } = setup();
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 1, resourceVersion: "r1" });
    const before = backend.state();
    await enforcer.receive({ config: cfg(["10.0.0.0/33"]), revision: 2, resourceVersion: "r2" });
    await enforcer.receive({ config: cfg(["fd00::/8"]), revision: 3, resourceVersion: "r3" });
    expect(backend.state()).toEqual(before);
    expect(results.slice(1).map((r) => [r.revision, r.ok])).toEqual([
      [2, false],
      [3, false],
    ]);
    expect(results[2]?.error).toMatch(/IPv6/);
    expect(enforcer.desired()?.revision).toBe(1);
  });

  it("enforces the persisted config after a restart (no dashboard needed)", async () => {
    await createStateStore(dir).save({
      v: 1,
      config: cfg(["192.168.0.0/16"]),
      revision: 9,
      resourceVersion: "r9",
      source: "dashboard",
      appliedAt: 1,
      fileHash: null,
    });
    const { backend, results, enforcer } = setup();
    await enforcer.start();
    expect(hasCidr(backend, "192.168.0.0/16")).toBe(true);
    expect(results[0]).toMatchObject({ trigger: "startup", revision: 9, ok: true });
    expect(enforcer.appliedRevision()).toBe(9);
  });

  it("does not apply a persisted config that is invalid for this node's flags", async () => {
    await createStateStore(dir).save({
      v: 1,
      config: cfg(["fd00::/8"]),
      revision: 9,
      resourceVersion: "r9",
      source: "dashboard",
      appliedAt: 1,
      fileHash: null,
    });
    const { backend, enforcer } = setup();
    await enforcer.start();
    expect(backend.writes()).toBe(0);
    expect(enforcer.desired()).toBeUndefined();
  });

  it("tells when it re-applies on its own: heal policy, interval and the next resync", async () => {
    const { enforcer } = setup({ heal: "immediate" });
    await enforcer.start();
    expect(enforcer.schedule()).toEqual({ heal: "immediate", resyncMs: null, nextResyncAt: null });
    const before = Date.now();
    await enforcer.receive({
      config: cfg(["10.0.0.0/8"], { resyncInterval: "30s" }),
      revision: 1,
      resourceVersion: "r1",
    });
    const s = enforcer.schedule();
    expect(s).toMatchObject({ heal: "immediate", resyncMs: 30_000 });
    // Scheduled when the config was adopted: 30 s after a moment inside this test.
    expect(s.nextResyncAt).toBeGreaterThanOrEqual(before + 30_000);
    expect(s.nextResyncAt).toBeLessThanOrEqual(Date.now() + 30_000);
    await enforcer.stop();
    expect(enforcer.schedule().nextResyncAt).toBeNull();
  });

  it("never resyncs faster than once a second, whatever the config says", async () => {
    vi.useFakeTimers();
    const { results, enforcer } = setup();
    await enforcer.start();
    await enforcer.receive({
      config: cfg(["10.0.0.0/8"], { resyncInterval: "1ns" }),
      revision: 1,
      resourceVersion: "r1",
    });
    const periodic = () => results.filter((r) => r.trigger === "periodic").length;
    await vi.advanceTimersByTimeAsync(999);
    expect(periodic()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(periodic()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(periodic()).toBe(2);
  });

  it("resyncInterval 600h (past setTimeout's 2^31-1 ms) re-applies after 600h, not every ms", async () => {
    vi.useFakeTimers();
    try {
      const { results, enforcer } = setup();
      await enforcer.start();
      await enforcer.receive({
        config: cfg(["10.0.0.0/8"], { resyncInterval: "600h" }),
        revision: 1,
        resourceVersion: "r1",
      });
      const periodic = () => results.filter((r) => r.trigger === "periodic").length;
      await vi.advanceTimersByTimeAsync(20_000);
      expect(periodic()).toBe(0);
      await vi.advanceTimersByTimeAsync(600 * 3_600_000 - 20_000);
      expect(periodic()).toBe(1);
      await vi.advanceTimersByTimeAsync(600 * 3_600_000);
      expect(periodic()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("reports an apply error up to the protocol's limit, not clipped before it", async () => {
    const backend = createMemoryBackend({
      flags: DEFAULT_FLAGS,
      failApply: () => `iptables-restore: ${"x".repeat(2 * MAX_APPLY_ERROR_CHARS)}`,
    });
    const results: ApplyResult[] = [];
    enforcer = createEnforcer({
      backend,
      mode: "enforce",
      heal: "next-resync",
      onResult: (r) => results.push(r),
    });
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 1, resourceVersion: "r1" });
    expect(results[0]?.error).toHaveLength(MAX_APPLY_ERROR_CHARS);
    expect(applyResultSchema.safeParse(results[0]).success).toBe(true);
  });

  it("heals drift at the next resync by default", async () => {
    vi.useFakeTimers();
    const { backend, enforcer } = setup({ minResyncMs: 100 });
    await enforcer.start();
    await enforcer.receive({
      config: cfg(["10.0.0.0/8"], { resyncInterval: "300ms" }),
      revision: 1,
      resourceVersion: "r1",
    });
    backend.edit("ipv4", (s) => {
      s.chain = s.chain!.filter((l) => !l.includes("10.0.0.0/8"));
    });
    expect(enforcer.observe(await backend.read())?.status).toBe("drifted");
    // Adopted at t=0 with a 300 ms resync: still drifted just before it, healed at it.
    await vi.advanceTimersByTimeAsync(299);
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(true);
  });

  it("heals at once with heal=immediate", async () => {
    vi.useFakeTimers();
    const { backend, results, enforcer } = setup({ heal: "immediate" });
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 1, resourceVersion: "r1" });
    backend.edit("ipv4", (s) => {
      s.postrouting = s.postrouting.filter((l) => !l.endsWith("-j IP-MASQ-AGENT"));
    });
    enforcer.observe(await backend.read());
    await vi.advanceTimersByTimeAsync(0);
    expect(backend.state().postrouting.filter((l) => l.endsWith("-j IP-MASQ-AGENT"))).toHaveLength(
      1,
    );
    expect(results.at(-1)).toMatchObject({ trigger: "heal", ok: true, changed: true });
  });

  it("coalesces applies requested while one runs", async () => {
    const { backend, enforcer } = setup();
    await enforcer.start();
    await Promise.all(
      [1, 2, 3, 4].map((g) =>
        enforcer.receive({
          config: cfg([`10.${g}.0.0/16`]),
          revision: g,
          resourceVersion: `r${g}`,
        }),
      ),
    );
    expect(hasCidr(backend, "10.4.0.0/16")).toBe(true);
    expect(backend.writes()).toBeLessThanOrEqual(2);
  });
});

describe("observe mode", () => {
  it("never writes: not on start, receipt, resync or drift", async () => {
    await createStateStore(dir).save({
      v: 1,
      config: cfg(["10.0.0.0/8"]),
      revision: 1,
      resourceVersion: "r1",
      source: "dashboard",
      appliedAt: 1,
      fileHash: null,
    });
    vi.useFakeTimers();
    const { backend, results, enforcer } = setup({ mode: "observe", heal: "immediate" });
    await enforcer.start();
    await enforcer.receive({ config: cfg(["172.16.0.0/12"]), revision: 2, resourceVersion: "r2" });
    await enforcer.resync();
    expect(enforcer.observe(await backend.read())?.status).toBe("drifted");
    // Past any heal and resync a config could ask for (the 60 s default included).
    await vi.advanceTimersByTimeAsync(24 * 3_600_000);
    expect(backend.writes()).toBe(0);
    expect(results).toEqual([]);
    expect(enforcer.schedule()).toEqual({ heal: "immediate", resyncMs: null, nextResyncAt: null });
  });
});

describe("mounted config file", () => {
  it("is adopted at start, and again whenever it changes; an invalid edit is refused", async () => {
    const file = join(dir, "config");
    await writeFile(file, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const { backend, results, enforcer } = setup({ configFile: file, fileCheckMs: 40 });
    await enforcer.start();
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(true);
    await writeFile(file, "nonMasqueradeCIDRs: [100.64.0.0/10]\n");
    // The periodic check finds the edit.
    await vi.waitFor(() => expect(hasCidr(backend, "100.64.0.0/10")).toBe(true), CHECK_WAIT);
    await writeFile(file, "nonMasqueradeCIDRs: [100.64.0.1/10]\n");
    await enforcer.checkConfigFile();
    expect(hasCidr(backend, "100.64.0.0/10")).toBe(true);
    expect(results.at(-1)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/not aligned/),
    });
  });

  it("does not override a newer dashboard config while the file is unchanged, also after a restart", async () => {
    const file = join(dir, "config");
    await writeFile(file, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const first = setup({ configFile: file, fileCheckMs: HOUR });
    await first.enforcer.start();
    await first.enforcer.receive({
      config: cfg(["172.16.0.0/12"]),
      revision: 5,
      resourceVersion: "r5",
    });
    await first.enforcer.checkConfigFile();
    expect(hasCidr(first.backend, "172.16.0.0/12")).toBe(true);
    await first.enforcer.stop();
    const second = setup({ configFile: file, fileCheckMs: HOUR });
    await second.enforcer.start();
    expect(hasCidr(second.backend, "172.16.0.0/12")).toBe(true);
    expect(hasCidr(second.backend, "10.0.0.0/8")).toBe(false);
  });
});

describe("a file edit and a dashboard revision at once", () => {
  it("a revision received while the edited file is read again (its settle wait) is not overridden by the file", async () => {
    const file = join(dir, "config");
    await writeFile(file, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const { backend, enforcer } = setup({ configFile: file, fileCheckMs: HOUR });
    await enforcer.start();
    await writeFile(file, "nonMasqueradeCIDRs: [100.64.0.0/10]\n");
    const check = enforcer.checkConfigFile(); // read, then read again SETTLE_MS later
    await enforcer.receive({ config: cfg(["172.16.0.0/12"]), revision: 5, resourceVersion: "r5" });
    await check;
    expect(enforcer.desired()).toMatchObject({ revision: 5, source: "dashboard" });
    expect(hasCidr(backend, "172.16.0.0/12")).toBe(true);
    await enforcer.stop();
    const again = setup({ configFile: file, fileCheckMs: HOUR }); // restarted: the edit was seen
    await again.enforcer.start();
    expect(again.enforcer.desired()).toMatchObject({ revision: 5, source: "dashboard" });
  });
});

describe("a file edit and a failed apply of a dashboard revision", () => {
  const R4 = cfg(["172.16.0.0/12"]);
  const R5 = cfg(["192.168.0.0/16"]);
  /** A node on which R5's config cannot be applied (a broken iptables-restore for it). */
  function failingR5(file: string) {
    const backend = createMemoryBackend({
      flags: DEFAULT_FLAGS,
      failApply: (c) =>
        JSON.stringify(c) === JSON.stringify(R5) ? "iptables-restore: failed" : undefined,
    });
    return { ...setup({ backend, configFile: file, fileCheckMs: HOUR }), backend };
  }
  /** Started with the file, then revision 4 applied; the file's path. */
  async function appliedR4() {
    const file = join(dir, "config");
    await writeFile(file, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    const node = failingR5(file);
    await node.enforcer.start();
    await node.enforcer.receive({ config: R4, revision: 4, resourceVersion: "r4" });
    return { file, ...node };
  }

  it("a revision received while the edited file is read again fails to apply: after a restart the last applied one is enforced, not the edit it superseded", async () => {
    const { file, ...first } = await appliedR4();
    await writeFile(file, "nonMasqueradeCIDRs: [100.64.0.0/10]\n");
    const check = first.enforcer.checkConfigFile();
    await first.enforcer.receive({ config: R5, revision: 5, resourceVersion: "r5" });
    await check;
    expect(first.results.at(-1)).toMatchObject({ revision: 5, ok: false });
    expect(first.enforcer.appliedRevision()).toBe(4);
    expect(hasCidr(first.backend, "172.16.0.0/12")).toBe(true);
    await first.enforcer.stop();
    const again = failingR5(file);
    await again.enforcer.start();
    expect(again.enforcer.desired()).toMatchObject({ revision: 4, source: "dashboard" });
    expect(again.enforcer.appliedRevision()).toBe(4);
    expect(hasCidr(again.backend, "172.16.0.0/12")).toBe(true);
    expect(hasCidr(again.backend, "100.64.0.0/10")).toBe(false);
    expect(again.results).toEqual([expect.objectContaining({ revision: 4, ok: true })]);
  });

  it("a file edited to a revision that failed to apply: that revision is not kept as applied", async () => {
    const { file, ...first } = await appliedR4();
    await first.enforcer.receive({ config: R5, revision: 5, resourceVersion: "r5" });
    await writeFile(file, "nonMasqueradeCIDRs: [192.168.0.0/16]\n"); // R5's config
    await first.enforcer.checkConfigFile();
    expect(first.enforcer.desired()).toMatchObject({ revision: 5, source: "dashboard" });
    await first.enforcer.stop();
    const again = failingR5(file);
    await again.enforcer.start();
    expect(again.enforcer.appliedRevision()).toBe(4);
    expect(again.enforcer.desired()).toMatchObject({ revision: 4, source: "dashboard" });
    expect(hasCidr(again.backend, "172.16.0.0/12")).toBe(true);
  });
});

describe("mounted config directory (ip-masq-agent-v2's /etc/config)", () => {
  it("merges every ip-masq* file; a conflict is refused and the last good merge stays enforced", async () => {
    const conf = join(dir, "etc-config");
    await mkdir(conf);
    await writeFile(join(conf, "ip-masq-agent"), "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    await writeFile(
      join(conf, "ip-masq-agent-reconciled"),
      "nonMasqueradeCIDRs: [100.64.0.0/10]\n",
    );
    await writeFile(join(conf, "other"), "nonMasqueradeCIDRs: [192.0.2.0/24]\n");
    const { backend, results, enforcer } = setup({ configFile: conf, fileCheckMs: HOUR });
    await enforcer.start();
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(true);
    expect(hasCidr(backend, "100.64.0.0/10")).toBe(true);
    expect(hasCidr(backend, "192.0.2.0/24")).toBe(false);
    await writeFile(join(conf, "ip-masq-team"), "resyncInterval: 5s\n");
    await writeFile(
      join(conf, "ip-masq-agent"),
      "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 10s\n",
    );
    await enforcer.checkConfigFile();
    expect(results.at(-1)).toMatchObject({
      ok: false,
      error: expect.stringMatching(/the files conflict: resyncInterval differs between sources/),
    });
    expect(hasCidr(backend, "100.64.0.0/10")).toBe(true);
    await writeFile(join(conf, "ip-masq-team"), "nonMasqueradeCIDRs: [198.51.100.0/24]\n");
    await enforcer.checkConfigFile();
    expect(hasCidr(backend, "198.51.100.0/24")).toBe(true);
    expect(hasCidr(backend, "10.0.0.0/8")).toBe(true);
    expect(results.at(-1)).toMatchObject({ ok: true });
  });
});

describe("Windows CNI backend", () => {
  async function windowsSetup(fixture: string, opts: Partial<EnforcerOptions> = {}) {
    const path = join(dir, "10-flannel.conf");
    await writeFile(path, await readFile(join(FIXTURES, fixture)));
    const backend = createWindowsCniBackend({ path, flags: DEFAULT_FLAGS });
    const results: ApplyResult[] = [];
    const seen: Observed[] = [];
    enforcer = createEnforcer({
      backend,
      mode: "enforce",
      heal: "immediate",
      onResult: (r) => results.push(r),
      onSnapshots: (o) => seen.push(o),
      ...opts,
    });
    return { path, backend, results, seen, enforcer };
  }

  it("applies, and hands the file's snapshot (not Linux families) to the agent", async () => {
    const { path, results, seen, enforcer } = await windowsSetup("win-bridge-v1.conf");
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 1, resourceVersion: "r1" });
    expect(results).toEqual([expect.objectContaining({ ok: true, changed: true, revision: 1 })]);
    expect(seen).toEqual([
      {
        path,
        lists: [
          {
            pointer: "/policies/0/value/ExceptionList",
            form: "EndpointPolicy",
            exceptions: ["10.0.0.0/8", "169.254.0.0/16"],
          },
        ],
      },
    ]);
  });

  it("a refused config sends no snapshot and leaves the file alone", async () => {
    const { path, results, seen, enforcer } = await windowsSetup("win-bridge-v1.conf");
    const before = await readFile(path, "utf8");
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.1/8"]), revision: 1, resourceVersion: "r1" });
    expect(results).toEqual([expect.objectContaining({ ok: false })]);
    expect(seen).toEqual([]);
    expect(await readFile(path, "utf8")).toBe(before);
  });

  it("heal=immediate does not retry what no rewrite can fix (no OutBoundNAT policy)", async () => {
    vi.useFakeTimers();
    const { backend, results, enforcer } = await windowsSetup("win-overlay-no-policy.conf");
    await enforcer.start();
    await enforcer.receive({ config: cfg(["10.0.0.0/8"]), revision: 1, resourceVersion: "r1" });
    expect(results).toEqual([
      expect.objectContaining({ ok: false, error: expect.stringMatching(/no OutBoundNAT/) }),
    ]);
    expect(enforcer.observe(await backend.read())?.summary).toBe("OutBoundNAT policy missing");
    // An hour of heal and resync timers: still the one refused apply.
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(results.filter((r) => r.trigger !== "periodic")).toHaveLength(1);
  });
});
