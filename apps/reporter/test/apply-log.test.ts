// The "apply finished" log line of the iptables and the nftables backend, on real rules in
// throwaway network namespaces: the same fields in both, on every apply (one that writes, one
// with nothing to write). A new user grepping `changed` found it in iptables' lines only.
import { DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import { netnsPool } from "@masq/testkit/netns";
import { afterEach, describe, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { createNftablesBackend } from "../src/backend/nftables.js";
import type { LinuxBackend, NftablesBackend } from "../src/backend/types.js";
import { createLogger, type Logger } from "../src/log.js";

const pool = netnsPool();
afterEach(() => pool.cleanup());

/** A logger whose lines are kept, parsed. */
function captured(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = { write: (l: string) => void lines.push(JSON.parse(l)) };
  return { logger: createLogger({ level: "debug", destination }), lines };
}

type Make = (ns: string, logger: Logger) => LinuxBackend | NftablesBackend;
const backends: { desc: string; make: Make }[] = [
  {
    desc: "iptables",
    make: (ns, logger) => createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS, logger }),
  },
  {
    desc: "nftables",
    make: (ns, logger) =>
      createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS, logger, monitor: false }),
  },
];

/** The apply lines of two applies (one writes, the next has nothing to write). */
async function applyLines(make: Make) {
  const { logger, lines } = captured();
  const b = make(pool.add("alog"), logger);
  expect((await b.apply(defaultConfig(), "desired")).ok).toBe(true);
  expect((await b.apply(defaultConfig(), "periodic")).ok).toBe(true);
  return lines
    .filter((l) => l.msg === "apply finished")
    .map(({ level, time, pid, hostname, app, msg, ...fields }) => fields);
}

describe("the apply log line", () => {
  it.each(backends)(
    "$desc: one per apply, with trigger, ok, changed, rolledBack",
    async ({ make }) => {
      const got = await applyLines(make);
      expect(got.map(({ migrated: _, ...common }) => common)).toEqual([
        { trigger: "desired", ok: true, changed: true, rolledBack: false },
        { trigger: "periodic", ok: true, changed: false, rolledBack: false },
      ]);
    },
  );

  it("both backends log the same fields (nftables adds only whether it migrated)", async () => {
    const [ipt, nft] = await Promise.all(backends.map((b) => applyLines(b.make)));
    const keys = (ls: Record<string, unknown>[]) => ls.map((l) => Object.keys(l).sort());
    expect(keys(nft!).map((k) => k.filter((x) => x !== "migrated"))).toEqual(keys(ipt!));
    expect(nft!.map((l) => l.migrated)).toEqual([false, false]);
  });
});
