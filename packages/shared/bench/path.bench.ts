// Issue 11: the path analysis stays cheap. (1) The issue's item-1 node (kube-proxy, a CNI bridge
// chain, the agent) inside a 100,000-rule kube-proxy nat table, parsed and analysed as
// `ipmasq why --from` does. (2) What the reporter and the dashboard do per snapshot: analyse the
// chains on the path (POSTROUTING, KUBE-POSTROUTING, one CNI bridge chain per pod, the agent's)
// and answer one question, for nodes with 10 and 110 pods (kubelet's default maximum).
import { performance } from "node:perf_hooks";
import { bridgePodsNode, ISSUE_ITEM1_NODE } from "@masq/testkit/node-dumps";
import type { BenchResult } from "../../../bench/types.js";
import { MAX_LISTED_OUTCOMES } from "../src/analysis/evaluate.js";
import { analyzeRuleset, evaluate, type FamilyAnalysis, parseIptables } from "../src/index.js";
import { opaqueReturnsNode } from "../src/test-fixtures/opaque.js";
import { kubeDumpWith, median } from "./kube-dump.js";

/** The item-1 node's chains and rules spliced into kube-proxy's table (whose KUBE-POSTROUTING it keeps). */
function item1InKubeTable(rules: number): string {
  const item1 = ISSUE_ITEM1_NODE.split("\n").filter(
    (l) => (l.startsWith(":") || l.startsWith("-A")) && !l.includes("KUBE-POSTROUTING"),
  );
  return kubeDumpWith(rules, item1);
}

function check(a: FamilyAnalysis, errors: number): void {
  const v = evaluate(a, "8.8.8.8", { mark: 0 });
  if (errors > 0 || "error" in v || v.masqueraded !== true || a.unknowns.length > 0)
    throw new Error("benchmark input did not analyse as expected");
}

function timeDump(text: string): number {
  const t0 = performance.now();
  const { ruleset, errors } = parseIptables(text);
  check(analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT"), errors.length);
  return performance.now() - t0;
}

/**
 * µs per snapshot, as the reporter and the dashboard assess one: analyse every outcome for
 * every packet from the parsed path chains (parsing is parse.bench's; the answer to one
 * question is checked, not timed).
 */
function perSnapshot(text: string, rounds: number): number {
  const { ruleset, errors } = parseIptables(text);
  let a: FamilyAnalysis | undefined;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) a = analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT");
  const us = ((performance.now() - t0) / rounds) * 1000;
  check(a!, errors.length);
  return us;
}

/** µs to parse the path chains' -S lines. */
function perParse(text: string, rounds: number): number {
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) parseIptables(text);
  return ((performance.now() - t0) / rounds) * 1000;
}

/** µs to answer one question (source unknown: every pod's chain is a branch). */
function perQuestion(text: string, rounds: number): number {
  const a = analyzeRuleset(parseIptables(text).ruleset, "ipv4", "IP-MASQ-AGENT");
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) evaluate(a, "8.8.8.8", { mark: 0 });
  return ((performance.now() - t0) / rounds) * 1000;
}

/** ms and answer size of one question on a chain of 5,000 rules the packet cannot decide. */
function opaqueChain(): { ms: number; bytes: number; bound: boolean } {
  const a = analyzeRuleset(parseIptables(opaqueReturnsNode(5000)).ruleset, "ipv4", "X");
  const t0 = performance.now();
  const v = evaluate(a, "198.51.100.2");
  const ms = performance.now() - t0;
  if ("error" in v) throw new Error(v.error);
  return { ms, bytes: JSON.stringify(v).length, bound: v.unknowns.some((u) => u.kind === "bound") };
}

export default async function pathBench(): Promise<BenchResult[]> {
  const dump = item1InKubeTable(100_000);
  timeDump(dump); // warm-up (JIT)
  const tDump = median([1, 2, 3, 4, 5].map(() => timeDump(dump)));
  const small = bridgePodsNode(10);
  const big = bridgePodsNode(110);
  perSnapshot(big, 50); // warm-up
  const us10 = median([1, 2, 3].map(() => perSnapshot(small, 500)));
  const us110 = median([1, 2, 3].map(() => perSnapshot(big, 100)));
  const rules = (t: string) => t.split("\n").filter((l) => l.startsWith("-A")).length;
  const ratio = us110 / rules(big) / (us10 / rules(small));
  opaqueChain(); // warm-up
  const opaque = [1, 2, 3].map(() => opaqueChain());
  const opaqueMs = median(opaque.map((o) => o.ms));
  return [
    {
      id: "path-item1-in-100k",
      issue: 11,
      name: "parse + analyse the item-1 node inside a 100,000-rule kube-proxy nat dump",
      value: Math.round(tDump),
      unit: "ms",
      target: "≤ 1000 ms",
      pass: tDump <= 1000,
      notes:
        "median of 5 after a warm-up; the whole path from POSTROUTING (KUBE-POSTROUTING, the CNI bridge chain, IP-MASQ-AGENT) plus evaluate(8.8.8.8, mark 0); kube-proxy's service chains are not on the path",
    },
    {
      id: "path-snapshot-110-pods",
      issue: 11,
      name: "path analysis of one snapshot, node with 110 pods (one CNI bridge chain each)",
      value: Math.round(us110),
      unit: "µs",
      target: "≤ 5000 µs",
      pass: us110 <= 5000,
      notes: `${rules(big)} rules: every outcome for every packet (source and destination unknown), from the parsed chains; median of 3 × 100. 10 pods (${rules(small)} rules): ${us10.toFixed(0)} µs. Parsing the -S lines before: ${perParse(big, 100).toFixed(0)} µs; one why/tester question after (8.8.8.8, source not given): ${perQuestion(big, 100).toFixed(0)} µs`,
    },
    {
      id: "path-snapshot-linearity",
      issue: 11,
      name: "path analysis cost per rule at 110 vs 10 pods",
      value: Number(ratio.toFixed(2)),
      unit: "×",
      target: "≈ 1 (linear)",
      pass: ratio < 2,
      notes: `${(us10 / rules(small)).toFixed(2)} µs/rule at 10 pods, ${(us110 / rules(big)).toFixed(2)} µs/rule at 110 pods`,
    },
    {
      id: "path-opaque-5000",
      issue: 11,
      name: "one question on a chain of 5,000 rules the packet cannot decide (`-o vethN -j ACCEPT`)",
      value: Math.round(opaqueMs),
      unit: "ms",
      target: "≤ 1000 ms, answer ≤ 1 MB, bound named",
      pass: opaqueMs <= 1000 && opaque[0]!.bytes <= 1_000_000 && opaque[0]!.bound,
      notes: `median of 3 after a warm-up; the work bound (rule visits and facts carried over at forks) ends the walk with an explicit unknown; the JSON answer is ${opaque[0]!.bytes} bytes (branches past ${MAX_LISTED_OUTCOMES} folded per result, conditions past 16 counted)`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await pathBench(), null, 2));
