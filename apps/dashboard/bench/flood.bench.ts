// Issue 12, item 1: reporters flooding the dashboard with distinct 3,000-rule snapshots
// (~137 KB each), as fast as their sockets take them. The dashboard runs in its own process
// inside a memory cgroup limited to 1 GiB, the chart's limit (the issue's dashboard died there
// after ~126 cached 4.5 MB assessments): it joins the cgroup before Node starts, so Node sizes
// its heap from the limit as it does in a pod, and the kernel kills it if it goes over. Where
// no memory cgroup can be made, a 512 MB heap limit stands in (FLOOD_BENCH_HEAP_MB).
// Target: alive, peak RSS ≤ 600 MB, /healthz p99 ≤ 200 ms. A run without flooders gives the
// machine's baseline at the same time (the CI machine is shared: see its load in the notes).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { encodeMessage, REPORTER_PATH } from "@masq/shared";
import { nodeToken } from "@masq/shared/node-token";
import { helloFor, largeChainSnapshot } from "@masq/testkit/fixtures";
import WebSocket from "ws";
import type { BenchResult } from "../../../bench/types.js";

const ADMIN = "bench-admin-Qe7rT2yU9iO4pA1sD6fG3hJ8kL5zX0cV";
const SECRET = "bench-reporter-Mn4bV7cX1zL9kJ2hG5fD8sA3pO6iU0yT";
const SECONDS = Number(process.env.FLOOD_BENCH_SECONDS ?? 30);
const HEAP_MB = Number(process.env.FLOOD_BENCH_HEAP_MB ?? 512);
const LIMIT_BYTES = 1024 ** 3;

/** A memory cgroup (v2, or v1's memory controller) limited to LIMIT_BYTES, or undefined. */
function memoryCgroup(): { procs: string; limit: string; remove: () => void } | undefined {
  const name = `ipmasq-flood-bench-${process.pid}`;
  const v2 = "/sys/fs/cgroup";
  const v1 = "/sys/fs/cgroup/memory";
  const candidates = [
    existsSync(`${v2}/cgroup.controllers`) &&
    readFileSync(`${v2}/cgroup.controllers`, "utf8").includes("memory")
      ? { dir: `${v2}/${name}`, file: "memory.max" }
      : undefined,
    existsSync(`${v1}/memory.limit_in_bytes`)
      ? { dir: `${v1}/${name}`, file: "memory.limit_in_bytes" }
      : undefined,
  ];
  for (const c of candidates) {
    if (!c) continue;
    try {
      mkdirSync(c.dir);
      writeFileSync(`${c.dir}/${c.file}`, String(LIMIT_BYTES));
      return {
        procs: `${c.dir}/cgroup.procs`,
        limit: `1 GiB memory cgroup (${c.file})`,
        remove: () => rmdirSync(c.dir),
      };
    } catch {
      // not root, or no such controller here: try the next, then fall back to a heap limit
    }
  }
  return undefined;
}

interface Stats {
  rss: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

/**
 * The dashboard process: in the cgroup when there is one (a shell writes its own pid into
 * cgroup.procs, then execs node, keeping the IPC channel), else with a heap limit.
 */
function startDashboard(
  cgroup: ReturnType<typeof memoryCgroup>,
): Promise<{ proc: ChildProcess; url: string }> {
  const nodeArgs = [
    "--conditions=source",
    "--import",
    "tsx",
    ...(cgroup ? [] : [`--max-old-space-size=${HEAP_MB}`]),
    ...(process.env.FLOOD_BENCH_PROF
      ? ["--cpu-prof", `--cpu-prof-dir=${process.env.FLOOD_BENCH_PROF}`]
      : []),
    join(import.meta.dirname, "fleet-server.ts"),
  ];
  const [cmd, args] = cgroup
    ? ["sh", ["-c", 'echo $$ > "$0" && exec "$@"', cgroup.procs, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const proc = spawn(cmd as string, args as string[], {
    env: { ...process.env, BENCH_ADMIN_TOKEN: ADMIN, BENCH_REPORTER_TOKEN: SECRET },
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    proc.once("message", (m) => resolve({ proc, url: (m as { url: string }).url }));
    proc.once("exit", (code) => reject(new Error(`dashboard exited with ${code}`)));
  });
}

function ask<T>(proc: ChildProcess, msg: string): Promise<T> {
  return new Promise((resolve) => {
    proc.once("message", (m) => resolve(m as T));
    proc.send(msg);
  });
}

/** A reporter sending distinct large snapshots while its socket's buffer has room. */
async function flooder(url: string, node: string, stop: () => boolean): Promise<number> {
  const ws = new WebSocket(url.replace(/^http/, "ws") + REPORTER_PATH, {
    headers: { authorization: `Bearer ${nodeToken(SECRET, node)}` },
    perMessageDeflate: false,
  });
  ws.on("error", () => undefined);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("unexpected-response", (_q, r) => reject(new Error(`upgrade ${r.statusCode}`)));
  });
  ws.send(encodeMessage(helloFor(node)));
  let sent = 0;
  while (!stop() && ws.readyState === ws.OPEN) {
    if (ws.bufferedAmount < 2 * 1024 * 1024) ws.send(encodeMessage(largeChainSnapshot(sent++)));
    else await new Promise((r) => setTimeout(r, 5));
  }
  ws.terminate();
  return sent;
}

/** /healthz every 50 ms: latencies in ms, and how many failed. */
async function probe(url: string, stop: () => boolean) {
  const ms: number[] = [];
  let failed = 0;
  while (!stop()) {
    const t0 = performance.now();
    const ok = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) ms.push(performance.now() - t0);
    else failed++;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { ms: ms.sort((a, b) => a - b), failed };
}

function metric(text: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN);
}

