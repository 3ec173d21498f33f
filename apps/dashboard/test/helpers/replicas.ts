// Every replica active, in process: a replica's ReplicaSync with short Leases (renew 200 ms,
// 1 s) against the test API server, as setup.ts builds it otherwise, and a dashboard on it.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { kubeClients } from "../../src/server/kube/client.js";
import { kubeNodeExists } from "../../src/server/kube/node-lookup.js";
import { silentLogger } from "../../src/server/log.js";
import {
  type ReplicaLeaseOptions,
  ReplicaLeases,
} from "../../src/server/replicas/replica-leases.js";
import { ReplicaSync, type ReplicaSyncOptions } from "../../src/server/replicas/replica-sync.js";
import type { kubeTestCluster } from "./kube-server.js";

export function replicaSync(
  fake: FakeKubeApi,
  pod: string,
  extra: Partial<ReplicaSyncOptions> = {},
): ReplicaSync {
  const clients = kubeClients(fake.kubeConfig());
  return new ReplicaSync({
    clients,
    nodeExists: kubeNodeExists(clients, silentLogger()),
    replica: pod,
    namespace: "kube-system",
    podNamespace: "kube-system",
    leasePrefix: "ipmasq-ipmasq-dashboard-replica-",
    statusWritesPerSecond: 50,
    log: silentLogger(),
    leaseRenewMs: 200,
    leaseDurationSeconds: 1,
    ...extra,
  });
}

/**
 * Starts dashboard replicas of the cluster `t`, each with its ReplicaSync (`replicas`); `extra`
 * its options, or a function of the pod name giving them.
 */
export function replicaStarter(
  t: ReturnType<typeof kubeTestCluster>,
  extra: Partial<ReplicaSyncOptions> | ((pod: string) => Partial<ReplicaSyncOptions>) = {},
) {
  return async (fake: FakeKubeApi, pod: string) => {
    const replicas = replicaSync(fake, pod, typeof extra === "function" ? extra(pod) : extra);
    return Object.assign(await t.start({ POD_NAME: pod }, { replicas }), { replicas });
  };
}

/** The NodeMasquerade of `node` as the test API server holds it. */
export const nodeMasquerade = (fake: FakeKubeApi, node: string) =>
  fake.customObject("nodemasquerades", "", node);

/**
 * Two replicas' Leases alone (dash-a: `owner`, with `extra`; dash-b: `other`), renewing every
 * 200 ms for 1 s against the test API server, started and seeing each other. The caller halts them.
 */
export async function leasePair(
  fake: FakeKubeApi,
  extra: Partial<ReplicaLeaseOptions> = {},
): Promise<{ owner: ReplicaLeases; other: ReplicaLeases }> {
  const common = {
    namespace: "kube-system",
    prefix: "ipmasq-ipmasq-dashboard-replica-",
    renewMs: 200,
    durationSeconds: 1,
  };
  const clients = () => kubeClients(fake.kubeConfig());
  const log = silentLogger();
  const owner = new ReplicaLeases(clients(), { ...common, ...extra, replica: "dash-a" }, log);
  const other = new ReplicaLeases(clients(), { ...common, replica: "dash-b" }, log);
  await owner.start();
  await other.start();
  await until(() => owner.liveOthers()?.includes("dash-b"), 5_000);
  return { owner, other };
}
