// Issues 3 and 11: reading a node whose nat table holds 100,000 kube-proxy-style rules costs at
// most 15 ms of reporter work per snapshot (issue 3 set 10 ms for two chains; issue 11 reads
// the whole POSTROUTING path: KUBE-POSTROUTING, three CNI bridge chains, the agent chain),
// including parsing, drift assessment and the message, compared with dumping the table with
// `iptables-save -t nat`.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import type { BenchResult } from "../../../bench/types.js";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { BENCH_PODS, bigNode, buildReporter, run } from "./kube-nat.js";
import { type Cost, measure } from "./snapshot-cost.js";

interface SnapshotCost extends Cost {
  /** Chains in the snapshot. */
  chains: number;
  /** CPU of the first snapshot: backend detection and a walk level by level. */
  firstCpuMs: number;
  /** CPU of listing the same chains one `iptables -S` process each. */
  perChainCpuMs: number;
}

const ROUNDS = 200;

/**
 * The built reporter code taking snapshots: inside the node's namespace as a DaemonSet runs it,
 * or from the host through `--netns` wrapping.
 */
function snapshotCost(ns: string, how: "inside" | "wrapped"): SnapshotCost {
  buildReporter();
  const worker = [process.execPath, join(import.meta.dirname, "snapshot-cost.mjs"), String(ROUNDS)];
  const r = run(how === "inside" ? ["ip", "netns", "exec", ns, ...worker] : [...worker, ns]);
  if (r.code !== 0) throw new Error(`snapshot-cost failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as SnapshotCost;
}

export default async function readBench(): Promise<BenchResult[]> {
  const node = bigNode(100_000);
  const applied = await createIptablesBackend({ netns: node.ns, flags: DEFAULT_FLAGS }).apply(
    defaultConfig(),
    "cli",
  );
  if (!applied.ok) throw new Error(`apply failed: ${applied.error}`);
  const inside = snapshotCost(node.ns, "inside");
  const wrapped = snapshotCost(node.ns, "wrapped");
  const save = await measure(1, () => {
    const r = run(["ip", "netns", "exec", node.ns, "iptables-save", "-t", "nat"]);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  return [
    {
      id: "reporter-snapshot-100k",
      issue: 11,
      name: "reporter work per snapshot, nat table of 100,000 rules, whole POSTROUTING path",
      value: Number(inside.cpuMs.toFixed(1)),
      unit: "ms CPU",
      target: "≤ 15 ms",
      pass: inside.cpuMs <= 15,
      notes:
        `${node.rules} rules (nf_tables), ${inside.chains} chains on the path (POSTROUTING, KUBE-POSTROUTING, ${BENCH_PODS.length} CNI bridge pod chains, IP-MASQ-AGENT). Built reporter code in a process inside the node's netns, as a hostNetwork DaemonSet runs; CPU of the process + its iptables children (/proc/self/stat), mean of ${ROUNDS} snapshots (the path listed by one iptables-restore process of -S lines, assessment, message); wall p50 ${inside.p50.toFixed(1)} ms, p99 ${inside.p99.toFixed(1)} ms. ` +
        `Listing the same chains one \`iptables -S\` process each would cost ${inside.perChainCpuMs.toFixed(1)} ms. The first snapshot (backend detection, repeated every 5 min, and a walk level by level) costs about ${Math.round(inside.firstCpuMs)} ms. Through \`--netns\` (ip netns exec) a snapshot costs ${wrapped.cpuMs.toFixed(1)} ms. Issue 3's target for two chains was ≤ 10 ms.`,
    },
    {
      id: "iptables-save-100k",
      issue: 3,
      name: "for comparison: `iptables-save -t nat` of the same table",
      value: Math.round(save.cpuMs),
      unit: "ms CPU",
      notes: `wall ${Math.round(save.p50)} ms, ${Math.round(save.cpuMs / inside.cpuMs)}× a reporter snapshot; the reporter never dumps the table.`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await readBench(), null, 2));
  process.exit(0);
}
