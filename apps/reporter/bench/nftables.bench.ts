// Issue 15: the native nftables backend on a big kube-proxy nftables-mode node (5,000 ClusterIP
// services × 3 endpoints, the table kube-proxy writes: a service chain and 3 endpoint chains
// per service, map and set elements per service): read and apply cost, against `nft -j list ruleset`, and a hand edit of
// the agent's set → the dashboard's snapshot (p99), as the iptables path's drift-latency bench.
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig, NFT_TABLE } from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import type { BenchResult } from "../../../bench/types.js";
import { createNftablesBackend } from "../src/backend/nftables.js";
import { type Edit, editCost, editLatency } from "./edit-latency.js";
import { percentile, readProcStat, run } from "./kube-nat.js";
import { type Cost, measure } from "./snapshot-cost.js";

const SERVICES = 5_000;
/** Enough edits that the p99 is not simply the slowest one. */
const EDITS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A namespace with kube-proxy's nftables table for SERVICES services; deleted at exit. */
function kubeProxyNode(): { ns: string; chains: number; rules: number } {
  const ns = `imr-${process.pid}-bench-nft`;
  run(["ip", "netns", "del", ns]);
  if (run(["ip", "netns", "add", ns]).code !== 0) throw new Error(`cannot create netns ${ns}`);
  process.once("exit", () => run(["ip", "netns", "del", ns]));
  const script = kubeProxyNftScript(SERVICES);
  const r = run(["ip", "netns", "exec", ns, "nft", "-f", "-"], script);
  if (r.code !== 0) throw new Error(`loading kube-proxy's table failed: ${r.stderr}`);
  const count = (prefix: string) => script.split("\n").filter((l) => l.startsWith(prefix)).length;
  return { ns, chains: count("add chain "), rules: count("add rule ") };
}

/** `cidrs` in the agent's set: 203.0.113.i/32. */
const edited = (i: number) => `203.0.113.${i % 256}`;

function hasElement(s: { nftables?: { ruleset: unknown[] } }, ip: string): boolean {
  return JSON.stringify(s.nftables?.ruleset ?? []).includes(`"${ip}"`);
}

/** Alternating nft add/delete element of the agent's set, each shown by the next snapshot. */
function elementEdit(i: number): Edit {
  const add = i % 2 === 0;
  const ip = edited(i >> 1);
  return {
    argv: ["nft", add ? "add" : "delete", "element", "inet", NFT_TABLE, "nonmasq_v4", `{ ${ip} }`],
    shows: (s) => hasElement(s, ip) === add,
  };
}

const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });

const cpuNow = () => {
  const s = readProcStat("self");
  return s.self + s.children;
};

/** The backend's read right after each of `rounds` hand edits of the agent's set (its nft
 * monitor event seen first): wall p50 and CPU per read, nft included. */
async function readsAfterEdits(
  backend: ReturnType<typeof createNftablesBackend>,
  ns: string,
  rounds: number,
): Promise<Cost> {
  let events = 0;
  const w = backend.watch((s) => {
    if (s === "event") events++;
  });
  await sleep(1_000);
  await backend.read();
  const walls: number[] = [];
  let cpu = 0;
  for (let i = 0; i < rounds; i++) {
    const seen = events;
    const r = run(["ip", "netns", "exec", ns, ...elementEdit(i).argv]);
    if (r.code !== 0) throw new Error(`edit failed: ${r.stderr}`);
    while (events === seen) await sleep(5);
    const c0 = cpuNow();
    const t0 = performance.now();
    await backend.read();
    walls.push(performance.now() - t0);
    cpu += cpuNow() - c0;
  }
  w.close();
  return { cpuMs: cpu / rounds, p50: percentile(walls, 50), p99: percentile(walls, 99) };
}

