// The fleet benchmark's per-node figures (issue 17): the dashboard's CPU time for one config
// push and its acknowledgements per node, its memory per connected node, and the capacity of
// one replica that follows. CPU time, not wall time: on this 2-core machine the simulated
// reporters compete with the dashboard for the cores, so wall time says how busy the machine
// was; the dashboard process's own user+system CPU (process.cpuUsage) says what it did.
import type { BenchResult } from "../../../bench/types.js";
import type { ThreadCpu } from "./thread-cpu.js";

/** process.cpuUsage() of the dashboard: user and system CPU, µs; by thread; GC pauses, ms. */
export interface CpuUsage {
  user: number;
  system: number;
  threads: ThreadCpu;
  gcMs: number;
}

/** Where one push's CPU went, µs per node (window figures, background not subtracted). */
export interface CpuSplit {
  mainUser: number;
  mainSystem: number;
  /** V8's worker threads (parallel scavenge, concurrent marking) and libuv's pool. */
  others: number;
  /** Main-thread GC pauses (inside mainUser). */
  gc: number;
}

export function cpuSplit(a: CpuUsage, b: CpuUsage, n: number): CpuSplit {
  const per = (us: number) => round1(us / n);
  return {
    mainUser: per(b.threads.mainUser - a.threads.mainUser),
    mainSystem: per(b.threads.mainSystem - a.threads.mainSystem),
    others: per(b.threads.others - a.threads.others),
    gc: per((b.gcMs - a.gcMs) * 1000),
  };
}

export const splitText = (s: CpuSplit): string =>
  `main thread ${s.mainUser} user (GC pauses ${s.gc}) + ${s.mainSystem} system, other threads ${s.others}`;

/** process.memoryUsage() of the dashboard after full collections, bytes. */
export interface MemoryUsage {
  rss: number;
  heapUsed: number;
  /** V8 heap pages committed (used or not): the part of RSS the heap takes. */
  heapTotal: number;
  /** Of heapTotal, the young generation's pages (semi-spaces: sized by allocation rate, not by what is held). */
  youngTotal: number;
  external: number;
  arrayBuffers: number;
}

export const cpuMicros = (c: CpuUsage): number => c.user + c.system;

/**
 * CPU of a window minus the background rate (heartbeats, keepalives) measured just before it:
 * what the push itself cost, µs.
 */
export function pushCpuMicros(
  idle: { micros: number; ms: number },
  window: { micros: number; ms: number },
): number {
  const background = idle.ms > 0 ? (idle.micros / idle.ms) * window.ms : 0;
  return Math.max(0, window.micros - background);
}

/** What a replica is sized on: CPU per push, memory per node, background CPU per node. */
export interface PerNode {
  n: number;
  /** Dashboard CPU for one push and its acknowledgements, µs per node (median of the saves). */
  pushMicros: number;
  /** The saves' figures, µs per node, in order. */
  pushRuns: number[];
  /**
   * RSS growth from 0 to n connected nodes after full GC, bytes per node: the larger of right
   * after connecting and after the saves (timelines filled by the pushes).
   */
  rssBytes: number;
  /** V8 heap growth likewise, bytes per node: used, and committed (pages held). */
  heapBytes: number;
  heapCommittedBytes: number;
  /** Of those pages, the young generation's, bytes per node (they grow with allocation rate). */
  youngCommittedBytes: number;
  /** The figures right after connecting and after the saves, bytes per node. */
  rssConnected: number;
  rssAfterSaves: number;
  /** RSS with no node connected, bytes. */
  baseRss: number;
  /** Background CPU with every node connected and quiet (heartbeats), µs per node per second. */
  idleMicrosPerSecond: number;
}

/** Stated sizing budget of one replica: one core spends at most this on one push. */
export const PUSH_CPU_BUDGET_S = 2;
/** Stated memory limit of one replica's container. */
export const MEMORY_LIMIT_MB = 1024;
/** Share of the limit kept free (GC headroom, request bursts). */
const MEMORY_HEADROOM = 0.25;

