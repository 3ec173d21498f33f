// The real iptables backend inside throwaway network namespaces: apply, idempotence,
// atomicity, verification with rollback, reads of missing/unreadable chains, legacy, IPv6.
import {
  assessLinux,
  chainLines,
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  snapshotOf,
} from "@masq/shared";
import { inNetns, jumpCount, natRules, netnsPool } from "@masq/testkit/netns";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { wrapperDir } from "./helpers/wrappers.js";

const pool = netnsPool();
let wrappers = wrapperDir();
afterEach(() => {
  pool.cleanup();
  wrappers.cleanup();
  wrappers = wrapperDir();
});
afterAll(() => wrappers.cleanup());

const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });
const KUBE_POST = ["-N", "KUBE-POSTROUTING"];
const CHAIN = "IP-MASQ-AGENT";

/** Restores, then (the first time only) slips in a rule of "someone else" before the read-back. */
function racyRestore(): string {
  const once = `${wrappers.dir}/raced`;
  return wrappers.script(
    "racy-restore",
    `if [ -e ${once} ]; then exec iptables-restore "$@"; fi\ntouch ${once}\niptables-restore "$@" && iptables -w -t nat -I ${CHAIN} 1 -d 203.0.113.0/24 -j RETURN`,
  );
}

function returnsOf(ns: string, tool = "iptables"): string[] {
  return natRules(ns, CHAIN, tool).flatMap((l) =>
    l.endsWith("-j RETURN") ? [/-d (\S+)/.exec(l)![1]!] : [],
  );
}

