// break3: hostile or racing NodeMasquerade writes against every-replica-active (issue 17).
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeClients } from "../src/server/kube/client.js";
import { kubeNodeExists } from "../src/server/kube/node-lookup.js";
import { silentLogger } from "../src/server/log.js";
import { ReplicaSync } from "../src/server/replicas/replica-sync.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();

function replicaSync(fake: FakeKubeApi, pod: string): ReplicaSync {
  const clients = kubeClients(fake.kubeConfig());
  return new ReplicaSync({
    clients,
    nodeExists: kubeNodeExists(clients, silentLogger()),
    replica: pod,
    namespace: "kube-system",
    leasePrefix: "ipmasq-ipmasq-dashboard-replica-",
    statusWritesPerSecond: 50,
    log: silentLogger(),
    leaseRenewMs: 200,
    leaseDurationSeconds: 1,
  });
}

async function replica(fake: FakeKubeApi, pod: string) {
  const replicas = replicaSync(fake, pod);
  return Object.assign(await t.start({ POD_NAME: pod }, { replicas }), { replicas });
}

const nm = (fake: FakeKubeApi, node: string) => fake.customObject("nodemasquerades", "", node);

describe("break3: NodeMasquerade status overwritten while the holder keeps the node", () => {
  it("a status naming another (or no such) replica is rewritten by the replica holding the node", async () => {
    const fake = await t.cluster();
    const a = await replica(fake, "dash-a");
    const b = await replica(fake, "dash-b");
    await t.reporter(a, "node-1");
    await eventually(() => nm(fake, "node-1")?.status?.health === "in-sync", 10_000, "node-1 CR");
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "in-sync",
      10_000,
      "in sync on dash-b",
    );
    // What a lagging watch leaves behind when a reporter hops A→B→A quickly (B's offline write
    // lands after A's connected one, which A then never repeats), or `kubectl edit --subresource
    // status`: the object names a replica that does not hold the node.
    fake.apply({
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "node-1" },
      spec: {},
      status: {
        replica: "dash-ghost",
        connected: false,
        health: "offline",
        observedAt: `${new Date().toISOString().slice(0, 19)}Z`,
      },
    });
    // dash-a holds the connection: the object must come back to the truth.
    await eventually(
      () => nm(fake, "node-1")?.status?.replica === "dash-a",
      5_000,
      "dash-a rewrites the status of the node it holds",
    );
    await eventually(
      async () => (await b.api("/api/nodes/node-1")).body.node?.status === "in-sync",
      5_000,
      "dash-b shows the node in sync again",
    );
  });
});
