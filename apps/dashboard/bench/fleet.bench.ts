// Issue 4 and 17 fleet benchmark: the real dashboard server (no Next, own process) and 5,000 /
// 15,000 / 30,000 simulated reporters — the real reporter link code over the in-memory
// backend, in several processes (fleet-reporters.ts, 10,000 nodes each at most, two at least).
// Measures save → every node acknowledged (p100 over several saves), the dashboard's peak RSS,
// its event-loop lag p99 while nodes keep reporting (hand edits on 1 % of the nodes every
// 100 ms, plus heartbeats), and per node (fleet-cost.ts): its CPU time for one push and its
// acknowledgements, its memory per connected node, and the capacity of one replica that
// follows. FLEET_BENCH_SIZES=5000 limits the sizes; FLEET_BENCH_SAVES=5 sets the saves per
// phase (3); FLEET_BENCH_AGENT=1 runs the whole reporter agent per node instead of link +
// backend; FLEET_BENCH_DASHBOARD_FLAGS passes node flags to the dashboard, which runs compiled
// (dist/, built first) or with FLEET_BENCH_SOURCES=1 from its sources; profiles of the
// saves: FLEET_BENCH_WINDOW_PROF / FLEET_BENCH_WINDOW_PERF (fleet-server.ts); heap snapshots
// with no node and after the saves: FLEET_BENCH_HEAP_SNAPSHOT=DIR. Reporters name
// each chain of their snapshots by digest; FLEET_BENCH_DIGESTS=part names the whole part by
// one digest (the last release), =0 sends them whole, to compare; FLEET_BENCH_PER_NODE=1 gives
// each node its own POSTROUTING line, as flannel writes (fleet-reporters.ts).
import { type ChildProcess, fork } from "node:child_process";
import { setPriority } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { REPORTER_PATH } from "@masq/shared";
import type { BenchResult } from "../../../bench/types.js";
import { followEvents } from "../test/helpers/sse.js";
import {
  ADMIN,
  childArgs,
  DASHBOARD_SOURCES,
  Dashboard,
  openFileLimit,
  REPORTER,
} from "./dashboard-process.js";
import {
  type CpuSplit,
  type CpuUsage,
  cpuMicros,
  cpuSplit,
  type MemoryUsage,
  perNode,
  perNodeRows,
  pushCpuMicros,
  splitText,
} from "./fleet-cost.js";
import { PER_NODE } from "./own-line.js";

/** Saves per phase (FLEET_BENCH_SAVES: more for a steadier median on a loaded machine). */
const SAVES = Number(process.env.FLEET_BENCH_SAVES ?? 3);
const SIZES = (process.env.FLEET_BENCH_SIZES ?? "1000,5000,15000,19000").split(",").map(Number);
/** Simulated nodes per reporter process at most. */
const PER_PROCESS = 10_000;
const AGENT = process.env.FLEET_BENCH_AGENT === "1";

interface Stats {
  rss: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

type Finished = { done: number; failed: number; at: number };

interface RolloutEvent {
  revision: number;
  finishedAt: number | null;
  done: number;
  failed: number;
}

/**
 * Resolves when the SSE stream reports rollout `revision` finished (`at`: when the event
 * arrived). The server drops a stream that falls 4 MB behind, which this loaded process may
 * do while thousands of nodes change; then the fleet summary (polled every second) tells,
 * with the server's finishedAt (same machine, same clock).
 */
function rolloutFinished(
  dash: Dashboard,
  signal: AbortSignal,
): (revision: number) => Promise<Finished> {
  const waiters = new Map<number, (r: Finished) => void>();
  const finished = new Map<number, Finished>();
  const note = (r: RolloutEvent, at: number) => {
    if (r.finishedAt === null || finished.has(r.revision)) return;
    const v = { done: r.done, failed: r.failed, at };
    finished.set(r.revision, v);
    waiters.get(r.revision)?.(v);
  };
  followEvents(
    dash.url,
    ADMIN,
    ({ event, data, at }) => {
      if (event === "rollout") note(data as RolloutEvent, at);
    },
    signal,
  );
  const poll = async () => {
    const r = (await dash.api<{ summary: { rollout: RolloutEvent | null } }>("/api/nodes?q=~"))
      .summary.rollout;
    if (r?.finishedAt) note(r, r.finishedAt);
  };
  return (revision) => {
    const hit = finished.get(revision);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => void poll().catch(() => undefined), 1000);
      const t = setTimeout(() => {
        clearInterval(timer);
        reject(new Error(`rollout ${revision} did not finish in 120 s`));
      }, 120_000);
      waiters.set(revision, (r) => {
        clearTimeout(t);
        clearInterval(timer);
        resolve(r);
      });
    });
  };
}

