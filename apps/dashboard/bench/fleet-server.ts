// The dashboard under benchmark, in its own process so its RSS and event-loop lag are its
// own. Started by fleet.bench.ts over IPC: prints nothing, answers {url} once listening and
// {rss, lagP99Ms, lagMaxMs} on request ("stats"; "reset" starts a new lag window), its event
// loop utilization ("elu"), its CPU time ("cpu": process.cpuUsage, by thread, and the main
// thread's GC pauses) and its memory after a full GC ("mem": process.memoryUsage and the young generation's pages);
// "prof-start"/"prof-stop" profile a window; "heap-snapshot:FILE" writes a heap snapshot.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, PerformanceObserver, performance } from "node:perf_hooks";
import { getHeapSpaceStatistics, writeHeapSnapshot } from "node:v8";
import { DEFAULT_FLAGS, defaultConfig, serializeConfig } from "@masq/shared";
import { DASHBOARD_SOURCES } from "./dashboard-process.js";
import { threadCpu } from "./thread-cpu.js";

// The compiled server, as the image runs it, or its sources (dashboard-process.ts says why).
const code = DASHBOARD_SOURCES ? "../src/server" : "../dist/server";
const { StaticPeopleAuth, StaticReporterAuth } = (await import(
  `${code}/auth/static-auth.js`
)) as typeof import("../src/server/auth/static-auth.js");
const { createDashboardServer } = (await import(
  `${code}/http-server.js`
)) as typeof import("../src/server/http-server.js");
const { FileStore } = (await import(
  `${code}/store/file-store.js`
)) as typeof import("../src/server/store/file-store.js");

const dir = await mkdtemp(join(tmpdir(), "ipmasq-bench-"));
const server = await createDashboardServer({
  store: new FileStore({ dir, initialText: serializeConfig(defaultConfig()) }),
  flags: DEFAULT_FLAGS,
  people: new StaticPeopleAuth(process.env.BENCH_ADMIN_TOKEN, undefined),
  reporters: new StaticReporterAuth(process.env.BENCH_REPORTER_TOKEN ?? ""),
  defaultMetrics: false,
});
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 100);
/** Main-thread GC pauses so far, ms (scavenges and the atomic parts of mark-compact). */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ["gc"] });

/**
 * FLEET_BENCH_WINDOW_PROF=DIR: a CPU profile of what lies between "prof-start" and "prof-stop";
 * with FLEET_BENCH_WINDOW_HEAP=1, a sampling profile of every allocation in it instead.
 */
const profDir = process.env.FLEET_BENCH_WINDOW_PROF;
const heapWindow = process.env.FLEET_BENCH_WINDOW_HEAP === "1";
const inspector = profDir ? new Session() : undefined;

/**
 * FLEET_BENCH_WINDOW_PERF=DIR: `perf record -g` of the whole process (every thread, kernel
 * included) over the same window, for what a V8 profile cannot see (run the dashboard with
 * --perf-basic-prof through FLEET_BENCH_DASHBOARD_FLAGS for JavaScript names).
 */
const perfDir = process.env.FLEET_BENCH_WINDOW_PERF;
let perf: ChildProcess | undefined;

async function perfWindow(m: "prof-start" | "prof-stop"): Promise<void> {
  if (!perfDir) return;
  if (m === "prof-start") {
    const out = join(perfDir, `dashboard-${Date.now()}.perf.data`);
    perf = spawn("perf", ["record", "-g", "-F", "999", "-p", String(process.pid), "-o", out], {
      stdio: "ignore",
    });
    await new Promise((r) => setTimeout(r, 500)); // perf attaches
    return;
  }
  const exited = new Promise((r) => perf?.once("exit", r));
  perf?.kill("SIGINT");
  await exited;
}

async function profile(m: "prof-start" | "prof-stop"): Promise<void> {
  await perfWindow(m);
  if (!inspector || !profDir) return;
  if (m === "prof-start") {
    inspector.connect();
    if (heapWindow)
      await inspector.post("HeapProfiler.startSampling", {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
    else {
      await inspector.post("Profiler.enable");
      await inspector.post("Profiler.start");
    }
    return;
  }
  const { profile } = heapWindow
    ? await inspector.post("HeapProfiler.stopSampling")
    : await inspector.post("Profiler.stop");
  const ext = heapWindow ? "heapprofile" : "cpuprofile";
  await writeFile(join(profDir, `dashboard-${Date.now()}.${ext}`), JSON.stringify(profile));
  inspector.disconnect();
}

process.on("message", async (m: string) => {
  if (m === "prof-start" || m === "prof-stop") {
    await profile(m);
    process.send?.({ [m]: true });
  } else if (m === "elu") {
    process.send?.(performance.eventLoopUtilization());
  } else if (m === "cpu") {
    process.send?.({ ...process.cpuUsage(), threads: threadCpu(), gcMs });
  } else if (m === "mem") {
    // After full collections (--expose-gc): what the process holds, not what it could free.
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    const young = getHeapSpaceStatistics().find((x) => x.space_name === "new_space");
    process.send?.({ ...process.memoryUsage(), youngTotal: young?.space_size ?? 0 });
  } else if (m.startsWith("heap-snapshot:")) {
    // A V8 heap snapshot after full collections, for where the bytes per node are.
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    process.send?.({ file: writeHeapSnapshot(m.slice("heap-snapshot:".length)) });
  } else if (m === "reset") {
    lag.reset();
    process.send?.({ reset: true });
  } else if (m === "stats") {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    process.send?.({ rss: peakRss, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 });
  } else if (m === "stop") {
    clearInterval(sampler);
    await server.close();
    await rm(dir, { recursive: true, force: true });
    process.exit(0);
  }
});
process.send?.({ url: server.url });
