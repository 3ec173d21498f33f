// The multi-replica benchmark's figures as result rows (bench/run.ts writes them into
// bench/results/latest.json and docs/performance.md). Formulas compared with are those of
// docs/scale-out.md ("Capacity and sizing").
import type { BenchResult } from "../../../bench/types.js";
import type { SaveRun } from "./replica-save.js";
import { total } from "./replica-save.js";

export interface RunFigures {
  n: number;
  /** The replicas holding reporters (the observer is not among them). */
  replicas: { pod: string; nodes: number }[];
  /** Status writes per second per replica. */
  rate: number;
  /** ms until every reporter process had all its nodes welcomed. */
  connectedMs: number;
  /** ms until every replica (observer included) counted every node in sync. */
  inSyncMs: number;
  /** RSS per replica, observer last, bytes: before any reporter, after all in sync, at the end. */
  rssBase: number[];
  rssConnected: number[];
  rssAfter: number[];
  quietWritesPerSecond: number;
  quiet: Record<string, number>;
  saves: SaveRun[];
  /** 1-minute load average at the start and at the end. */
  load0: number;
  load: number;
}

const max = (xs: number[]) => Math.max(...xs);
/** The middle value, or the mean of the two middle ones (2 saves: their mean, not the lower). */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return (s[Math.floor(m)]! + s[Math.ceil(m)]!) / 2;
};
const r1 = (x: number) => Math.round(x * 10) / 10;
const s1 = (ms: number) => `${r1(ms / 1000)} s`;
const kb = (bytes: number) => r1(bytes / 1024);

/** Per replica pod: the largest of `f` over the saves. */
function perReplica(f: RunFigures, pick: (s: SaveRun, i: number) => number): number[] {
  return f.replicas.map((_, i) => max(f.saves.map((s) => pick(s, i))));
}

function how(f: RunFigures): string {
  const held = f.replicas.map((r) => r.nodes).join(" + ");
  return `${f.n} simulated reporters (real reporter link + memory backend) over ${f.replicas.length} replica processes (${held}) plus one replica holding none, one reporter process per replica from its own loopback address, test API server in the bench process; status writes ${f.rate}/s per replica; 2 cores shared by all of it, load average ${r1(f.load0)} at the start, ${r1(f.load)} at the end`;
}

function timeRows(f: RunFigures): BenchResult[] {
  const ack = perReplica(f, (s, i) => s.replicas[i]!.ackMs);
  const seen = perReplica(f, (s, i) => s.replicas[i]!.seenMs);
  const view = f.saves.map((s) => s.viewMs);
  const statusWrites = f.saves.map((s) => s.writes["nodemasquerade-status"] ?? 0);
  const k = median(statusWrites) / f.n;
  // Only the replicas holding nodes write statuses (the observer writes none).
  const predicted = (f.n * k) / (f.replicas.length * f.rate);
  return [
    {
      id: `replicas-save-ack-${f.n}`,
      issue: 17,
      name: `save on one of ${f.replicas.length} replicas → all ${f.n} nodes acknowledged (p100 of ${f.saves.length} saves)`,
      value: max(f.saves.map((s) => s.ackMs)),
      unit: "ms",
      notes: `${how(f)}; runs ${f.saves.map((s) => s.ackMs).join(", ")} ms; per replica p100 ${ack.map(s1).join(", ")}; each replica's first push after the save (its watch saw the ConfigMap) at most ${seen.map((x) => `${x} ms`).join(", ")}`,
    },
    {
      id: `replicas-save-view-${f.n}`,
      issue: 17,
      name: `save → every replica's fleet view counts all ${f.n} nodes done (p100 of ${f.saves.length})`,
      value: max(view),
      unit: "ms",
      notes: `runs ${view.join(", ")} ms, the status writes ended ${f.saves.map((s) => s1(s.settledMs)).join(", ")} after the save; ${median(statusWrites)} status writes per rollout (k = ${r1(k * 100) / 100} per node) at ≤ ${f.replicas.length} × ${f.rate}/s: N × k / (R × r) = ${s1(predicted * 1000)}`,
    },
    {
      id: `replicas-connect-${f.n}`,
      issue: 17,
      name: `${f.n} reporters connected and every replica's view in sync`,
      value: f.inSyncMs,
      unit: "ms",
      notes: `every reporter welcomed after ${s1(f.connectedMs)}; then every NodeMasquerade created and written in-sync (first start: N creates at ≤ R × r)`,
    },
  ];
}