async function until(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One process of simulated reporters (fleet-reporters.ts). */
export class Reporters {
  private constructor(readonly proc: ChildProcess) {}

  static start(): Reporters {
    const proc = fork(join(import.meta.dirname, "fleet-reporters.ts"), [], {
      execArgv: childArgs("reporters", ["--max-old-space-size=6144"]),
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    // In a cluster reporters run on their own nodes; here they share two cores with the
    // dashboard, so they yield to it rather than starve it.
    if (proc.pid !== undefined) setPriority(proc.pid, 10);
    // A reporter process that dies says how; the run then fails with "not connected".
    proc.once("exit", (code, signal) => {
      if (code !== 0) console.error(`reporter process ${proc.pid} exited: ${code ?? signal}`);
    });
    proc.on("error", (e) => console.error(`reporter process ${proc.pid}: ${e.message}`));
    return new Reporters(proc);
  }

  ask<T>(msg: unknown): Promise<T> {
    return new Promise((resolve) => {
      this.proc.once("message", (m) => resolve(m as T));
      this.proc.send(msg as string);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.send("stop");
    await exited;
  }
}

interface SaveRun {
  ms: number;
  failed: number;
  /** Dashboard CPU of the push, background subtracted (fleet-cost.ts), µs. */
  pushCpuMicros: number;
  /** Share of the window's CPU spent in the kernel (socket reads and writes), %. */
  systemPercent: number;
  /** The window's CPU by thread, µs per node. */
  split: CpuSplit;
}

/** The dashboard's CPU over `ms` of waiting: µs and the wall time it covered. */
async function idleCpu(dash: Dashboard, ms: number): Promise<{ micros: number; ms: number }> {
  const c0 = await dash.ask<CpuUsage>("cpu");
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c1 = await dash.ask<CpuUsage>("cpu");
  return { micros: cpuMicros(c1) - cpuMicros(c0), ms: performance.now() - t0 };
}

/** After the rollout finished: re-judging, SSE flushes and late snapshots are the push's too. */
const SETTLE_MS = 1000;

/** One config save, timed until the rollout is finished, checked against the reporters. */
async function saveOnce(
  dash: Dashboard,
  groups: Reporters[],
  n: number,
  k: number,
  waitRollout: ReturnType<typeof rolloutFinished>,
): Promise<SaveRun> {
  const cfg = await dash.api<{ resourceVersion: string; config: { nonMasqueradeCIDRs: string[] } }>(
    "/api/config",
  );
  const cidrs = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", `100.${64 + k}.0.0/16`];
  const idle = await idleCpu(dash, 1000);
  const c0 = await dash.ask<CpuUsage>("cpu");
  const t0 = performance.now();
  const start = Date.now();
  const put = await dash.api<{ revision: number }>("/api/config", {
    method: "PUT",
    body: {
      config: { ...cfg.config, nonMasqueradeCIDRs: cidrs },
      resourceVersion: cfg.resourceVersion,
    },
  });
  const r = await waitRollout(put.revision);
  await new Promise((res) => setTimeout(res, SETTLE_MS));
  const c1 = await dash.ask<CpuUsage>("cpu");
  const window = { micros: cpuMicros(c1) - cpuMicros(c0), ms: performance.now() - t0 };
  const counts = await Promise.all(
    groups.map((g) => g.ask<{ count: number }>({ applied: put.revision })),
  );
  const applied = counts.reduce((a, c) => a + c.count, 0);
  if (applied !== n)
    throw new Error(`revision ${put.revision}: only ${applied}/${n} reporters applied it`);
  return {
    ms: r.at - start,
    failed: r.failed,
    pushCpuMicros: pushCpuMicros(idle, window),
    systemPercent: Math.round((100 * (c1.system - c0.system)) / Math.max(1, window.micros)),
    split: cpuSplit(c0, c1, n),
  };
}

/** Starts ⌈n / PER_PROCESS⌉ (at least 2) reporter processes holding n nodes between them. */
async function startReporters(n: number, wsUrl: string): Promise<Reporters[]> {
  const count = Math.max(2, Math.ceil(n / PER_PROCESS));
  const groups = Array.from({ length: count }, () => Reporters.start());
  const share = Math.ceil(n / count);
  await Promise.all(
    groups.map((g, i) =>
      g.ask({
        start: {
          url: wsUrl,
          secret: REPORTER,
          from: i * share,
          count: Math.min(share, n - i * share),
          localAddress: `127.0.0.${2 + i}`,
        },
      }),
    ),
  );
  return groups;
}

/** Sockets and files the dashboard holds besides one socket per node. */
const SPARE_FILES = 500;

async function runFleet(n: number): Promise<BenchResult[]> {
  const limit = openFileLimit();
  if (n + SPARE_FILES > limit)
    throw new Error(
      `${n} nodes need ${n + SPARE_FILES} open files in the dashboard process; this machine allows ${limit} (ulimit -n; raising it takes CAP_SYS_RESOURCE)`,
    );
  const dash = await Dashboard.start();
  const wsUrl = dash.url.replace(/^http/, "ws") + REPORTER_PATH;
  const ac = new AbortController();
  let groups: Reporters[] = [];
  let editTimer: NodeJS.Timeout | undefined;
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  try {
    await pause(1000);
    const mem0 = await dash.ask<MemoryUsage>("mem");
    await heapSnapshot(dash, n, "empty");
    const t0 = Date.now();
    groups = await startReporters(n, wsUrl);
    await until(
      async () => (await dash.byStatus())["in-sync"] === n,
      300_000,
      `${n} nodes in sync`,
    );
    const connectMs = Date.now() - t0;
    const waitRollout = rolloutFinished(dash, ac.signal);
    await pause(2000); // SSE hello, the connect burst's last flushes
    const memN = await dash.ask<MemoryUsage>("mem");
    const idle = await idleCpu(dash, 3000);

    // Saves into a connected fleet (reporters send heartbeats, and snapshots after applying).
    const quiet: SaveRun[] = [];
    await dash.ask("prof-start");
    for (let k = 0; k < SAVES; k++) quiet.push(await saveOnce(dash, groups, n, k, waitRollout));
    await dash.ask("prof-stop");

    // Then the fleet keeps reporting: hand edits on 1 % of the nodes every 100 ms, plus saves.
    await pause(1000);
    await dash.ask("reset");
    editTimer = setInterval(() => {
      const k = Math.max(1, Math.round(n / 100 / groups.length));
      for (const g of groups) if (g.proc.connected) g.proc.send({ edit: k } as unknown as string);
    }, 100);
    const busy: SaveRun[] = [];
    for (let k = SAVES; k < 2 * SAVES; k++)
      busy.push(await saveOnce(dash, groups, n, k, waitRollout));
    await pause(2000);
    const stats = await dash.ask<Stats>("stats");
    clearInterval(editTimer);
    await pause(2000);
    // Timelines fill up with every push: memory per node after the saves, too.
    const memAfter = await dash.ask<MemoryUsage>("mem");
    await heapSnapshot(dash, n, "after-saves");
    const how = `${n} reporters (${AGENT ? "whole reporter agent" : "real reporter link + memory backend"}${shape()}) in ${groups.length} processes (nice 10), dashboard ${DASHBOARD_SOURCES ? "sources through tsx" : "compiled, as the image runs it,"} in its own process, one machine`;
    const systemPercent = quiet.map((r) => r.systemPercent);
    const digests = await digestCounts(dash.url);
    const cost = perNode(
      n,
      quiet.map((r) => r.pushCpuMicros),
      mem0,
      memN,
      memAfter,
      idle.micros / idle.ms,
    );
    return [
      ...fleetRows(n, how, { quiet, busy, stats, connectMs }),
      ...perNodeRows(
        cost,
        `${how}; ${digests}; kernel share of the push windows' CPU ${systemPercent.join(", ")} %; each window by thread, µs per node, background included: ${quiet.map((r) => splitText(r.split)).join("; ")}`,
      ),
    ];
  } finally {
    clearInterval(editTimer);
    ac.abort();
    await Promise.all(groups.map((g) => g.stop()));
    await dash.stop();
  }
}

/** How the simulated reporters name their rules, and whether each node holds its own line. */
function shape(): string {
  const d = process.env.FLEET_BENCH_DIGESTS;
  const naming =
    d === "0" ? "whole snapshots" : d === "part" ? "digest per whole part" : "digest per chain";
  return `, ${naming}${process.env.FLEET_BENCH_PER_NODE === "1" ? ", a per-node POSTROUTING line on every node" : ""}`;
}

/**
 * FLEET_BENCH_HEAP_SNAPSHOT=DIR: the dashboard's V8 heap snapshot with no node and after the
 * saves (bench/heap-by-constructor.ts tells the bytes per node between them).
 */
async function heapSnapshot(dash: Dashboard, n: number, when: string): Promise<void> {
  const dir = process.env.FLEET_BENCH_HEAP_SNAPSHOT;
  if (dir) await dash.ask(`heap-snapshot:${join(dir, `dashboard-${n}-${when}.heapsnapshot`)}`);
}

/** What the snapshots' digests were at the dashboard over the run (its /metrics). */
async function digestCounts(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const re = /^ipmasq_snapshot_digests_total\{result="(\w+)"\} (\d+)/gm;
  const counts = [...text.matchAll(re)].map((m) => `${m[1]} ${m[2]}`);
  return counts.length > 0
    ? `snapshots naming their rules by digest over the run: ${counts.join(", ")}`
    : "every snapshot whole (no digests)";
}

/** Issue 4's rows: save → all acknowledged, peak RSS, event-loop lag, connect time. */
function fleetRows(
  n: number,
  how: string,
  m: { quiet: SaveRun[]; busy: SaveRun[]; stats: Stats; connectMs: number },
): BenchResult[] {
  const { quiet, busy, stats } = m;
  const p100 = Math.max(...quiet.map((r) => r.ms));
  const failed = [...quiet, ...busy].reduce((a, r) => a + r.failed, 0);
  const rssMb = Math.round(stats.rss / 2 ** 20);
  const lag = Math.round(stats.lagP99Ms * 10) / 10;
  const list = (runs: SaveRun[], f: (r: SaveRun) => number) => runs.map(f).join(", ");
  const cpuMs = (r: SaveRun) => Math.round(r.pushCpuMicros / 1000);
  return [
    {
      id: `fleet-save-ack-${n}`,
      issue: 4,
      name: `save → all ${n} nodes acknowledged (p100 of ${SAVES})`,
      value: p100,
      unit: "ms",
      target: "≤ 2000 ms",
      pass: p100 <= 2000 && failed === 0,
      notes: `${how}; PUT → rollout finished (SSE); runs ${list(quiet, (r) => r.ms)} ms, dashboard CPU ${list(quiet, cpuMs)} ms; while 1 % of nodes are edited per 100 ms: ${list(busy, (r) => r.ms)} ms; failed acks ${failed}`,
    },
    {
      id: `fleet-rss-${n}`,
      issue: 4,
      name: `dashboard peak RSS with ${n} reporters`,
      value: rssMb,
      unit: "MB",
      target: "≤ 600 MB",
      pass: rssMb <= 600,
      notes: "sampled every 100 ms in the dashboard process over the whole run",
    },
    {
      id: `fleet-lag-${n}`,
      issue: 4,
      name: `dashboard event-loop lag p99 with ${n} reporting`,
      value: lag,
      unit: "ms",
      target: "≤ 100 ms",
      pass: lag <= 100,
      notes: `monitorEventLoopDelay while 1 % of nodes are edited per 100 ms (${n / 10}/s snapshots) + heartbeats + ${SAVES} saves; max ${Math.round(stats.lagMaxMs)} ms`,
    },
    {
      id: `fleet-connect-${n}`,
      issue: 4,
      name: `${n} reporters connected and in sync`,
      value: m.connectMs,
      unit: "ms",
      notes: "from the first connect until every node is in-sync",
    },
  ];
}

export default async function (): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const n of SIZES) out.push(...(await runFleet(n)));
  // A fleet whose nodes each have their own rules is another row, not the identical fleet's.
  return PER_NODE
    ? out.map((r) => ({
        ...r,
        id: `${r.id}-own-rules`,
        name: `${r.name} (each node with its own POSTROUTING line: FLEET_BENCH_PER_NODE=1)`,
      }))
    : out;
}
