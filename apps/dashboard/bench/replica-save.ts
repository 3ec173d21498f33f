// One config save in the multi-replica benchmark, measured: save on replica 0 → when each
// replica's reporters got the desired frame (the replica saw the ConfigMap change through its
// watch and pushed) and acknowledged it, → when each replica's fleet view counts every node
// done (its own nodes live, the others through their NodeMasquerade statuses), → when the
// status writes of the rollout stop. Each replica's CPU time (from /proc) over the push and
// over the whole save, and the API server writes by resource.
import { performance } from "node:perf_hooks";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { procCpuMicros } from "./proc-stats.js";
import { api, type Replica, type ReplicaCluster, summary } from "./replica-cluster.js";

/** What a request path is about, first match. */
const KINDS: [string, RegExp][] = [
  ["nodemasquerade-status", /\/nodemasquerades\/[^/]+\/status/],
  ["nodemasquerade", /\/nodemasquerades/],
  ["lease", /\/leases/],
  ["tokenreview", /tokenreviews/],
  ["subjectaccessreview", /subjectaccessreviews/],
  ["event", /\/events/],
  ["configmap", /\/configmaps/],
];

/** Mutating requests made to the API server since request number `from`, by resource. */
export function writes(fake: FakeKubeApi, from: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of fake.requests.slice(from)) {
    if (r.method === "GET") continue;
    const what = KINDS.find(([, re]) => re.test(r.path))?.[0] ?? "other";
    out[what] = (out[what] ?? 0) + 1;
  }
  return out;
}

export const total = (w: Record<string, number>): number =>
  Object.values(w).reduce((s, c) => s + c, 0);

/** Per replica (observer last): CPU µs of its process. */
const cpuNow = (rs: Replica[]): number[] => rs.map((r) => procCpuMicros(r.pid));

export interface ReplicaTimes {
  pod: string;
  /** ms from the save until its first reporter got the desired frame. */
  seenMs: number;
  /** ms from the save until its last reporter applied it. */
  ackMs: number;
  /** ms from the save until its fleet view counted every node done. */
  viewMs: number;
  /** CPU µs per held node: push window (until 1 s after every ack), background subtracted. */
  pushMicrosPerNode: number;
  /** CPU µs for the whole save (until the status writes stopped), background subtracted. */
  saveMicros: number;
}

export interface SaveRun {
  ackMs: number;
  viewMs: number;
  /** ms from the save until 2 s without a status write (the writes' end). */
  settledMs: number;
  replicas: ReplicaTimes[];
  /** The observer's CPU µs over the whole save, background subtracted. */
  observerMicros: number;
  writes: Record<string, number>;
}

/** Reporter processes' view of revision `rev` (fleet-reporters.ts `timing`). */
interface GroupTiming {
  nodes: number;
  firstDesired: number;
  lastApplied: number;
}

async function acknowledged(c: ReplicaCluster, revision: number): Promise<number> {
  const counts = await Promise.all(
    c.groups.map((g) => g.ask<{ count: number }>({ applied: revision })),
  );
  return counts.reduce((s, x) => s + x.count, 0);
}

/** Background CPU rate of each process, µs per ms, over `ms`. */
async function idleRates(rs: Replica[], ms: number): Promise<number[]> {
  const c0 = cpuNow(rs);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c1 = cpuNow(rs);
  const dt = performance.now() - t0;
  return c1.map((x, i) => (x - c0[i]!) / dt);
}

/** Waits until no status write for `quietMs`; returns when the last one was seen. */
async function statusWritesSettled(fake: FakeKubeApi, quietMs: number): Promise<number> {
  let read = fake.requests.length;
  let lastAt = Date.now();
  await until(
    () => {
      // Only the requests since the last look: the log holds every request of the run.
      const fresh = fake.requests.slice(read);
      read += fresh.length;
      if (fresh.some((r) => r.method !== "GET" && r.path.includes("/nodemasquerades")))
        lastAt = Date.now();
      return Date.now() - lastAt > quietMs;
    },
    1_800_000,
    200,
    "status writes settled",
  );
  return lastAt;
}

/** Polls every replica's summary until it counts `n` nodes done on `revision`. */
async function viewsDone(
  rs: Replica[],
  revision: number,
  n: number,
  t0: number,
): Promise<number[]> {
  const at = rs.map(() => 0);
  await until(
    async () => {
      await Promise.all(
        rs.map(async (r, i) => {
          if (at[i]) return;
          const s = (await summary(r)).rollout;
          if (s?.revision === revision && s.done === n) at[i] = Date.now() - t0;
        }),
      );
      return at.every((x) => x > 0);
    },
    1_800_000,
    // Each poll is a request over every node of the fleet (~2 µs each): at most one per
    // 13,000 nodes a second keeps the benchmark's own share of the replicas' CPU small.
    Math.max(1000, Math.round(n / 13)),
    "every replica counts every node done",
  );
  return at;
}

/** One save on replica 0 (config index `k` makes each save differ). */
export async function saveOnce(c: ReplicaCluster, n: number, k: number): Promise<SaveRun> {
  const all = [...c.replicas, ...(c.observer ? [c.observer] : [])];
  const a = c.replicas[0]!;
  const cfg = await api<{ resourceVersion: string }>(a, "/api/config");
  const idle = await idleRates(all, 2000);
  const from = c.fake.requests.length;
  const cpu0 = cpuNow(all);
  const p0 = performance.now();
  const t0 = Date.now();
  const saved = await api<{ revision: number }>(a, "/api/config", {
    yaml: `nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.${k % 256}.0/24]\n`,
    resourceVersion: cfg.resourceVersion,
  });
  await until(async () => (await acknowledged(c, saved.revision)) === n, 1_800_000, 100, "acks");
  const timing = await Promise.all(
    c.groups.map((g) => g.ask<GroupTiming>({ timing: saved.revision })),
  );
  // The reporters' own clocks (this machine's): the last apply, not when a poll noticed it.
  const ackMs = Math.max(...timing.map((t) => t.lastApplied)) - t0;
  await new Promise((r) => setTimeout(r, 1000));
  const cpuPush = cpuNow(all);
  const pushMs = performance.now() - p0;
  const views = await viewsDone(all, saved.revision, n, t0);
  const settledAt = await statusWritesSettled(c.fake, 2000);
  const cpuEnd = cpuNow(all);
  const saveMs = performance.now() - p0;
  const used = (i: number, cpu: number[], ms: number) =>
    Math.max(0, cpu[i]! - cpu0[i]! - idle[i]! * ms);
  const replicas = c.replicas.map((r, i) => ({
    pod: r.pod,
    seenMs: timing[i]!.firstDesired - t0,
    ackMs: timing[i]!.lastApplied - t0,
    viewMs: views[i]!,
    pushMicrosPerNode: used(i, cpuPush, pushMs) / Math.max(1, r.nodes),
    saveMicros: used(i, cpuEnd, saveMs),
  }));
  return {
    ackMs,
    viewMs: Math.max(...views),
    settledMs: settledAt - t0,
    replicas,
    observerMicros: c.observer ? used(all.length - 1, cpuEnd, saveMs) : Number.NaN,
    writes: writes(c.fake, from),
  };
}
