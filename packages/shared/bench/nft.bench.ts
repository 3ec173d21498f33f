// Issue 15: the nftables analysis stays cheap. What the dashboard does per snapshot of a
// native nftables node (parse `nft -j`, analyse every nat postrouting chain, judge the agent's
// table: assessNft) and what one why/tester question costs, on real nft output (kube-proxy's
// nftables table beside the agent's) with the agent's set at 64 and at 4,096 CIDRs.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { nftDump } from "@masq/testkit/nft-dumps";
import type { BenchResult } from "../../../bench/types.js";
import {
  assessNft,
  DEFAULT_FLAGS,
  defaultConfig,
  evaluateNft,
  type MasqConfig,
  type NftSnapshot,
} from "../src/index.js";
import { median } from "./kube-dump.js";

/** `n` disjoint /20 blocks inside 10.0.0.0/8 and beyond it (n ≤ 4,096). */
function cidrs(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `10.${i >> 4}.${(i & 15) * 16}.0/20`);
}

/** The kube-proxy + agent node as read, its agent set holding the config's CIDRs. */
function node(config: MasqConfig): NftSnapshot {
  const json = nftDump("kube-proxy-agent") as { nftables: Record<string, unknown>[] };
  const elem = [...config.nonMasqueradeCIDRs, "169.254.0.0/16"].map((c) => {
    const [addr, len] = c.split("/");
    return { prefix: { addr, len: Number(len) } };
  });
  const ruleset = json.nftables.map((o) =>
    "set" in o ? { set: { ...(o.set as object), elem } } : o,
  ) as NftSnapshot["ruleset"];
  return { backend: "nftables", ruleset };
}

function perSnapshot(config: MasqConfig, snap: NftSnapshot, rounds: number): number {
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const a = assessNft(config, DEFAULT_FLAGS, snap);
    if (a.report.status !== "in-sync") throw new Error(`not in sync: ${a.report.summary}`);
  }
  return ((performance.now() - t0) / rounds) * 1000;
}

function perQuestion(config: MasqConfig, snap: NftSnapshot, rounds: number): number {
  const fa = assessNft(config, DEFAULT_FLAGS, snap).families[0]!;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    const v = evaluateNft(fa, "203.0.113.9", { mark: 0 });
    if ("error" in v || v.masqueraded !== true) throw new Error("unexpected answer");
  }
  return ((performance.now() - t0) / rounds) * 1000;
}

export default async function nftBench(): Promise<BenchResult[]> {
  const small = { ...defaultConfig(), nonMasqueradeCIDRs: cidrs(64), cidrLimit: 4096 };
  const big = { ...defaultConfig(), nonMasqueradeCIDRs: cidrs(4096), cidrLimit: 4096 };
  const [s, b] = [node(small), node(big)];
  perSnapshot(big, b, 5); // warm-up
  const us64 = median([1, 2, 3].map(() => perSnapshot(small, s, 50)));
  const us4096 = median([1, 2, 3].map(() => perSnapshot(big, b, 10)));
  const q64 = median([1, 2, 3].map(() => perQuestion(small, s, 200)));
  const q4096 = median([1, 2, 3].map(() => perQuestion(big, b, 200)));
  return [
    {
      id: "nft-assess-4096",
      issue: 15,
      name: "assessNft of an nftables node (kube-proxy's table + the agent's, set of 4,096 CIDRs)",
      value: Math.round(us4096),
      unit: "µs",
      target: "≤ 50000 µs",
      pass: us4096 <= 50_000,
      notes: `parse nft -j, analyse every nat postrouting chain, judge the table; median of 3 × 10 (load average ${loadavg()[0]!.toFixed(1)} while measured). With 64 CIDRs: ${us64.toFixed(0)} µs. The dashboard judges each distinct snapshot once (cached by content)`,
    },
    {
      id: "nft-why-4096",
      issue: 15,
      name: "one why/tester question on that node (set of 4,096 CIDRs)",
      value: Math.round(q4096),
      unit: "µs",
      target: "≤ 1000 µs",
      pass: q4096 <= 1000,
      notes: `evaluateNft(203.0.113.9, mark 0) folding both chains: the set is one lookup, not one rule per CIDR. With 64 CIDRs: ${q64.toFixed(0)} µs`,
    },
  ];
}
