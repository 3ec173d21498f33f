// The dashboard under benchmark, in its own process so its RSS and event-loop lag are its
// own. Started by fleet.bench.ts over IPC: prints nothing, answers {url} once listening and
// {rss, lagP99Ms, lagMaxMs} on request ("stats"; "reset" starts a new lag window), its event
// loop utilization ("elu"), its CPU time ("cpu": process.cpuUsage) and its memory after a
// full GC ("mem": process.memoryUsage); "prof-start"/"prof-stop" profile a window.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { DEFAULT_FLAGS, defaultConfig, serializeConfig } from "@masq/shared";
import { StaticPeopleAuth, StaticReporterAuth } from "../src/server/auth/static-auth.js";
import { createDashboardServer } from "../src/server/http-server.js";
import { FileStore } from "../src/server/store/file-store.js";

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

/**
 * FLEET_BENCH_WINDOW_PROF=DIR: a CPU profile of what lies between "prof-start" and "prof-stop";
 * with FLEET_BENCH_WINDOW_HEAP=1, a sampling profile of every allocation in it instead.
 */
const profDir = process.env.FLEET_BENCH_WINDOW_PROF;
const heapWindow = process.env.FLEET_BENCH_WINDOW_HEAP === "1";
const inspector = profDir ? new Session() : undefined;

async function profile(m: "prof-start" | "prof-stop"): Promise<void> {
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
    process.send?.(process.cpuUsage());
  } else if (m === "mem") {
    // After full collections (--expose-gc): what the process holds, not what it could free.
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    process.send?.(process.memoryUsage());
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
