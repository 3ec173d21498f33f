// Issue 17: what one push costs a server per node in WebSocket and TCP work alone — one
// desired-sized frame out, the post-apply snapshot and the apply-result in — measured as the
// fleet benchmark measures the dashboard (process CPU from the push until 1 s after the last
// reply, minus the background rate of the second before; median of several pushes), with a
// bare `ws` server that does nothing with the frames (ws-floor.ts). The dashboard cannot
// cost less per node than this with one WebSocket connection per reporter.
// WS_FLOOR_NODES=5000 sets the fleet size; WS_FLOOR_DECODE=1 runs every frame through the
// gateway's decoder (JSON, schema, known rules), to compare with the transport alone.
import { type ChildProcess, fork } from "node:child_process";
import { setPriority } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { BenchResult } from "../../../bench/types.js";
import { childArgs } from "./dashboard-process.js";
import { pushCpuMicros } from "./fleet-cost.js";

const N = Number(process.env.WS_FLOOR_NODES ?? 5000);
const PUSHES = 5;
const SETTLE_MS = 1000;

function start(role: "server" | "clients"): ChildProcess {
  const proc = fork(join(import.meta.dirname, "ws-floor.ts"), [], {
    execArgv: childArgs(`ws-floor-${role}`),
    env: { ...process.env, WS_FLOOR_ROLE: role },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  // As in the fleet benchmark: the clients yield to the server.
  if (role === "clients" && proc.pid !== undefined) setPriority(proc.pid, 10);
  return proc;
}

function ask<T>(proc: ChildProcess, msg: unknown): Promise<T> {
  return new Promise((resolve) => {
    proc.once("message", (m) => resolve(m as T));
    proc.send(msg as string);
  });
}

function stop(proc: ChildProcess): Promise<unknown> {
  if (proc.exitCode !== null) return Promise.resolve();
  const exited = new Promise((r) => proc.once("exit", r));
  proc.send("stop");
  return exited;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cpu = async (p: ChildProcess) => {
  const c = await ask<{ user: number; system: number }>(p, "cpu");
  return c.user + c.system;
};

/** One push: the server's CPU for it, background subtracted, µs per node. */
async function pushOnce(server: ChildProcess): Promise<number> {
  const i0 = await cpu(server);
  const t0 = performance.now();
  await sleep(1000);
  const idle = { micros: (await cpu(server)) - i0, ms: performance.now() - t0 };
  const c0 = await cpu(server);
  const w0 = performance.now();
  await ask(server, { push: true });
  await sleep(SETTLE_MS);
  const window = { micros: (await cpu(server)) - c0, ms: performance.now() - w0 };
  return Math.round((10 * pushCpuMicros(idle, window)) / N) / 10;
}

export default async function (): Promise<BenchResult[]> {
  const server = start("server");
  const groups = [start("clients"), start("clients")];
  try {
    const { port } = await new Promise<{ port: number }>((r) => server.once("message", r as never));
    const share = Math.ceil(N / groups.length);
    await Promise.all(
      groups.map((g, i) =>
        ask(g, {
          start: { port, count: Math.min(share, N - i * share), localAddress: `127.0.0.${2 + i}` },
        }),
      ),
    );
    await sleep(2000);
    const runs: number[] = [];
    for (let k = 0; k < PUSHES; k++) runs.push(await pushOnce(server));
    const median = [...runs].sort((a, b) => a - b)[Math.floor((runs.length - 1) / 2)]!;
    return [
      {
        id: `ws-floor-per-node-${N}`,
        issue: 17,
        name: `WebSocket + TCP work alone per node for one push (1 frame out, 2 in), ${N} nodes`,
        value: median,
        unit: "µs",
        notes: `a bare ws server (the gateway's options, frames not even parsed) and ${N} bare ws clients in ${groups.length} processes (nice 10) answering each frame with the fleet benchmark's post-apply snapshot (memory backend, ~1.2 KB) and apply-result; process.cpuUsage of the server from the push until 1 s after the last reply, minus its background rate of the second before, as the fleet benchmark measures the dashboard; median of ${PUSHES} pushes (${runs.join(", ")} µs/node): the floor of the dashboard's per-node figure with one WebSocket per reporter`,
      },
    ];
  } finally {
    await Promise.all([...groups, server].map(stop));
  }
}
