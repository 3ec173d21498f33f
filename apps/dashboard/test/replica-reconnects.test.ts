// A staged rollout's owner calls a node that went offline gone only once every live replica has
// shown that the reconnects to it are written to their NodeMasquerades (issue 17, break7: after a
// replica died, the survivors' status writes took ~60 s to say its nodes reconnected, and the
// owner paused after a fixed 15 s saying they "went offline"). Each replica writes on its Lease,
// at every renewal, how many reconnects to it wait for their write; the others read it. Two
// replicas' ReplicaSync against the test API server through the real @kubernetes/client-node.
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { silentLogger } from "../src/server/log.js";
import type { StatusBody } from "../src/server/replicas/node-masquerade.js";
import { ReplicaLeases } from "../src/server/replicas/replica-leases.js";
import type { ReplicaSync } from "../src/server/replicas/replica-sync.js";
import { leasePair, replicaSync } from "./helpers/replicas.js";

let fake: FakeKubeApi | undefined;
const started: ReplicaSync[] = [];
const leases: ReplicaLeases[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.close()));
  await Promise.all(leases.splice(0).map((l) => l.halt()));
  await fake?.stop();
  fake = undefined;
});

const connected = (replica: string): StatusBody => ({
  replica,
  connected: true,
  health: "in-sync",
  desiredRevision: 2,
  appliedRevision: 2,
  backend: "iptables-nft",
  mode: "enforce",
  drift: { count: 0, reasons: [] },
  message: "",
});

describe("reconnects not yet written are told on the replica Lease", () => {
  it("the owner waits for a survivor whose reconnect writes are behind, then sees them written", async () => {
    fake = await new FakeKubeApi().start();
    // dash-b writes 2 statuses a second: 6 reconnects take it ~3 s.
    const owner = replicaSync(fake, "dash-a");
    const survivor = replicaSync(fake, "dash-b", { statusWritesPerSecond: 2 });
    started.push(owner, survivor);
    owner.start();
    survivor.start();
    await until(() => owner.leases.liveOthers()?.includes("dash-b"), 5_000);
    const since = performance.now();
    for (let i = 0; i < 6; i++) survivor.writer.offer(`node-${i}`, connected("dash-b"));
    const behind = await until(
      () => owner.leases.unreportedSince(since).find((x) => / reconnects not yet written$/.test(x)),
      5_000,
    );
    expect(behind).toMatch(/^dash-b: [1-6] reconnects not yet written$/);
    // Drained: a renewal seen after that says none wait.
    await until(() => survivor.writer.reconnectsPending === 0, 10_000);
    const drained = performance.now();
    await until(() => owner.leases.unreportedSince(drained).length === 0, 5_000);
    expect(fake.customObject("nodemasquerades", "", "node-5")?.status?.replica).toBe("dash-b");
  });

  it("a live replica not renewed since the time asked about is listed", async () => {
    fake = await new FakeKubeApi().start();
    const owner = replicaSync(fake, "dash-a");
    const other = replicaSync(fake, "dash-b");
    started.push(owner, other);
    owner.start();
    other.start();
    await until(() => owner.leases.liveOthers()?.includes("dash-b"), 5_000);
    expect(owner.leases.unreportedSince(performance.now() + 60_000)).toEqual([
      "dash-b: no Lease renewal seen since",
    ]);
  });
});

