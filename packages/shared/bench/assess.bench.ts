// Issue 17: what judging one node costs after a config push when every node's rules are its
// own (flannel's RETURNs for the node's pod /24, the AWS VPC CNI's SNAT to the node's address,
// Cilium's pod CIDR), so the dashboard's cache of assessments by snapshot content never hits.
// N nodes of one kind are judged with one config, then after each of three changes to it with
// their post-apply snapshots (the agent chain rewritten), decoded fresh from JSON as frames
// are: µs per node without an AssessCache (the reference) and with one for all nodes.
import { loadavg } from "node:os";
import { OWN_RULE_KINDS, type OwnRuleKind, ownRulesSnapshot } from "@masq/testkit/own-rules-nodes";
import type { BenchResult } from "../../../bench/types.js";
import {
  AssessCache,
  assessLinux,
  DEFAULT_FLAGS,
  defaultConfig,
  type FamilySnapshot,
  type MasqConfig,
} from "../src/index.js";
import { median } from "./kube-dump.js";

const NODES = Number(process.env.ASSESS_BENCH_NODES ?? 2000);
const BASE = defaultConfig();
/** The config before, and the three pushes after (each adds or drops a CIDR). */
const PUSHES: MasqConfig[] = [
  BASE,
  { ...BASE, nonMasqueradeCIDRs: [...BASE.nonMasqueradeCIDRs, "100.64.0.0/10"] },
  { ...BASE, nonMasqueradeCIDRs: [...BASE.nonMasqueradeCIDRs, "198.18.0.0/15"] },
  { ...BASE, nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] },
];

/** Every node's snapshot after applying `config`, as the dashboard decodes it from a frame. */
function snapshots(kind: OwnRuleKind, config: MasqConfig): FamilySnapshot[] {
  const snaps = Array.from({ length: NODES }, (_, i) => ownRulesSnapshot(kind, i, config));
  return JSON.parse(JSON.stringify(snaps)) as FamilySnapshot[];
}

/**
 * `fresh`'s snapshots with every chain but the agent's as `before` had them (the same arrays),
 * as a dashboard that keeps each chain's rules by digest between pushes would hold them.
 */
function keptChains(before: FamilySnapshot[] | undefined, fresh: FamilySnapshot[]) {
  if (!before) return fresh;
  return fresh.map((s, i) => ({
    ...s,
    chains: s.chains.map((c, j) =>
      c.name === DEFAULT_FLAGS.masqChain ? c : (before[i]!.chains[j] ?? c),
    ),
  }));
}

/**
 * CPU µs per node of each push after the first (the first warms the cache as a running
 * dashboard's is): process.cpuUsage, user + system, not wall time, so other work on a shared
 * machine inflates it less (it still runs slower on busy cores).
 */
function perPush(kind: OwnRuleKind, cached: boolean, kept = false): number[] {
  const cache = cached ? new AssessCache() : undefined;
  let before: FamilySnapshot[] | undefined;
  return PUSHES.map((config) => {
    const snaps = kept ? keptChains(before, snapshots(kind, config)) : snapshots(kind, config);
    before = snaps;
    const c0 = process.cpuUsage();
    for (const s of snaps) assessLinux(config, DEFAULT_FLAGS, [s], cache);
    const { user, system } = process.cpuUsage(c0);
    return (user + system) / NODES;
  }).slice(1);
}

function row(kind: OwnRuleKind): BenchResult {
  perPush(kind, true); // warm-up (JIT)
  const before = median(perPush(kind, false));
  const after = median(perPush(kind, true));
  const kept = median(perPush(kind, true, true));
  const rules = ownRulesSnapshot(kind, 0, BASE).chains.reduce(
    (n, c) => n + (c.lines ?? []).filter((l) => l.startsWith("-A")).length,
    0,
  );
  return {
    id: `assess-own-rules-${kind}`,
    issue: 17,
    name: `judge one node whose rules are its own (${kind}, ${rules} rules) after a config push`,
    value: Math.round(after),
    unit: "µs",
    notes: `with one AssessCache for ${NODES} nodes (each distinct chain parsed once, the agent chain summarised once, the desired chain once per revision); without: ${before.toFixed(0)} µs; with the node's other chains' arrays kept between pushes (as rules held by digest per chain would be): ${kept.toFixed(0)} µs; median of 3 pushes, CPU time (user + system), load average ${loadavg()[0]!.toFixed(1)} at the end, snapshots decoded from JSON as frames are; the issue's ≤ 30 µs is for the dashboard's whole work per node and push`,
  };
}

export default async function assessBench(): Promise<BenchResult[]> {
  const only = process.env.ASSESS_BENCH_KIND;
  return OWN_RULE_KINDS.filter((k) => !only || k === only).map(row);
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await assessBench(), null, 2));
