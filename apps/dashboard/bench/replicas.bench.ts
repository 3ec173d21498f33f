// Issue 17 §3 benchmark: two dashboard replica processes (the built bin, Kubernetes mode with
// every replica active) against the test API server (in this process, through the real
// client-node), simulated reporters (fleet-reporters.ts: the real reporter link over the
// in-memory backend) split over them in two more processes. Measures a save on one replica →
// every node acknowledged (p100, read from the reporters), → the saving replica's fleet view
// showing every node on the new revision (its own nodes and the other replica's, through their
// NodeMasquerades), and the API server writes the replicas made meanwhile and in a quiet
// period. REPLICAS_BENCH_NODES=N sets the fleet (default 2000). Needs `npm run build` (shared,
// node-util, reporter, dashboard server).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPORTER_PATH } from "@masq/shared";
import { nodeToken } from "@masq/shared/node-token";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { type ChildHandle, freePort, startDashboardProcess } from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import type { BenchResult } from "../../../bench/types.js";
import { Reporters } from "./fleet.bench.js";

const N = Number(process.env.REPLICAS_BENCH_NODES ?? 2000);
const SECRET = "replicas-bench-secret";
const ADMIN = "replicas-bench-admin-token-0123456789abcdef";

interface Replica {
  url: string;
  proc: ChildHandle;
}