/** Nodes one replica holds within the budgets above: the smaller of the CPU and memory bound. */
export function capacity(p: PerNode): { cpu: number; memory: number; nodes: number } {
  const cpu = Math.floor((PUSH_CPU_BUDGET_S * 1e6) / Math.max(p.pushMicros, 1e-3));
  const usable = MEMORY_LIMIT_MB * 2 ** 20 * (1 - MEMORY_HEADROOM) - p.baseRss;
  const memory = Math.floor(usable / Math.max(p.rssBytes, 1));
  return { cpu, memory, nodes: Math.min(cpu, memory) };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s[Math.floor((s.length - 1) / 2)]!;
};

export function perNode(
  n: number,
  pushCpu: readonly number[],
  mem0: MemoryUsage,
  memN: MemoryUsage,
  memAfter: MemoryUsage,
  idleMicrosPerMs: number,
): PerNode {
  const runs = pushCpu.map((us) => round1(us / n));
  const rssConnected = (memN.rss - mem0.rss) / n;
  const rssAfterSaves = (memAfter.rss - mem0.rss) / n;
  return {
    n,
    pushMicros: median(runs),
    pushRuns: runs,
    rssBytes: Math.max(rssConnected, rssAfterSaves),
    heapBytes: (Math.max(memN.heapUsed, memAfter.heapUsed) - mem0.heapUsed) / n,
    heapCommittedBytes: (Math.max(memN.heapTotal, memAfter.heapTotal) - mem0.heapTotal) / n,
    youngCommittedBytes: (Math.max(memN.youngTotal, memAfter.youngTotal) - mem0.youngTotal) / n,
    rssConnected,
    rssAfterSaves,
    baseRss: mem0.rss,
    idleMicrosPerSecond: round1((idleMicrosPerMs * 1000) / n),
  };
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const kb = (bytes: number) => round1(bytes / 1024);

/** The per-node rows of one fleet size. */
export function perNodeRows(p: PerNode, how: string): BenchResult[] {
  const cap = capacity(p);
  return [
    {
      id: `fleet-cpu-per-node-${p.n}`,
      issue: 17,
      name: `dashboard CPU per node for one push + its acknowledgements, ${p.n} nodes`,
      value: p.pushMicros,
      unit: "µs",
      target: "≤ 30 µs",
      pass: p.pushMicros <= 30,
      notes: `${how}; process.cpuUsage (user+system) of the dashboard from the PUT until 1 s after the rollout finished (frames, acks, post-apply snapshots, assessment, rollout accounting, SSE), minus its background rate measured in the second before; median of ${p.pushRuns.length} saves (${p.pushRuns.join(", ")} µs/node). CPU time, not wall time: the reporters share the 2 cores. Background with every node quiet (heartbeats every 10 s): ${p.idleMicrosPerSecond} µs per node per second`,
    },
    {
      id: `fleet-mem-per-node-${p.n}`,
      issue: 17,
      name: `dashboard memory per connected node, ${p.n} nodes`,
      value: kb(p.rssBytes),
      unit: "KB",
      target: "≤ 20 KB",
      pass: kb(p.rssBytes) <= 20,
      notes: `RSS growth from 0 to ${p.n} connected nodes after full GC (global.gc ×3), per node, the larger of: right after all are in sync ${kb(p.rssConnected)} KB, after the benchmark's saves and hand edits (event timelines filled) ${kb(p.rssAfterSaves)} KB; V8 heap ${kb(p.heapBytes)} KB/node (its pages ${kb(p.heapCommittedBytes)} KB/node, of which the young generation ${kb(p.youngCommittedBytes)}); RSS with no node ${Math.round(p.baseRss / 2 ** 20)} MB`,
    },
    {
      id: `fleet-capacity-${p.n}`,
      issue: 17,
      name: `nodes one replica holds (from the ${p.n}-node figures)`,
      value: cap.nodes,
      unit: "nodes",
      notes: `the smaller of: one core spending ≤ ${PUSH_CPU_BUDGET_S} s CPU per push at ${p.pushMicros} µs/node → ${cap.cpu}; a ${MEMORY_LIMIT_MB} MiB memory limit with ${MEMORY_HEADROOM * 100} % headroom, ${Math.round(p.baseRss / 2 ** 20)} MB base + ${kb(p.rssBytes)} KB/node → ${cap.memory}`,
    },
  ];
}
