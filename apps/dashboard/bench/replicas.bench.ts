// Issue 17 §3 benchmark: the largest simulated fleet this machine holds over several dashboard
// replica processes (replica-cluster.ts: the built bin in Kubernetes mode, every replica
// active, against the test API server in this process; one process of simulated reporters per
// replica, the real reporter link over the in-memory backend), plus one replica that holds no
// reporter (the observer: the cost of following every NodeMasquerade alone). Measures a save
// on one replica → every node acknowledged (p100, per replica and overall, read from the
// reporters), → every replica's fleet view counting every node done (through the
// NodeMasquerade statuses each holder writes), each replica's CPU per node per push and RSS
// per node, and the API server writes per second in a quiet period and during the rollout.
// Env: REPLICAS_BENCH_NODES (default 2000), REPLICAS_BENCH_REPLICAS (default: enough for
// ≤ 16,000 nodes each, at least 2), REPLICAS_BENCH_STATUS_WRITES (each replica's status writes
// per second, default the chart's 50), REPLICAS_BENCH_SAVES (default 3), REPLICAS_BENCH_LOGS
// and REPLICAS_BENCH_PROF (directories for the replicas' logs and CPU profiles). Needs
// `npm run build` (shared, node-util, reporter, the dashboard server).
import { loadavg } from "node:os";
import { until } from "@masq/testkit/wait";
import type { BenchResult } from "../../../bench/types.js";
import { openFileLimit } from "./dashboard-process.js";
import { procRssBytes } from "./proc-stats.js";
import { inSyncCount, ReplicaCluster } from "./replica-cluster.js";
import { type RunFigures, replicaRows } from "./replica-rows.js";
import { type SaveRun, saveOnce, total, writes } from "./replica-save.js";

const N = Number(process.env.REPLICAS_BENCH_NODES ?? 2000);
/** Sockets and files a replica holds besides one socket per node. */
const SPARE_FILES = 1000;
const PER_REPLICA = Math.min(16_000, openFileLimit() - SPARE_FILES);
const R = Number(process.env.REPLICAS_BENCH_REPLICAS ?? Math.max(2, Math.ceil(N / PER_REPLICA)));
const RATE = Number(process.env.REPLICAS_BENCH_STATUS_WRITES ?? 50);
const SAVES = Number(process.env.REPLICAS_BENCH_SAVES ?? 3);
const QUIET_MS = 10_000;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Until every replica (observer included) counts all N nodes in sync; progress on stderr. */
async function allInSync(c: ReplicaCluster, t0: number): Promise<void> {
  const rs = [...c.replicas, ...(c.observer ? [c.observer] : [])];
  let told = 0;
  await until(
    async () => {
      const counts = await Promise.all(rs.map(inSyncCount));
      if (Date.now() - told > 15_000) {
        told = Date.now();
        console.error(
          `replicas bench: ${s1(Date.now() - t0)}: in sync per replica ${counts.join(", ")}`,
        );
      }
      return counts.every((x) => x === N);
    },
    3_600_000,
    1000,
    `every replica counts ${N} nodes in sync`,
  );
}

const s1 = (ms: number) => `${Math.round(ms / 100) / 10} s`;

async function run(c: ReplicaCluster): Promise<Omit<RunFigures, "load0">> {
  const rss = () =>
    [...c.replicas, ...(c.observer ? [c.observer] : [])].map((r) => procRssBytes(r.pid));
  await pause(2000);
  const rssBase = rss();
  const t0 = Date.now();
  const synced = allInSync(c, t0);
  await c.connect();
  const connectedMs = Date.now() - t0;
  await synced;
  const inSyncMs = Date.now() - t0;
  await pause(2000);
  const rssConnected = rss();
  const quietFrom = c.fake.requests.length;
  await pause(QUIET_MS);
  const quiet = writes(c.fake, quietFrom);
  const saves: SaveRun[] = [];
  for (let k = 0; k < SAVES; k++) {
    saves.push(await saveOnce(c, N, k));
    console.error(`replicas bench: save ${k}: ${JSON.stringify(saves.at(-1))}`);
  }
  return {
    n: N,
    replicas: c.replicas.map((r) => ({ pod: r.pod, nodes: r.nodes })),
    rate: RATE,
    connectedMs,
    inSyncMs,
    rssBase,
    rssConnected,
    rssAfter: rss(),
    quietWritesPerSecond: total(quiet) / (QUIET_MS / 1000),
    quiet,
    saves,
    load: loadavg()[0]!,
  };
}

export default async function bench(): Promise<BenchResult[]> {
  if (Math.ceil(N / R) > PER_REPLICA)
    throw new Error(
      `${N} nodes over ${R} replicas is ${Math.ceil(N / R)} connections per process; this machine allows ${PER_REPLICA} (open files ${openFileLimit()} − ${SPARE_FILES} spare)`,
    );
  const load0 = loadavg()[0]!;
  const c = await ReplicaCluster.start({
    nodes: N,
    replicas: R,
    observer: true,
    statusWritesPerSecond: RATE,
    logs: process.env.REPLICAS_BENCH_LOGS,
    prof: process.env.REPLICAS_BENCH_PROF,
  });
  try {
    return replicaRows({ ...(await run(c)), load0 });
  } finally {
    await c.stop();
  }
}
