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
  const down = fake.restart(1_500);
  sync.start();
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
