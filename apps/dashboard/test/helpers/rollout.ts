// What the staged-rollout tests across replicas read: the strategy saved, the revisions a
// reporter was sent, a replica's rollout view and the rollout's owner.
import type { DashboardMessage, StagedRolloutView, WavesStrategy } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import type { KubeTestServer } from "./kube-server.js";

/** Waves with `canary`, then the rest, each waiting for a promote. */
export const waves = (canary: WavesStrategy["canary"]): WavesStrategy => ({
  kind: "waves",
  canary,
  waves: [100],
  pause: { kind: "manual" },
});

/** The revisions of the `desired` frames a reporter got, in order. */
export const desired = (s: { received: DashboardMessage[] }) =>
  s.received.flatMap((m: DashboardMessage) => (m.type === "desired" ? [m.revision] : []));

/** A replica's view of the staged rollout (null: none). */
export const rollout = async (s: KubeTestServer): Promise<StagedRolloutView | null> =>
  (await s.api("/api/rollout")).body.rollout;

/** The replica holding the singleton Lease (the rollout's owner). */
export const ownerOf = (fake: FakeKubeApi) =>
  fake.lease("kube-system", "ipmasq-ipmasq-dashboard")?.spec?.holderIdentity as string | undefined;

/** Saves `yaml` on `s` to roll out in `strategy`'s waves; the new revision (the save is 200). */
export async function saveInWaves(
  s: { api: KubeTestServer["api"] },
  yaml: string,
  strategy: WavesStrategy,
): Promise<number> {
  const before = (await s.api("/api/config")).body;
  const put = await s.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: before.resourceVersion, strategy },
  });
  if (put.status !== 200)
    throw new Error(`save refused: ${put.status} ${JSON.stringify(put.body)}`);
  return put.body.revision as number;
}
