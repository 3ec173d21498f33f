// The multi-replica benchmark's cluster (issue 17): the test API server of packages/testkit in
// this process (the chart's RBAC, CRD and env; one Node object and one reporter token per
// node), R dashboard replica processes (the built bin, Kubernetes mode, every replica active,
// each on its own port), optionally one more replica that holds no reporter (the observer: what
// following every NodeMasquerade costs alone), and one process of simulated reporters per
// replica (fleet-reporters.ts), each connecting from its own loopback address to its replica.
// Every process it starts is stopped by `stop()`, and killed if this process exits without it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { REPORTER_PATH } from "@masq/shared";
import { nodeToken } from "@masq/shared/node-token";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { type ChildHandle, freePort, startDashboardProcess } from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { Reporters } from "./fleet.bench.js";

export const SECRET = "replicas-bench-secret";
export const ADMIN = "replicas-bench-admin-token-0123456789abcdef";

export interface Replica {
  pod: string;
  url: string;
  proc: ChildHandle;
  pid: number;
  /** Nodes whose reporters connect to it (0 for the observer). */
  nodes: number;
}

export interface ClusterOptions {
  nodes: number;
  replicas: number;
  /** Add a replica that holds no reporter. */
  observer: boolean;
  /** IPMASQ_STATUS_WRITES_PER_SECOND of every replica. */
  statusWritesPerSecond: number;
  /** Directory for the replicas' logs (IPMASQ_LOG_LEVEL=warn). */
  logs?: string;
  /** Directory for the replicas' V8 CPU profiles (--cpu-prof). */
  prof?: string;
}

export const nodeName = (i: number): string => `node-${String(i).padStart(5, "0")}`;

export async function api<T>(r: Replica, path: string, body?: unknown): Promise<T> {
  const res = await fetch(r.url + path, {
    method: body === undefined ? "GET" : "PUT",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${r.pod} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** A replica's fleet summary without listing nodes (a query that matches none). */
export function summary(r: Replica): Promise<{
  byStatus: Record<string, number>;
  rollout: { revision: number; done: number } | null;
}> {
  return api<{
    summary: {
      byStatus: Record<string, number>;
      rollout: { revision: number; done: number } | null;
    };
  }>(r, "/api/nodes?q=~").then((x) => x.summary);
}

/**
 * Nodes `r` counts in sync, its own and those held elsewhere, from its /metrics
 * (ipmasq_nodes{status="in-sync"}): a count without a node list, unlike /api/nodes.
 */
export async function inSyncCount(r: Replica): Promise<number> {
  const res = await fetch(`${r.url}/metrics`);
  const m = /^ipmasq_nodes\{status="in-sync"\} (\d+)$/m.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

export class ReplicaCluster {
  readonly replicas: Replica[] = [];
  observer: Replica | undefined;
  readonly groups: Reporters[] = [];
  /** Every replica process started, ready or not. */
  private readonly started: Replica[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), "imd-replicas-bench-"));
  private readonly killAll = () => {
    for (const r of this.started) r.proc.child.kill("SIGKILL");
    for (const g of this.groups) g.proc.kill("SIGKILL");
  };
  /** Ctrl-C or a kill of the benchmark: exit, so that `killAll` runs. */
  private readonly onSignal = () => process.exit(130);

  private constructor(
    readonly fake: FakeKubeApi,
    readonly o: ClusterOptions,
  ) {
    process.once("exit", this.killAll);
    process.once("SIGINT", this.onSignal).once("SIGTERM", this.onSignal);
  }

  /** The API server with every node's token and Node, then the replicas (no reporter yet). */
  static async start(o: ClusterOptions): Promise<ReplicaCluster> {
    // A watch cache that holds a rollout's status writes, as kube-apiserver's (sized by
    // object count) does; the testkit's default of 100 would send lagging watches to relist.
    const fake = await new FakeKubeApi({ watchCacheSize: Math.max(1000, 2 * o.nodes) }).start();
    const c = new ReplicaCluster(fake, o);
    try {
      for (let i = 0; i < o.nodes; i++) {
        const user = {
          username: fake.chart!.reporterUser,
          extra: { "authentication.kubernetes.io/node-name": [nodeName(i)] },
        };
        fake.addToken(nodeToken(SECRET, nodeName(i)), user, ["ipmasq-dashboard"]);
        // The cluster has the Node (else its NodeMasquerade is expired as a node gone).
        fake.addNode(nodeName(i));
      }
      const share = Math.ceil(o.nodes / o.replicas);
      const started = Array.from({ length: o.replicas }, (_, i) =>
        c.startReplica(`dash-${i}`, Math.min(share, o.nodes - i * share)),
      );
      c.replicas.push(...(await Promise.all(started)));
      if (o.observer) c.observer = await c.startReplica("dash-observer", 0);
      return c;
    } catch (e) {
      await c.stop();
      throw e;
    }
  }

  private async startReplica(pod: string, nodes: number): Promise<Replica> {
    const port = await freePort();
    const kubeconfig = join(this.dir, "kubeconfig");
    writeFileSync(kubeconfig, this.fake.kubeConfig().exportConfig());
    const { logs, prof } = this.o;
    const proc = startDashboardProcess({
      ...(logs ? { logFile: join(logs, `${pod}.log`) } : {}),
      env: {
        ...this.fake.dashboardEnv(pod),
        KUBECONFIG: kubeconfig,
        PORT: String(port),
        HOST: "127.0.0.1",
        IPMASQ_ADMIN_TOKEN: ADMIN,
        IPMASQ_REPLICA_SYNC: "true",
        IPMASQ_STATUS_WRITES_PER_SECOND: String(this.o.statusWritesPerSecond),
        IPMASQ_LOG_LEVEL: "warn",
      },
      ...(prof ? { nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${join(prof, pod)}`] } : {}),
    });
    const r = { pod, url: `http://127.0.0.1:${port}`, proc, pid: proc.child.pid!, nodes };
    this.started.push(r);
    await until(
      async () => (await fetch(`${r.url}/readyz`).catch(() => undefined))?.ok,
      60_000,
      100,
      `${pod} ready`,
    );
    return r;
  }

  /** One reporter process per replica, from 127.0.0.(2+i), connecting that replica's share. */
  async connect(): Promise<void> {
    let from = 0;
    const starts = this.replicas.map((r, i) => {
      const g = Reporters.start();
      this.groups.push(g);
      // Not nice 10 here: each simulated node's reporter runs on a node of its own in a
      // cluster, and starved reporters miss heartbeats (a node unanswered for 30 s is shown
      // hung), which at tens of thousands of nodes turns the fleet over instead of measuring it.
      if (g.proc.pid !== undefined) setPriority(g.proc.pid, 0);
      const start = {
        url: r.url.replace(/^http/, "ws") + REPORTER_PATH,
        secret: SECRET,
        from,
        count: r.nodes,
        localAddress: `127.0.0.${2 + i}`,
      };
      from += r.nodes;
      return g.ask({ start });
    });
    await Promise.all(starts);
  }

  async stop(): Promise<void> {
    await Promise.all(this.groups.map((g) => g.stop().catch(() => undefined)));
    await Promise.all(this.started.map((r) => r.proc.stop().catch(() => undefined)));
    await this.fake.stop();
    rmSync(this.dir, { recursive: true, force: true });
    process.off("exit", this.killAll).off("SIGINT", this.onSignal).off("SIGTERM", this.onSignal);
  }
}