describe("a replica that stops renewing with reconnects not yet written (break7)", () => {
  it("is not dropped from the evidence: its reporters reconnect elsewhere, and those writes are waited for", async () => {
    fake = await new FakeKubeApi().start();
    const clients = () => kubeClients(fake!.kubeConfig());
    const common = {
      namespace: "kube-system",
      prefix: "ipmasq-ipmasq-dashboard-replica-",
      renewMs: 200,
      durationSeconds: 1,
      reconnectMs: 3_000,
    };
    const owner = new ReplicaLeases(
      clients(),
      { ...common, replica: "dash-a", reconnectsPending: () => 0 },
      silentLogger(),
    );
    // dash-b holds 3 reporters whose reconnect it never writes: it crashes.
    const dying = new ReplicaLeases(
      clients(),
      { ...common, replica: "dash-b", reconnectsPending: () => 3 },
      silentLogger(),
    );
    leases.push(owner, dying);
    await owner.start();
    await dying.start();
    await until(
      () =>
        owner
          .unreportedSince(Number.NEGATIVE_INFINITY)
          .includes("dash-b: 3 reconnects not yet written"),
      5_000,
    );
    const since = performance.now();
    await until(() => owner.unreportedSince(since).length > 0, 5_000);
    await dying.halt();
    await until(() => !owner.liveness("dash-b").live, 5_000);
    // dash-b's 3 reporters are now reconnecting to another replica: until that can have been
    // written (the reconnect window after its death), nothing says they are connected nowhere.
    expect(owner.unreportedSince(since)).toEqual([
      expect.stringMatching(/^dash-b: stopped renewing its Lease, 3 reconnects to it not written,/),
    ]);
    // The reconnect window after it went passed (no other replica to wait for): none left.
    await until(() => owner.unreportedSince(since).length === 0, 10_000);
  });
});

describe("the Lease saying every reconnect is written, before the owner's NodeMasquerade watch shows the write (break7)", () => {
  /** Clients whose NodeMasquerade watch events arrive `lagMs` late (a busy watch stream). */
  function laggingObjects(f: FakeKubeApi, lagMs: number) {
    const clients = kubeClients(f.kubeConfig());
    const watch = new Proxy(clients.watch, {
      get(target, key, receiver) {
        if (key !== "watch") return Reflect.get(target, key, receiver);
        return (
          path: string,
          query: Record<string, string | number | boolean | undefined>,
          onEvent: (type: string, obj: unknown) => void,
          onDone: (err: unknown) => void,
        ) => {
          const late = path.includes("nodemasquerades")
            ? (type: string, obj: unknown) => setTimeout(() => onEvent(type, obj), lagMs)
            : onEvent;
          return target.watch(path, query, late, onDone);
        };
      },
    });
    return { ...clients, watch };
  }

  it("is not the evidence that a node is connected nowhere: the next renewal is waited for", async () => {
    fake = await new FakeKubeApi().start();
    const owner = replicaSync(fake, "dash-a", { clients: laggingObjects(fake, 400) });
    const holder = replicaSync(fake, "dash-b", { leaseRenewMs: 1000, leaseDurationSeconds: 3 });
    started.push(owner, holder);
    owner.start();
    holder.start();
    await until(() => owner.leases.liveOthers()?.includes("dash-b"), 5_000);
    await until(() => owner.objects.health.lists > 0, 5_000);
    // Just before dash-b's next renewal, node-1 reconnects to it (the suspect's window ends then).
    const renewed = performance.now();
    await until(() => owner.leases.unreportedSince(renewed).length === 0, 5_000);
    await new Promise((r) => setTimeout(r, 900));
    holder.writer.offer("node-1", connected("dash-b"));
    const since = performance.now();
    // The first moment the Leases say every reconnect is written since: the owner must see it.
    await until(() => owner.leases.unreportedSince(since).length === 0, 10_000, 2);
    expect(owner.objects.get("node-1")?.status).toMatchObject({
      replica: "dash-b",
      connected: true,
    });
  });
});

describe("a replica that stops renewing without releasing its Lease (issue 17)", () => {
  const pair = async () => {
    fake = await new FakeKubeApi().start();
    const p = await leasePair(fake);
    leases.push(p.owner, p.other);
    return p;
  };

  it("is of unknown state: cut off from the API server or dead, not told apart", async () => {
    const { owner, other } = await pair();
    expect(owner.unknownState("dash-b")).toBeUndefined();
    await other.halt();
    await until(() => !owner.liveness("dash-b").live, 5_000);
    expect(owner.unknownState("dash-b")).toMatch(
      /^replica dash-b stopped renewing its Lease at .+: whether it is alive and still holds the node is not known$/,
    );
    expect(owner.unknownState("dash-never")).toBeUndefined(); // no Lease: none
  });

  it("released on shutdown: known to be gone", async () => {
    const { owner, other } = await pair();
    await other.close();
    await until(() => !owner.liveness("dash-b").live, 5_000);
    expect(owner.unknownState("dash-b")).toBeUndefined();
  });
});
