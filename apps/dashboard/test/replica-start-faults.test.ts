// break4: a replica whose first NodeMasquerade or Lease list fails (an API server restarting
// while the replica starts, a 503, a continue token expired four times) must list again: the
// informer's start() rejects on its first list and nothing retried it, so the replica served
// for its whole life without the nodes other replicas hold (and with every other replica
// "without a Lease", staged rollouts refused as "not listed yet"), while /readyz said ready.
import { expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaSync } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();

it("a replica started while the API server is down lists NodeMasquerades and Leases once it is back", async () => {
  const fake = await t.cluster();
  const sync = replicaSync(fake, "dash-a");
  t.defer(() => sync.close());
  const down = fake.restart(2_500);
  sync.start();
  // Past the Lease duration (1 s here) and still not listed: another replica's nodes are not
  // said to have "no Lease" (they may well have one), only that it is not known.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(sync.leases.liveness("dash-b")).toMatchObject({
    live: false,
    reason: expect.stringMatching(/^the replica Leases cannot be listed here/),
  });
  expect(sync.problems().join("\n")).toMatch(/NodeMasquerades cannot be listed/);
  await down;
  await eventually(
    () => sync.objects.health.lists > 0,
    10_000,
    "the NodeMasquerades listed once the API server is back",
  );
  await eventually(
    () => sync.leases.liveOthers() !== null,
    10_000,
    "the replica Leases listed once the API server is back",
  );
  expect(sync.stagedRefusal()).toBeNull();
  await eventually(() => sync.problems().length === 0, 5_000, "no problem left once listed");
});
