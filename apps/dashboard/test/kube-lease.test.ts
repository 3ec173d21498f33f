// The active replica (Lease) through the real client-node against the test API server with the
// chart's RBAC: one replica ready, hand-over on stop, expiry judged by this replica's own clock
// from when it saw the record change (issue 18.6), and a deleted Lease recreated (18.3).
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { sleep } from "@masq/testkit/wait";
import { beforeEach, describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { LeaseElector, type LeaseOptions } from "../src/server/kube/lease.js";
import { silentLogger } from "../src/server/log.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
let fake: FakeKubeApi;
let LEASE = "";

const k = kubeTestCluster();

beforeEach(async () => {
  fake = await k.cluster();
  LEASE = fake.dashboardEnv().IPMASQ_LEASE!;
});

// The singleton Lease deciding readiness: the mode without replica sync (the chart's
// dashboard.replicaSync.enabled=false); with it every replica is ready (kube-replicas.test.ts).
const start = (pod: string) => k.start({ POD_NAME: pod, IPMASQ_REPLICA_SYNC: "false" });

/** A replica's elector with short timings (2 s leases) and its own clock. */
async function elector(identity: string, opts: Partial<LeaseOptions> = {}): Promise<LeaseElector> {
  const e = new LeaseElector(
    kubeClients(fake.kubeConfig()),
    {
      namespace: NS,
      name: LEASE,
      identity,
      durationSeconds: 2,
      renewMs: 100,
      renewDeadlineMs: 1500,
      ...opts,
    },
    silentLogger(),
  );
  k.defer(() => e.close());
  await e.start();
  return e;
}

/** Another replica holding the Lease and renewing it, on a node whose clock is `skewMs` off. */
function holderElsewhere(skewMs: number): { stop(): void } {
  const renew = () => {
    const cur = fake.lease(NS, LEASE);
    if (!cur) return;
    const at = new Date(Date.now() + skewMs).toISOString().replace("Z", "000Z");
    fake.apply(
      {
        ...cur,
        spec: {
          holderIdentity: "dash-elsewhere",
          leaseDurationSeconds: 2,
          acquireTime: cur.spec?.acquireTime ?? at,
          renewTime: at,
          leaseTransitions: 1,
        },
      },
      "ipmasq-dashboard",
    );
  };
  renew();
  const t = setInterval(renew, 200);
  const h = { stop: () => clearInterval(t) };
  k.defer(() => h.stop());
  return h;
}

describe("active replica (Lease)", () => {
  it("makes exactly one replica ready and hands over when it stops", async () => {
    const a = await start("dash-a");
    const b = await start("dash-b");
    expect((await a.api("/readyz", { token: null })).status).toBe(200);
    const standby = await b.api("/readyz", { token: null });
    expect(standby.status).toBe(503);
    expect(standby.body.checks.active).toBe(false);
    expect(standby.body.detail.lease).toMatchObject({ leader: false, holder: "dash-a" });
    expect(fake.lease(NS, LEASE).spec.holderIdentity).toBe("dash-a");
    await k.stop(a);
    // The standby retries every 2 s; the released lease is free at its next attempt.
    await eventually(
      async () => (await b.api("/readyz", { token: null })).status === 200,
      7000,
      "takeover",
    );
  }, 15_000);

  it("does not take the Lease from a holder whose clock is 20 s behind while it renews", async () => {
    const other = holderElsewhere(-20_000);
    const me = await elector("dash-me");
    await sleep(3000); // longer than the 2 s lease: still renewed all along
    expect(me.isLeader()).toBe(false);
    expect(fake.lease(NS, LEASE).spec.holderIdentity).toBe("dash-elsewhere");
    // Once the holder stops renewing, the record stops changing: taken over after ~2 s.
    other.stop();
    const stoppedAt = Date.now();
    await eventually(() => me.isLeader(), 5000, "takeover");
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(1500);
    expect(fake.lease(NS, LEASE).spec.holderIdentity).toBe("dash-me");
  }, 15_000);

  it("keeps a standby whose own clock runs 20 s ahead a standby", async () => {
    const a = await elector("dash-a");
    const b = await elector("dash-b", { clock: () => Date.now() + 20_000 });
    await sleep(3000);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect(fake.lease(NS, LEASE).spec.leaseTransitions).toBe(1);
  }, 15_000);

  // A wall-clock step (NTP, a VM resumed) on the replicas' machine: durations are monotonic.
  const steps = [
    { desc: "forward 1 min", input: 60_000, want: { leaders: [true, false], transitions: 1 } },
    { desc: "backward 1 min", input: -60_000, want: { leaders: [true, false], transitions: 1 } },
    { desc: "none", input: 0, want: { leaders: [true, false], transitions: 1 } },
  ];
  for (const { desc, input, want } of steps)
    it(`a wall clock stepped ${desc}: the holder stays leader, the standby a standby`, async () => {
      const step = { ms: 0 };
      const clock = () => Date.now() + step.ms;
      const a = await elector("dash-a", { clock });
      const b = await elector("dash-b", { clock });
      const got = () => ({
        leaders: [a.isLeader(), b.isLeader()],
        transitions: fake.lease(NS, LEASE).spec.leaseTransitions,
      });
      step.ms = input;
      expect(got(), "at the step").toEqual(want);
      await sleep(3000); // longer than the 2 s lease
      expect(got(), "a lease later").toEqual(want);
    }, 15_000);

  // Issue 18.3: the chart created the Lease; someone deletes it.
  it("recreates a deleted Lease, so a replica stays active", async () => {
    const a = await start("dash-a");
    const b = await start("dash-b");
    fake.deleteLease(NS, LEASE);
    await eventually(() => fake.lease(NS, LEASE)?.spec?.holderIdentity, 5000, "Lease recreated");
    expect(fake.lease(NS, LEASE).spec.holderIdentity).toBe("dash-a");
    const ready = await Promise.all(
      [a, b].map(async (s) => (await s.api("/readyz", { token: null })).status),
    );
    expect(ready).toEqual([200, 503]);
    // A replica that starts while the Lease is missing creates it and leads.
    await k.stop(a);
    await k.stop(b);
    fake.deleteLease(NS, LEASE);
    const c = await start("dash-c");
    expect((await c.api("/readyz", { token: null })).status).toBe(200);
    expect(fake.lease(NS, LEASE).spec.holderIdentity).toBe("dash-c");
  }, 20_000);
});