async function api<T>(r: Replica, path: string, body?: unknown): Promise<T> {
  const res = await fetch(r.url + path, {
    method: body === undefined ? "GET" : "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** What a request path is about, first match. */
const KINDS: [string, RegExp][] = [
  ["nodemasquerade-status", /\/nodemasquerades\/[^/]+\/status/],
  ["nodemasquerade", /\/nodemasquerades/],
  ["lease", /\/leases/],
  ["tokenreview", /tokenreviews/],
  ["event", /\/events/],
  ["configmap", /\/configmaps/],
];

/** Mutating requests the replicas made to the API server since `from`, by resource. */
function writes(fake: FakeKubeApi, from: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of fake.requests.slice(from)) {
    if (r.method === "GET") continue;
    const what = KINDS.find(([, re]) => re.test(r.path))?.[0] ?? "other";
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
}

async function startReplica(fake: FakeKubeApi, pod: string, dir: string): Promise<Replica> {
  const port = await freePort();
  const kubeconfig = join(dir, "kubeconfig");
  writeFileSync(kubeconfig, fake.kubeConfig().exportConfig());
  const logs = process.env.REPLICAS_BENCH_LOGS;
  const proc = startDashboardProcess({
    ...(logs ? { logFile: join(logs, `${pod}.log`) } : {}),
    env: {
      ...fake.dashboardEnv(pod),
      KUBECONFIG: kubeconfig,
      PORT: String(port),
      HOST: "127.0.0.1",
      IPMASQ_ADMIN_TOKEN: ADMIN,
      IPMASQ_REPLICA_SYNC: "true",
      IPMASQ_LOG_LEVEL: "warn",
    },
  });
  const r = { url: `http://127.0.0.1:${port}`, proc };
  await until(
    async () => (await fetch(`${r.url}/readyz`).catch(() => undefined))?.ok,
    30_000,
    100,
    `${pod} ready`,
  );
  return r;
}

const SAVES = 3;

interface SaveRun {
  ackMs: number;
  viewMs: number;
  writes: Record<string, number>;
}

/** One save on `a`, timed until every reporter applied it and until `a` counts every node done. */
async function saveOnce(
  fake: FakeKubeApi,
  a: Replica,
  groups: Reporters[],
  i: number,
): Promise<SaveRun> {
  const cfg = await api<{ resourceVersion: string }>(a, "/api/config");
  const from = fake.requests.length;
  const t0 = Date.now();
  const saved = await api<{ revision: number }>(a, "/api/config", {
    yaml: `nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.${i}.0/24]\n`,
    resourceVersion: cfg.resourceVersion,
  });
  const applied = async () =>
    (
      await Promise.all(groups.map((g) => g.ask<{ count: number }>({ applied: saved.revision })))
    ).reduce((s, c) => s + c.count, 0);
  await until(async () => (await applied()) === N, 300_000, 20, "every node acknowledged");
  const ackMs = Date.now() - t0;
  await until(
    async () => {
      const r = await api<{ summary: { rollout: { revision: number; done: number } | null } }>(
        a,
        "/api/nodes?q=~",
      );
      return r.summary.rollout?.revision === saved.revision && r.summary.rollout.done === N;
    },
    600_000,
    100,
    "the saving replica counts every node done",
  );
  const viewMs = Date.now() - t0;
  // The status writes of this rollout settle (none for 2 s) before the next save.
  const statusWrites = () => fake.count("PATCH", "/nodemasquerades/");
  let seen = statusWrites();
  let quietSince = Date.now();
  await until(
    () => {
      if (statusWrites() !== seen) {
        seen = statusWrites();
        quietSince = Date.now();
      }
      return Date.now() - quietSince > 2000;
    },
    600_000,
    200,
    "status writes settled",
  );
  return { ackMs, viewMs, writes: writes(fake, from) };
}

export default async function bench(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "imd-replicas-bench-"));
  const fake = await new FakeKubeApi().start();
  const replicas: Replica[] = [];
  const groups: Reporters[] = [];
  try {
    for (let i = 0; i < N; i++) {
      const node = `node-${String(i).padStart(5, "0")}`;
      const user = {
        username: fake.chart!.reporterUser,
        extra: { "authentication.kubernetes.io/node-name": [node] },
      };
      fake.addToken(nodeToken(SECRET, node), user, ["ipmasq-dashboard"]);
      // The cluster has the Node (else its NodeMasquerade is expired as a node gone).
      fake.addNode(node);
    }
    replicas.push(await startReplica(fake, "dash-a", dir), await startReplica(fake, "dash-b", dir));
    const half = Math.floor(N / 2);
    for (const [i, r] of replicas.entries()) {
      const g = Reporters.start();
      groups.push(g);
      const wsUrl = r.url.replace(/^http/, "ws") + REPORTER_PATH;
      await g.ask({
        start: { url: wsUrl, secret: SECRET, from: i * half, count: i === 0 ? half : N - half },
      });
    }
    const [a] = replicas as [Replica, Replica];
    const inSync = async () =>
      (await api<{ summary: { byStatus: Record<string, number> } }>(a, "/api/nodes?q=~")).summary
        .byStatus["in-sync"];
    await until(async () => (await inSync()) === N, 300_000, 500, "every node in sync on dash-a");
    // A quiet period: heartbeats only.
    await new Promise((r) => setTimeout(r, 2000));
    const quietFrom = fake.requests.length;
    const quietMs = 10_000;
    await new Promise((r) => setTimeout(r, quietMs));
    const quiet = writes(fake, quietFrom);

    const runs: SaveRun[] = [];
    for (let i = 0; i < SAVES; i++) runs.push(await saveOnce(fake, a, groups, i));
    const ackMs = Math.max(...runs.map((r) => r.ackMs));
    const viewMs = Math.max(...runs.map((r) => r.viewMs));
    const status = Math.max(...runs.map((r) => r.writes["nodemasquerade-status"] ?? 0));
    const during = runs.at(-1)!.writes;
    const note = `${N} simulated reporters over 2 replica processes (2-core machine, test API server in the bench process)`;
    return [
      {
        id: "replicas-save-ack",
        issue: 17,
        name: `save on one of 2 replicas → all ${N} nodes acknowledged (p100 of ${SAVES} saves)`,
        value: ackMs,
        unit: "ms",
        notes: note,
      },
      {
        id: "replicas-save-view",
        issue: 17,
        name: `save → the saving replica counts all ${N} nodes done (the other replica's through NodeMasquerades)`,
        value: viewMs,
        unit: "ms",
        notes: `bounded by the other replica's status write budget (50/s): ${N - half} nodes`,
      },
      {
        id: "replicas-rollout-status-writes",
        issue: 17,
        name: `NodeMasquerade status writes for one rollout of ${N} nodes`,
        value: status,
        unit: "writes",
        notes: `${(status / N).toFixed(2)} per node; all writes: ${JSON.stringify(during)}`,
      },
      {
        id: "replicas-quiet-writes",
        issue: 17,
        name: "API server writes per second in a quiet period (2 replicas, heartbeats only)",
        value: Number(
          (Object.values(quiet).reduce((s, c) => s + c, 0) / (quietMs / 1000)).toFixed(2),
        ),
        unit: "writes/s",
        notes: JSON.stringify(quiet),
      },
    ];
  } finally {
    await Promise.all(groups.map((g) => g.stop().catch(() => undefined)));
    await Promise.all(replicas.map((r) => r.proc.stop()));
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
