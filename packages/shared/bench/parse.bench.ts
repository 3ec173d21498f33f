// Issue 2: parsing and analysis are linear, and a 100,000-line iptables-save dump parses and
// analyses in under 1 s.
import { performance } from "node:perf_hooks";
import type { BenchResult } from "../../../bench/types.js";
import {
  analyzeRuleset,
  DEFAULT_FLAGS,
  defaultConfig,
  evaluate,
  jumpRuleLine,
  parseIptables,
  renderRestorePayload,
} from "../src/index.js";
import { kubeDumpWith, median } from "./kube-dump.js";

/** kube-proxy's table plus the agent's chain and jump, as iptables-save prints one node. */
function dump(lines: number): string {
  const agent = renderRestorePayload(defaultConfig(), DEFAULT_FLAGS, "ipv4")
    .split("\n")
    .filter((l) => l.startsWith(":") || l.startsWith("-A"));
  return kubeDumpWith(lines, [...agent, jumpRuleLine("IP-MASQ-AGENT")]);
}

function timeOnce(text: string): number {
  const t0 = performance.now();
  const { ruleset, errors } = parseIptables(text);
  const a = analyzeRuleset(ruleset, "ipv4", "IP-MASQ-AGENT");
  // kube-proxy's KUBE-POSTROUTING masquerades packets it marked: ask for an unmarked one.
  const v = evaluate(a, "8.8.8.8", { mark: 0 });
  const ms = performance.now() - t0;
  if (errors.length > 0 || "error" in v || !v.masqueraded || a.jumps.length !== 1)
    throw new Error("benchmark dump did not parse as expected");
  return ms;
}

export default async function parseBench(): Promise<BenchResult[]> {
  const sizes = [25_000, 50_000, 100_000, 200_000];
  const perSize = new Map<number, number>();
  for (const n of sizes) {
    const text = dump(n);
    timeOnce(text); // warm-up (JIT)
    perSize.set(n, median([1, 2, 3, 4, 5].map(() => timeOnce(text))));
  }
  const t100 = perSize.get(100_000)!;
  const perK = sizes.map((n) => perSize.get(n)! / (n / 1000));
  const ratio = perK[perK.length - 1]! / perK[0]!;
  return [
    {
      id: "parse-analyze-100k",
      issue: 2,
      name: "parse + analyse a 100,000-line iptables-save nat dump",
      value: Math.round(t100),
      unit: "ms",
      target: "≤ 1000 ms",
      pass: t100 <= 1000,
      notes:
        "median of 5 after a warm-up; kube-proxy-style services (statistic, DNAT, comments) plus IP-MASQ-AGENT and its jump; includes the path analysis and evaluate(8.8.8.8, mark 0)",
    },
    {
      id: "parse-linearity",
      issue: 2,
      name: "cost per 1,000 lines at 200k vs 25k lines",
      value: Number(ratio.toFixed(2)),
      unit: "×",
      target: "≈ 1 (linear)",
      pass: ratio < 1.5,
      notes: sizes
        .map(
          (n, i) => `${n / 1000}k: ${perSize.get(n)!.toFixed(0)} ms (${perK[i]!.toFixed(2)} ms/1k)`,
        )
        .join("; "),
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  console.log(JSON.stringify(await parseBench(), null, 2));