function costRows(f: RunFigures): BenchResult[] {
  const obs = f.rssBase.length - 1;
  const push = f.replicas.map((_, i) =>
    median(f.saves.map((s) => s.replicas[i]!.pushMicrosPerNode)),
  );
  const whole = f.replicas.map(
    (r, i) => median(f.saves.map((s) => s.replicas[i]!.saveMicros)) / Math.max(1, r.nodes),
  );
  const statusWrites = median(f.saves.map((s) => s.writes["nodemasquerade-status"] ?? 0));
  const cCr = median(f.saves.map((s) => s.observerMicros)) / Math.max(1, statusWrites);
  const grow = (i: number) =>
    Math.max(f.rssConnected[i]! - f.rssBase[i]!, f.rssAfter[i]! - f.rssBase[i]!);
  const mCr = grow(obs) / f.n;
  const perHeld = f.replicas.map((r, i) => (grow(i) - grow(obs)) / Math.max(1, r.nodes));
  return [
    {
      id: `replicas-cpu-per-node-${f.n}`,
      issue: 17,
      name: `replica CPU per held node for one push + its acknowledgements, ${f.n} nodes over ${f.replicas.length} replicas`,
      value: r1(median(push)),
      unit: "µs",
      notes: `/proc CPU time (user+system) of each replica from the PUT until 1 s after every ack, minus its rate in the 2 s before; median of saves per replica: ${push.map((x) => `${r1(x)}`).join(", ")} µs; the whole save until the status writes stopped (writing its nodes' statuses, following every other node's): ${whole.map((x) => `${r1(x)}`).join(", ")} µs per held node; the observer (no node held) ${r1(cCr)} µs per NodeMasquerade status write it followed (c_cr)`,
    },
    {
      id: `replicas-mem-per-node-${f.n}`,
      issue: 17,
      name: `replica RSS per held node, ${f.n} nodes over ${f.replicas.length} replicas`,
      value: kb(median(perHeld)),
      unit: "KB",
      notes: `RSS growth from before the first reporter to the larger of all-in-sync and after the saves (no forced GC: an upper bound), minus the observer's growth (every NodeMasquerade followed, no node held: ${kb(mCr)} KB per object, m_cr); per replica ${perHeld.map(kb).join(", ")} KB/node; RSS ${f.rssAfter.map((b) => `${Math.round(b / 2 ** 20)}`).join(", ")} MB at the end (observer last), ${Math.round(f.rssBase[0]! / 2 ** 20)} MB before`,
    },
  ];
}

function writeRows(f: RunFigures): BenchResult[] {
  const R = f.replicas.length + 1;
  const last = f.saves.at(-1)!;
  const rollout = total(last.writes) / (last.settledMs / 1000);
  return [
    {
      id: `replicas-rollout-writes-${f.n}`,
      issue: 17,
      name: `API server writes per second during a rollout, ${f.n} nodes, ${R} replicas`,
      value: r1(rollout),
      unit: "writes/s",
      notes: `from the save until the status writes stopped (${s1(last.settledMs)}); the formula's cap R × r = ${f.replicas.length * f.rate}/s of status writes (the ${f.replicas.length} replicas holding nodes) plus Leases; by resource ${JSON.stringify(last.writes)}`,
    },
    {
      id: `replicas-quiet-writes-${f.n}`,
      issue: 17,
      name: `API server writes per second in a quiet period, ${f.n} nodes, ${R} replicas`,
      value: r1(f.quietWritesPerSecond),
      unit: "writes/s",
      notes: `10 s with heartbeats only; formula R / 5 + 0.5 = ${r1(R / 5 + 0.5)}; ${JSON.stringify(f.quiet)}`,
    },
  ];
}

export function replicaRows(f: RunFigures): BenchResult[] {
  return [...timeRows(f), ...costRows(f), ...writeRows(f)];
}