export default async function nftablesBench(): Promise<BenchResult[]> {
  const node = kubeProxyNode();
  const shape = `${SERVICES} services, ${node.chains} chains, ~${node.rules} rules in kube-proxy's table`;
  const cold = createNftablesBackend({ netns: node.ns, flags: DEFAULT_FLAGS, monitor: false });
  const first = await measure(1, async () => {
    const o = await cold.apply(defaultConfig(), "cli");
    if (!o.ok) throw new Error(`apply failed: ${o.error}`);
  });
  const changed = await measure(3, async () => {
    for (const c of [cfg(["10.0.0.0/8"]), defaultConfig()]) {
      const o = await cold.apply(c, "desired");
      if (!o.ok || !o.changed) throw new Error(`apply failed: ${o.error}`);
    }
  });
  const steady = await measure(3, () => cold.apply(defaultConfig(), "resync"));
  const readCold = await measure(3, () => cold.read());
  const listAll = await measure(1, () => {
    const r = run(["ip", "netns", "exec", node.ns, "nft", "-j", "list", "ruleset"]);
    if (r.code !== 0) throw new Error(r.stderr);
  });
  // With nft monitor following: other tables' paths are reused until an event touches them.
  const warm = createNftablesBackend({
    netns: node.ns,
    flags: DEFAULT_FLAGS,
    pollIntervalMs: 3_600_000,
  });
  const readWarm = await readsAfterEdits(warm, node.ns, 20);
  const w = warm.watch(() => {});
  await sleep(1_000);
  await warm.read();
  const applyWarm = await measure(3, async () => {
    for (const c of [cfg(["10.0.0.0/8"]), defaultConfig()]) {
      const o = await warm.apply(c, "desired");
      if (!o.ok || !o.changed) throw new Error(`apply failed: ${o.error}`);
      await sleep(200); // the monitor's events of this apply, before the next one
    }
  });
  w.close();
  const load0 = loadavg()[0]!;
  const editCpu = await editCost(node.ns, EDITS, elementEdit);
  // As the reporter runs by default: nft monitor, and the 10 s poll.
  const latencyBackend = createNftablesBackend({ netns: node.ns, flags: DEFAULT_FLAGS });
  // The default config, with a resync the run does not reach (it would heal the edits away).
  const noResync = { ...defaultConfig(), resyncInterval: "1h" };
  const lat = await editLatency(latencyBackend, node.ns, EDITS, elementEdit, noResync);
  const { latencies, editTimes } = lat;
  const p99 = percentile(latencies, 99);
  const reporterCpu = lat.cpuMs / EDITS - editCpu;
  const ms = (x: number) => Math.round(x);
  return [
    {
      id: "nft-read-kube-proxy-5k",
      issue: 15,
      name: "nftables node, kube-proxy nftables mode: one read of the nat postrouting picture (first / while nft monitor follows)",
      value: ms(readCold.p50),
      unit: "ms",
      notes: `${shape}. p50 wall of a full read (nft list chains, the agent's table, kube-proxy's nat-postrouting and masquerading chains, the iptables side): ${ms(readCold.p50)} ms, ${ms(readCold.cpuMs)} ms CPU incl. nft; nft 1.0.6 loads a table's rules for every chain it lists, so kube-proxy's two chains cost what its table costs. While nft monitor follows the node, kube-proxy's path is reused until an event touches it, and a read after a hand edit of the agent's set lists that set alone: p50 ${ms(readWarm.p50)} ms, ${readWarm.cpuMs.toFixed(1)} ms CPU. \`nft -j list ruleset\` alone: ${ms(listAll.p50)} ms, ${ms(listAll.cpuMs)} ms CPU.`,
    },
    {
      id: "nft-apply-kube-proxy-5k",
      issue: 15,
      name: "nftables node, kube-proxy nftables mode: apply of a changed config, verified (the reporter, nft monitor following)",
      value: ms(applyWarm.p50 / 2 - 200),
      unit: "ms",
      notes: `${shape}. One apply = read, one nft -f transaction, read back, verify. In the reporter (nft monitor following, other tables' paths reused): ${ms(applyWarm.p50 / 2 - 200)} ms wall, ${ms(applyWarm.cpuMs / 2)} ms CPU. Without a monitor (\`ipmasq apply\`: every read a full one): first apply (table created) ${ms(first.p50)} ms; a changed config ${ms(changed.p50 / 2)} ms wall, ${ms(changed.cpuMs / 2)} ms CPU; nothing to change ${ms(steady.p50)} ms (one read).`,
    },
    {
      id: "nft-drift-latency-p99",
      issue: 15,
      name: "nftables node: hand edit of the agent's set → dashboard has the new snapshot (p99)",
      value: ms(p99),
      unit: "ms",
      target: "≤ 500 ms",
      pass: p99 <= 500,
      notes: `${EDITS} edits (alternating nft add/delete element) on the node above; the real reporter as it runs by default (nft monitor, the 10 s poll, reads through --netns, link) and a local dashboard. From the start of the editing \`ip netns exec … nft\` command to receipt: p50 ${ms(percentile(latencies, 50))} ms, p99 ${ms(p99)} ms, max ${ms(Math.max(...latencies))} ms; the edit command alone p50 ${ms(percentile(editTimes, 50))} ms (${ms(editCpu)} ms CPU: nft loads caches beside kube-proxy's table); its exit → receipt p50 ${ms(percentile(lat.afterEdit, 50))} ms, p99 ${ms(percentile(lat.afterEdit, 99))} ms. Reporter CPU per edit (its read, the poll's rechecks, the link; the edit commands' CPU taken off) ${ms(reporterCpu)} ms. Load average ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores.`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await nftablesBench(), null, 2));
  process.exit(0);
}
