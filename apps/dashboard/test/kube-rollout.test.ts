// A staged rollout in Kubernetes mode through the real @kubernetes/client-node against the test
// API server with the chart's RBAC: the canary picked by a Node label selector, the state kept
// on the history ConfigMap, and a dashboard restart in the middle of the rollout — reporters
// that reconnect to the new dashboard get their wave's revision (the canary the new one, the
// others the previous one), then promote finishes it.
import type { DashboardMessage, StagedRolloutView } from "@masq/shared";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { beforeEach, describe, expect, it } from "vitest";
import { previousPersistedSchema } from "../src/server/fleet/staged-state-17918c2.fixture.js";
import { setDigest } from "../src/server/fleet/wave-digest.js";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually, perTest, startServer } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const NODES = ["node-a", "node-b", "node-c"];
const k = kubeTestCluster();
let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await k.cluster();
});

const rollout = async (s: KubeTestServer): Promise<StagedRolloutView | null> =>
  (await s.api("/api/rollout")).body.rollout;
const desiredRevision = (m: DashboardMessage) => (m.type === "desired" ? m.revision : null);

async function connectAll(s: KubeTestServer) {
  const sims = new Map<string, Awaited<ReturnType<typeof k.reporter>>>();
  for (const n of NODES) sims.set(n, await k.reporter(s, n));
  await eventually(
    async () => {
      const nodes = (await s.api("/api/nodes")).body.nodes as { status: string }[];
      return nodes.length === 3 && nodes.every((n) => n.status === "in-sync");
    },
    5000,
    "every node in sync",
  );
  return sims;
}

describe("staged rollout, Kubernetes store", () => {
  it("picks the canary by label, persists on the history ConfigMap, resumes after a restart", async () => {
    const s = await k.start();
    await connectAll(s);
    const before = (await s.api("/api/config")).body;
    const put = await s.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n",
        resourceVersion: before.resourceVersion,
        strategy: {
          kind: "waves",
          canary: { selector: { "kubernetes.io/hostname": "node-b" } },
          waves: [100],
          pause: { kind: "manual" },
        },
      },
    });
    expect(put.status).toBe(200);
    await eventually(async () => (await rollout(s))?.phase === "paused", 5000, "canary applied");
    const paused = (await rollout(s))!;
    expect(paused.waves.map((w) => w.appliedNodes.concat(w.pendingNodes))).toEqual([
      ["node-b"],
      ["node-a", "node-c"],
    ]);
    const stored = JSON.parse(
      await eventually(
        () => {
          // An owner starting says it began the revision it starts on (current: null) first.
          const raw = fake.configMap(NS, `${CM}-history`)?.data?.["rollout.json"];
          return raw && JSON.parse(raw).current ? raw : undefined;
        },
        5000,
        "the rollout state on the history ConfigMap",
      ),
    );
    expect(stored.current).toMatchObject({
      resourceVersion: put.body.resourceVersion,
      core: { step: 0 },
    });
    expect(fake.configMap(NS, CM)?.data?.["rollout.json"]).toBeUndefined();
    // The previous release (17918c2) reads it, so `helm rollback` mid-rollout resumes it; the
    // per-wave digests it would refuse are kept apart, in the same write (staged-compat.ts).
    expect(previousPersistedSchema.safeParse(stored).success).toBe(true);
    const extras = fake.configMap(NS, `${CM}-history`)?.data?.["rollout-extras.json"];
    expect(JSON.parse(extras ?? "null")).toMatchObject({
      digests: [setDigest(["node-b"]), setDigest(["node-a", "node-c"])],
    });

    await k.stop(s);
    const again = await k.start();
    const resumed = (await rollout(again))!;
    expect(resumed).toMatchObject({
      resourceVersion: put.body.resourceVersion,
      phase: "paused",
      step: 0,
    });
    // Reporters reconnecting to the new dashboard get their wave's revision.
    const sims = await connectAll(again);
    const got = (n: string) =>
      sims
        .get(n)!
        .received.map(desiredRevision)
        .filter((g) => g);
    expect(got("node-b")).toEqual([put.body.revision]);
    expect(got("node-a")).toEqual([before.revision]);
    expect(got("node-c")).toEqual([before.revision]);

    const promote = await again.api("/api/rollout/promote", { method: "POST", body: {} });
    expect(promote.status).toBe(200);
    await eventually(async () => (await rollout(again))?.phase === "healthy", 5000, "healthy");
    expect(got("node-a")).toEqual([before.revision, put.body.revision]);
    await eventually(
      () =>
        JSON.parse(fake.configMap(NS, `${CM}-history`)?.data?.["rollout.json"] ?? "null")?.current
          ?.core.phase === "healthy",
      5000,
      "the healthy rollout persisted",
    );
    // The history written beside it is intact.
    expect(
      JSON.parse(fake.configMap(NS, `${CM}-history`)?.data?.["history.json"] ?? "[]"),
    ).toHaveLength(2);
  });
});

describe("staged rollout, file store", () => {
  const t = perTest();
  it("refuses a canary label selector: Node labels are not read there, and nothing is saved", async () => {
    t.server = await startServer();
    const before = (await t.server.api("/api/config")).body;
    const put = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
        resourceVersion: before.resourceVersion,
        strategy: {
          kind: "waves",
          canary: { selector: { pool: "canary" } },
          waves: [100],
          pause: { kind: "manual" },
        },
      },
    });
    expect(put.status).toBe(400);
    expect(put.body.error).toMatch(/label selector needs the nodes' labels/);
    expect((await t.server.api("/api/config")).body.resourceVersion).toBe(before.resourceVersion);
    const bad = await t.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
        resourceVersion: before.resourceVersion,
        strategy: { kind: "waves", canary: { count: 1 }, waves: [50], pause: { kind: "manual" } },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/100%/);
  });
});
