// What the staged-rollout tests across replicas read: the strategy saved, the revisions a
// reporter was sent, a replica's rollout view and the rollout's owner.
import type { DashboardMessage, StagedRolloutView, WavesStrategy } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import type { KubeTestServer } from "./kube-server.js";
import { eventually } from "./server.js";

/** Waves with `canary`, then the rest, each waiting for a promote. */
export const waves = (canary: WavesStrategy["canary"]): WavesStrategy => ({
  kind: "waves",
  canary,
  waves: [100],
  pause: { kind: "manual" },
});

/** Waits until the canary of a manual-pause staged rollout applied; the rollout then. */
export async function untilCanaryApplied(s: {
  api: KubeTestServer["api"];
}): Promise<StagedRolloutView> {
  return eventually(
    async () => {
      const r = await rollout(s);
      return r?.message === "the canary applied; paused until promoted" ? r : undefined;
    },
    5000,
    "the canary applied",
  );
}

/** The revisions of the `desired` frames a reporter got, in order. */
export const desired = (s: { received: DashboardMessage[] }) =>
  s.received.flatMap((m: DashboardMessage) => (m.type === "desired" ? [m.revision] : []));

/** A replica's view of the staged rollout (null: none). */
export const rollout = async (s: {
  api: KubeTestServer["api"];
}): Promise<StagedRolloutView | null> => (await s.api("/api/rollout")).body.rollout;

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

/**
 * Waits until the owner `a` shows `nodes` nodes in sync and refuses no staged save (the other
 * replicas seen), then saves `yaml` in `strategy`'s waves and waits for its canary to apply.
 */
export async function canaryApplied(
  a: { api: KubeTestServer["api"] },
  nodes: number,
  yaml: string,
  strategy: WavesStrategy,
): Promise<number> {
  await eventually(
    async () => (await a.api("/api/nodes")).body.summary.byStatus["in-sync"] === nodes || undefined,
    10_000,
    `${nodes} nodes in sync on the owner`,
  );
  await eventually(
    async () => (await a.api("/api/config")).body.stagedRefusal === null || undefined,
    10_000,
    "the other replicas seen",
  );
  const revision = await saveInWaves(a, yaml, strategy);
  await eventually(
    async () =>
      (await rollout(a))?.message === "the canary applied; paused until promoted" || undefined,
    20_000,
    "the canary applied",
  );
  return revision;
}
