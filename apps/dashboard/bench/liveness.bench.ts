// Issue 17: what the reporters' link liveness (apps/reporter/src/link-liveness.ts: a WebSocket
// ping when idle 1.5 s, the dashboard dead after 5 s of silence) costs the dashboard, and how
// far from a false "dead" a busy replica stays. The real dashboard server (own process) and
// LIVENESS_BENCH_NODES (default 5,000) simulated reporters (the real link, fleet-reporters.ts)
// in two processes, twice: links that ping and links that never do. Measured: the dashboard's
// CPU per quiet node per second (the difference is the pings' cost), its event-loop lag during
// three config pushes, the longest silence any reporter saw, and how many links dropped.
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { REPORTER_PATH } from "@masq/shared";
import type { BenchResult } from "../../../bench/types.js";
import { Dashboard, openFileLimit, REPORTER } from "./dashboard-process.js";
import { Reporters } from "./fleet.bench.js";
import { type CpuUsage, cpuMicros } from "./fleet-cost.js";

const N = Number(process.env.LIVENESS_BENCH_NODES ?? 5000);
const GROUPS = 2;
const SAVES = 3;
const IDLE_MS = 10_000;
/** The default liveness: dead after 5 s, the pong waited for at least 3.5 s after a ping. */
const DEAD_AFTER_MS = 5_000;

interface Run {
  /** Dashboard CPU per quiet connected node per second, µs. */
  idleMicros: number;
  lagMaxMs: number;
  lagP99Ms: number;
  saveMs: number[];
  links: { connects: number; disconnects: number; maxSilentMs: number };
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await pause(250);
  }
}

async function save(dash: Dashboard, k: number): Promise<number> {
  const cfg = await dash.api<{ resourceVersion: string; config: Record<string, unknown> }>(
    "/api/config",
  );
  const t0 = Date.now();
  const put = await dash.api<{ revision: number }>("/api/config", {
    method: "PUT",
    body: {
      config: { ...cfg.config, nonMasqueradeCIDRs: ["10.0.0.0/8", `100.${64 + k}.0.0/16`] },
      resourceVersion: cfg.resourceVersion,
    },
  });
  type Rollout = { revision: number; finishedAt: number | null; done: number };
  let finishedAt = 0;
  await waitFor(
    async () => {
      const r = (await dash.api<{ summary: { rollout: Rollout | null } }>("/api/nodes?q=~")).summary
        .rollout;
      finishedAt = r?.revision === put.revision && r.done === N ? (r.finishedAt ?? 0) : 0;
      return finishedAt > 0;
    },
    120_000,
    `revision ${put.revision} on ${N} nodes`,
  );
  return finishedAt - t0;
}

async function fleet(pings: boolean): Promise<Run> {
  process.env.FLEET_BENCH_PINGS = pings ? "1" : "0";
  const dash = await Dashboard.start();
  const url = dash.url.replace(/^http/, "ws") + REPORTER_PATH;
  const groups = Array.from({ length: GROUPS }, () => Reporters.start());
  try {
    const share = Math.ceil(N / GROUPS);
    await Promise.all(
      groups.map((g, i) => {
        const count = Math.min(share, N - i * share);
        const start = { url, secret: REPORTER, from: i * share, count };
        return g.ask({ start: { ...start, localAddress: `127.0.0.${2 + i}` } });
      }),
    );
    await waitFor(async () => (await dash.byStatus())["in-sync"] === N, 300_000, "in sync");
    await pause(3000);
    const c0 = await dash.ask<CpuUsage>("cpu");
    const t0 = performance.now();
    await pause(IDLE_MS);
    const c1 = await dash.ask<CpuUsage>("cpu");
    const idleMicros = (cpuMicros(c1) - cpuMicros(c0)) / N / ((performance.now() - t0) / 1000);
    await dash.ask("reset");
    const saveMs: number[] = [];
    for (let k = 0; k < SAVES; k++) saveMs.push(await save(dash, k));
    const lag = await dash.ask<{ lagP99Ms: number; lagMaxMs: number }>("stats");
    const per = await Promise.all(groups.map((g) => g.ask<Run["links"]>({ links: true })));
    const links = {
      connects: per.reduce((a, x) => a + x.connects, 0),
      disconnects: per.reduce((a, x) => a + x.disconnects, 0),
      maxSilentMs: Math.max(...per.map((x) => x.maxSilentMs)),
    };
    return { idleMicros, lagMaxMs: lag.lagMaxMs, lagP99Ms: lag.lagP99Ms, saveMs, links };
  } finally {
    await Promise.all(groups.map((g) => g.stop()));
    await dash.stop();
  }
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

export default async function (): Promise<BenchResult[]> {
  if (N + 500 > openFileLimit()) throw new Error(`${N} nodes need more open files`);
  const withPings = await fleet(true);
  const without = await fleet(false);
  const load = loadavg()[0]!.toFixed(1);
  const how = `${N} real reporter links in ${GROUPS} processes (nice 10) and the dashboard in its own process on one 2-core machine`;
  const cost = withPings.idleMicros - without.idleMicros;
  const l = withPings.links;
  return [
    {
      id: `liveness-ping-cost-${N}`,
      issue: 17,
      name: `dashboard CPU of the reporters' liveness pings, per quiet node per second (${N} nodes)`,
      value: round(cost, 2),
      unit: "µs",
      notes: `${how}; background CPU per quiet node ${round(withPings.idleMicros, 2)} µs/s with pings, ${round(without.idleMicros, 2)} without (JSON heartbeats every 10 s in both); load average ${load}`,
    },
    {
      id: `liveness-push-lag-${N}`,
      issue: 17,
      name: `dashboard event-loop lag, max during ${SAVES} pushes to ${N} nodes`,
      value: Math.round(withPings.lagMaxMs),
      unit: "ms",
      target: `≤ ${DEAD_AFTER_MS - 1500} ms (a pong waited for)`,
      pass: withPings.lagMaxMs <= DEAD_AFTER_MS - 1500,
      notes: `p99 ${round(withPings.lagP99Ms)} ms; saves → all acknowledged ${withPings.saveMs.join(", ")} ms (without pings: lag max ${Math.round(without.lagMaxMs)} ms, saves ${without.saveMs.join(", ")} ms)`,
    },
    {
      id: `liveness-false-dead-${N}`,
      issue: 17,
      name: `healthy links dropped as silent, connect + idle + ${SAVES} pushes to ${N} nodes`,
      value: l.disconnects,
      unit: "links",
      target: "0",
      pass: l.disconnects === 0,
      notes: `longest silence any reporter saw ${Math.round(l.maxSilentMs)} ms (dead after ${DEAD_AFTER_MS} ms; includes the reporter processes' own lag); ${l.connects} connects`,
    },
  ];
}