async function scenario(flooders: number): Promise<BenchResult[]> {
  const cgroup = memoryCgroup();
  try {
    return await run(flooders, cgroup);
  } finally {
    cgroup?.remove();
  }
}

async function run(
  flooders: number,
  cgroup: ReturnType<typeof memoryCgroup>,
): Promise<BenchResult[]> {
  const { proc, url } = await startDashboard(cgroup);
  let exited = false;
  proc.once("exit", () => {
    exited = true;
  });
  const end = Date.now() + SECONDS * 1000;
  const stop = () => Date.now() >= end || exited;
  const [sent, health] = await Promise.all([
    Promise.all(Array.from({ length: flooders }, (_, i) => flooder(url, `flood-${i}`, stop))),
    probe(url, stop),
  ]);
  const alive = !exited;
  const stats = alive ? await ask<Stats>(proc, "stats") : undefined;
  const m = alive ? await (await fetch(`${url}/metrics`)).text() : "";
  if (alive) {
    const gone = new Promise((r) => proc.once("exit", r));
    proc.send("stop");
    await gone;
  }
  const p99 = health.ms[Math.min(health.ms.length - 1, Math.floor(health.ms.length * 0.99))] ?? 0;
  const rssMb = Math.round((stats?.rss ?? 0) / 1e6);
  const what =
    flooders === 0
      ? `no reporter, for comparison (${SECONDS} s)`
      : `${flooders} reporter${flooders > 1 ? "s" : ""} flooding distinct 3,000-rule snapshots (137 KB) for ${SECONDS} s`;
  const target = flooders > 0;
  const notes =
    `${cgroup ? cgroup.limit : `heap limit ${HEAP_MB} MB (no memory cgroup here)`}, ${alive ? "alive" : "DIED"}; load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores; ` +
    `${sent.reduce((a, b) => a + b, 0)} snapshots offered, ${metric(m, "ipmasq_snapshots_coalesced_total")} coalesced unjudged, ` +
    `${metric(m, "ipmasq_reporter_paused_total")} socket pauses; assessment cache ${Math.round(metric(m, "ipmasq_assessment_cache_bytes") / 1e6)} MB (estimated); ` +
    `/healthz: ${health.ms.length} probes, ${health.failed} failed, max ${Math.round(health.ms.at(-1) ?? 0)} ms; event-loop lag p99 ${stats?.lagP99Ms.toFixed(1) ?? "?"} ms`;
  return [
    {
      id: `flood-${flooders}-rss`,
      issue: 12,
      name: `dashboard peak RSS, ${what}`,
      value: rssMb,
      unit: "MB",
      ...(target ? { target: "≤ 600 MB, alive", pass: alive && rssMb <= 600 } : {}),
      notes,
    },
    {
      id: `flood-${flooders}-healthz`,
      issue: 12,
      name: `/healthz p99 while ${what}`,
      value: Math.round(p99 * 10) / 10,
      unit: "ms",
      ...(target ? { target: "≤ 200 ms", pass: alive && health.failed === 0 && p99 <= 200 } : {}),
      notes: `sampled every 50 ms from another process on the same machine`,
    },
  ];
}

export default async function floodBench(): Promise<BenchResult[]> {
  const counts = (process.env.FLOOD_BENCH_REPORTERS ?? "0,1,4").split(",").map(Number);
  const out: BenchResult[] = [];
  for (const n of counts) out.push(...(await scenario(n)));
  return out;
}
