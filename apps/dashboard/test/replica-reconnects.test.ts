// A staged rollout's owner calls a node that went offline gone only once every live replica has
// shown that the reconnects to it are written to their NodeMasquerades (issue 17, break7: after a
// replica died, the survivors' status writes took ~60 s to say its nodes reconnected, and the
// owner paused after a fixed 15 s saying they "went offline"). Each replica writes on its Lease,
// at every renewal, how many reconnects to it wait for their write; the others read it. Two
// replicas' ReplicaSync against the test API server through the real @kubernetes/client-node.
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import type { StatusBody } from "../src/server/replicas/node-masquerade.js";
import type { ReplicaSync } from "../src/server/replicas/replica-sync.js";
import { replicaSync } from "./helpers/replicas.js";

let fake: FakeKubeApi | undefined;
const started: ReplicaSync[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((r) => r.close()));
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
    const since = Date.now();
    for (let i = 0; i < 6; i++) survivor.writer.offer(`node-${i}`, connected("dash-b"));
    const behind = await until(
      () => owner.leases.unreportedSince(since).find((x) => / reconnects not yet written$/.test(x)),
      5_000,
    );
    expect(behind).toMatch(/^dash-b: [1-6] reconnects not yet written$/);
    // Drained: a renewal seen after that says none wait.
    await until(() => survivor.writer.reconnectsPending === 0, 10_000);
    const drained = Date.now();
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
    expect(owner.leases.unreportedSince(Date.now() + 60_000)).toEqual([
      "dash-b: no Lease renewal seen since",
    ]);
  });
});