describe("iptables backend (nf_tables)", () => {
  it("applies a config atomically: the chain, its rules and exactly one jump", async () => {
    const ns = pool.add("apply");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect(await b.read()).toEqual([
      snapshotOf({ family: "ipv4", chain: null, postrouting: ["-P POSTROUTING ACCEPT"] }),
    ]);
    const o = await b.apply(cfg(["10.0.0.0/8", "100.64.0.0/10"]), "cli");
    expect(o).toMatchObject({ ok: true, changed: true, rolledBack: false });
    expect(returnsOf(ns)).toEqual(["169.254.0.0/16", "10.0.0.0/8", "100.64.0.0/10"]);
    expect(natRules(ns, CHAIN).at(-1)).toMatch(/-j MASQUERADE --random-fully$/);
    expect(jumpCount(ns)).toBe(1);
    const report = assessLinux(
      cfg(["10.0.0.0/8", "100.64.0.0/10"]),
      DEFAULT_FLAGS,
      await b.read(),
    ).report;
    expect(report).toMatchObject({ status: "in-sync", differences: [] });
  });

  it("is idempotent: many applies and config changes leave one jump; no write when nothing changed", async () => {
    const ns = pool.add("idem");
    inNetns(ns, ["iptables", "-t", "nat", ...KUBE_POST]);
    inNetns(ns, [
      "iptables",
      "-t",
      "nat",
      "-A",
      "POSTROUTING",
      "-m",
      "comment",
      "--comment",
      "kubernetes postrouting rules",
      "-j",
      "KUBE-POSTROUTING",
    ]);
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    for (let i = 0; i < 8; i++) {
      const o = await b.apply(cfg([i % 2 ? "10.0.0.0/8" : "192.168.0.0/16"]), "desired");
      expect(o).toMatchObject({ ok: true, changed: true });
    }
    expect((await b.apply(cfg(["10.0.0.0/8"]), "periodic")).changed).toBe(false);
    expect(jumpCount(ns)).toBe(1);
    expect(natRules(ns, "POSTROUTING")[1]).toMatch(/KUBE-POSTROUTING/); // someone else's rule stays first
    expect(returnsOf(ns)).toEqual(["169.254.0.0/16", "10.0.0.0/8"]);
  });

  it("collapses duplicate and modified jumps to one exact jump in the same transaction", async () => {
    const ns = pool.add("dup");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    await b.apply(cfg(["10.0.0.0/8"]), "cli");
    const jump = natRules(ns, "POSTROUTING").find((l) => l.endsWith(`-j ${CHAIN}`))!;
    inNetns(
      ns,
      ["iptables-restore", "--noflush"],
      `*nat\n${jump}\n-A POSTROUTING -s 10.0.0.0/8 -j ${CHAIN}\nCOMMIT\n`,
    );
    expect(jumpCount(ns)).toBe(3);
    expect((await b.apply(cfg(["10.0.0.0/8"]), "heal")).ok).toBe(true);
    expect(natRules(ns, "POSTROUTING").filter((l) => l.includes(CHAIN))).toEqual([jump]);
  });

  it("a failing iptables-restore leaves the previous rules exactly as they were", async () => {
    const ns = pool.add("atomic");
    const good = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    await good.apply(cfg(["10.0.0.0/8", "172.16.0.0/12"]), "cli");
    const before = [natRules(ns, CHAIN), natRules(ns, "POSTROUTING")];
    // The payload gets one bad rule at the end: the kernel must reject the whole transaction,
    // including the flush of the chain and every good rule before it.
    const broken = wrappers.script(
      "broken-restore",
      `awk '/^COMMIT$/ { print "-A ${CHAIN} -j NO-SUCH-TARGET-IMR" } { print }' | exec iptables-restore "$@"`,
    );
    const b = createIptablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      binaries: { iptablesRestore: broken },
    });
    const o = await b.apply(cfg(["192.168.0.0/16"]), "desired");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/failed: .*NO-SUCH-TARGET-IMR/);
    expect([natRules(ns, CHAIN), natRules(ns, "POSTROUTING")]).toEqual(before);
  });

  it("restores the previous rules when the read-back differs (chain existed)", async () => {
    const ns = pool.add("rollback");
    const good = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    await good.apply(cfg(["10.0.0.0/8"]), "cli");
    const before = [natRules(ns, CHAIN), natRules(ns, "POSTROUTING")];
    // Restore succeeds, then "someone" slips in a rule before our read-back.
    const racy = racyRestore();
    const b = createIptablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      binaries: { iptablesRestore: racy },
    });
    const o = await b.apply(cfg(["192.168.0.0/16"]), "desired");
    expect(o).toMatchObject({ ok: false, rolledBack: true });
    expect(o.error).toMatch(/verification failed.*203\.0\.113\.0\/24.*previous rules restored/);
    expect([natRules(ns, CHAIN), natRules(ns, "POSTROUTING")]).toEqual(before);
  });

  it("removes the chain and jump it created when verification of a first apply fails", async () => {
    const ns = pool.add("rbnew");
    inNetns(ns, [
      "iptables",
      "-t",
      "nat",
      "-A",
      "POSTROUTING",
      "-d",
      "198.51.100.0/24",
      "-j",
      "ACCEPT",
    ]);
    const racy = racyRestore();
    const b = createIptablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      binaries: { iptablesRestore: racy },
    });
    const o = await b.apply(cfg(["10.0.0.0/8"]), "startup");
    expect(o).toMatchObject({ ok: false, rolledBack: true });
    expect(natRules(ns, CHAIN)).toEqual([]);
    expect(natRules(ns, "POSTROUTING")).toEqual([
      "-P POSTROUTING ACCEPT",
      "-A POSTROUTING -d 198.51.100.0/24 -j ACCEPT",
    ]);
    const [after] = await b.read();
    expect(chainLines(after!, CHAIN)).toBeNull();
    expect(after?.readError).toBeUndefined();
  });

  it("refuses an invalid config without touching the node", async () => {
    const ns = pool.add("refuse");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    await b.apply(cfg(["10.0.0.0/8"]), "cli");
    const before = natRules(ns, CHAIN);
    const o = await b.apply(cfg(["10.0.0.0/33"]), "desired");
    expect(o).toMatchObject({ ok: false, changed: false });
    expect(o.error).toMatch(/config refused/);
    expect(natRules(ns, CHAIN)).toEqual(before);
  });

  it("reports a chain iptables cannot list as a read error, not as missing", async () => {
    const ns = pool.add("nftonly");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    await b.apply(cfg(["10.0.0.0/8"]), "cli");
    inNetns(ns, ["nft", "add", "rule", "ip", "nat", CHAIN, "meta", "mark", "set", "1"]);
    const [snap] = await b.read();
    expect(snap?.readError).toBeTruthy();
    expect(assessLinux(cfg(["10.0.0.0/8"]), DEFAULT_FLAGS, await b.read()).report.status).toBe(
      "drifted",
    );
    // An apply refuses to write blind.
    const o = await b.apply(cfg(["10.0.0.0/8"]), "heal");
    expect(o.ok).toBe(false);
    expect(o.error).toMatch(/cannot read current rules/);
  });

  it("detects the backend and --random-fully support", async () => {
    const info = await createIptablesBackend({ flags: DEFAULT_FLAGS }).info();
    expect(info).toMatchObject({ backend: "nf_tables", randomFullySupported: true, monitor: true });
    expect(info.iptablesVersion).toMatch(/^v\d+\.\d+/);
  });

  it("manages ip6tables too when IPv6 is enabled", async () => {
    const ns = pool.add("v6");
    const flags = { ...DEFAULT_FLAGS, enableIPv6: true };
    const b = createIptablesBackend({ netns: ns, flags });
    const o = await b.apply(cfg(["10.0.0.0/8", "fd00::/8"]), "cli");
    expect(o.ok).toBe(true);
    expect(returnsOf(ns, "ip6tables")).toEqual(["fe80::/10", "fd00::/8"]);
    expect(returnsOf(ns)).toEqual(["169.254.0.0/16", "10.0.0.0/8"]);
    expect(jumpCount(ns, CHAIN, "ip6tables")).toBe(1);
  });
});

describe("iptables backend (legacy)", () => {
  it("applies, verifies and reads with iptables-legacy; polls instead of following a monitor", async () => {
    const ns = pool.add("legacy");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS, variant: "legacy" });
    expect(await b.info()).toMatchObject({ backend: "legacy", monitor: false });
    const [before] = await b.read();
    expect(before).toMatchObject({
      backend: "legacy",
      chains: [{ name: "POSTROUTING" }, { name: CHAIN, lines: null }],
    });
    expect(before?.readError).toBeUndefined();
    const o = await b.apply(cfg(["10.0.0.0/8"]), "cli");
    expect(o).toMatchObject({ ok: true, changed: true });
    expect((await b.apply(cfg(["10.0.0.0/8"]), "cli")).changed).toBe(false);
    expect(returnsOf(ns, "iptables-legacy")).toEqual(["169.254.0.0/16", "10.0.0.0/8"]);
    expect(jumpCount(ns, CHAIN, "iptables-legacy")).toBe(1);
    let polls = 0;
    const w = b.watch(() => polls++);
    await new Promise((r) => setTimeout(r, 50));
    w.close();
    expect(polls).toBe(0); // the default poll is 10 s, and no monitor runs on legacy
  });
});
