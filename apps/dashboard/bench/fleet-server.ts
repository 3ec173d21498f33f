// The dashboard under benchmark, in its own process so its RSS and event-loop lag are its
// own. Started by fleet.bench.ts over IPC: prints nothing, answers {url} once listening and
// {rss, lagP99Ms, lagMaxMs} on request ("stats"; "reset" starts a new lag window), its event
// loop utilization ("elu") and its CPU time ("cpu").
import { mkdtemp, rm } from "node:fs/promises";
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

process.on("message", async (m: string) => {
  if (m === "elu") {
    process.send?.(performance.eventLoopUtilization());
  } else if (m === "cpu") {
    process.send?.(process.cpuUsage());
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
