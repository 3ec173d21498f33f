// The chart installed in the test API server (@masq/testkit/kube-api: the crds/ first, then the
// templates' RBAC, ConfigMaps and Lease, as `helm install` does), driven through the real
// @kubernetes/client-node as the dashboard's ServiceAccount: every call several replicas make
// on NodeMasquerades and Leases is allowed by the chart's RBAC, each as the design lists it,
// what the chart does not grant is refused, the CRD takes the status a replica writes and
// refuses what it bounds, and `kubectl get`'s columns find their fields on a stored object.
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/kube-api.test.ts
import {
  CoordinationV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { crdFile, type Schema, schemaAt } from "./helpers/crd.js";

const NM = { group: "ipmasq.dev", version: "v1alpha1", plural: "nodemasquerades" };
const NS = "kube-system";
const LEASE = "ipmasq-ipmasq-dashboard";
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
// biome-ignore lint/suspicious/noExplicitAny: custom objects are free-form JSON
type Obj = any;

/** A NodeMasquerade status as the holding replica writes it (conditions in metav1 shape). */
const status = (o: Obj = {}) => ({
  replica: "ipmasq-ipmasq-dashboard-dashboard-7d9f-abcde",
  connected: true,
  health: "drifted",
  desiredRevision: 7,
  appliedRevision: 6,
  backend: "nf_tables",
  mode: "enforce",
  drift: { count: 2, reasons: ["missing RETURN for 10.0.0.0/8", "extra rule -d 192.0.2.0/24"] },
  message: "2 differences: missing RETURN for 10.0.0.0/8, …",
  observedAt: "2026-11-30T21:00:00Z",
  conditions: [
    {
      type: "Connected",
      status: "True",
      reason: "ReporterConnected",
      message: "reporter connected to ipmasq-ipmasq-dashboard-dashboard-7d9f-abcde",
      lastTransitionTime: "2026-11-30T20:00:00Z",
    },
    {
      type: "InSync",
      status: "False",
      reason: "Drifted",
      message: "2 differences",
      lastTransitionTime: "2026-11-30T21:00:00Z",
    },
  ],
  ...o,
});

/** The API server's answer code for a call that may fail. */
async function code(call: () => Promise<unknown>): Promise<number> {
  try {
    await call();
    return 200;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

describe("the chart in the test API server, as the dashboard's ServiceAccount", () => {
  let fake: FakeKubeApi;
  let nm: CustomObjectsApi;
  let leases: CoordinationV1Api;
  beforeAll(async () => {
    fake = await new FakeKubeApi({ chart: { set: ["dashboard.replicas=3"] } }).start();
    nm = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    leases = fake.kubeConfig().makeApiClient(CoordinationV1Api);
  });
  afterAll(async () => {
    await fake?.stop();
  });

  it("creates, lists and patches NodeMasquerades and writes their status", async () => {
    const body = {
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "node-a" },
    };
    await nm.createClusterCustomObject({ ...NM, body });
    const written: Obj = await nm.patchClusterCustomObjectStatus(
      { ...NM, name: "node-a", body: { status: status() } },
      merge,
    );
    expect(written.status).toEqual(status());
    const req = {
      id: "r-1",
      requestedBy: "alice@example.com",
      requestedAt: "2026-11-30T21:00:01Z",
    };
    await nm.patchClusterCustomObject(
      { ...NM, name: "node-a", body: { spec: { resyncRequest: req } } },
      merge,
    );
    const answered: Obj = await nm.patchClusterCustomObjectStatus(
      {
        ...NM,
        name: "node-a",
        body: { status: status({ resyncObserved: "r-1", health: "in-sync", appliedRevision: 7 }) },
      },
      merge,
    );
    expect(answered.spec.resyncRequest).toEqual(req);
    expect(answered.status.resyncObserved).toBe("r-1");
    const listed = ((await nm.listClusterCustomObject(NM)) as Obj).items;
    expect(listed.map((o: Obj) => [o.metadata.name, o.status.health])).toEqual([
      ["node-a", "in-sync"],
    ]);
  });

  it("reads one NodeMasquerade fresh (get), is refused the calls the dashboard does not make (update), and deletes", async () => {
    const name = "node-a";
    const stored = fake.customObject("nodemasquerades", "", name);
    // The rollout owner's fresh read before it calls a node gone (staged-offline.ts).
    expect(((await nm.getClusterCustomObject({ ...NM, name })) as Obj).metadata.name).toBe(name);
    expect(await code(() => nm.replaceClusterCustomObject({ ...NM, name, body: stored }))).toBe(
      403,
    );
    expect(
      await code(() => nm.replaceClusterCustomObjectStatus({ ...NM, name, body: stored })),
    ).toBe(403);
    // The singleton holder's expiry of a node gone from the cluster.
    await nm.deleteClusterCustomObject({ ...NM, name });
    expect(fake.customObject("nodemasquerades", "", name)).toBeUndefined();
  });

  it.each([
    { desc: "a health the dashboard does not have", change: { health: "InSync" } },
    {
      desc: "eleven drift reasons",
      change: { drift: { count: 11, reasons: Array(11).fill("x") } },
    },
    {
      desc: "a drift reason over 200 characters",
      change: { drift: { count: 1, reasons: ["x".repeat(201)] } },
    },
    { desc: "a message over 1024 characters", change: { message: "x".repeat(1025) } },
    { desc: "no holder", change: { replica: null } },
    {
      desc: "an empty condition reason",
      change: { conditions: [{ ...status().conditions[0], reason: "" }] },
    },
    {
      desc: "a condition reason that is a sentence",
      change: { conditions: [{ ...status().conditions[0], reason: "reporter connected" }] },
    },
    { desc: "a resync id the holder cannot echo", change: { resyncObserved: "x".repeat(65) } },
  ])("refuses a status with $desc (422) and keeps the stored one", async ({ change }) => {
    const name = "node-bounds";
    if (!fake.customObject("nodemasquerades", "", name))
      await nm.createClusterCustomObject({
        ...NM,
        body: { apiVersion: "ipmasq.dev/v1alpha1", kind: "NodeMasquerade", metadata: { name } },
      });
    await nm.patchClusterCustomObjectStatus({ ...NM, name, body: { status: status() } }, merge);
    const patch = () =>
      nm.patchClusterCustomObjectStatus({ ...NM, name, body: { status: change } }, merge);
    expect(await code(patch)).toBe(422);
    expect(fake.customObject("nodemasquerades", "", name)?.status).toEqual(status());
  });

  it("shows kubectl get's columns from a stored object", async () => {
    await nm.createClusterCustomObject({
      ...NM,
      body: {
        apiVersion: "ipmasq.dev/v1alpha1",
        kind: "NodeMasquerade",
        metadata: { name: "node-c" },
      },
    });
    const stored: Obj = await nm.patchClusterCustomObjectStatus(
      { ...NM, name: "node-c", body: { status: status() } },
      merge,
    );
    const columns = crdFile().spec.versions[0]!.additionalPrinterColumns!;
    const value = (path: string) =>
      path
        .slice(1)
        .split(".")
        .reduce((o: Obj, k) => o?.[k], stored);
    expect(Object.fromEntries(columns.map((c) => [c.name, value(c.jsonPath)]))).toEqual({
      Health: "drifted",
      Applied: 6,
      Desired: 7,
      Replica: "ipmasq-ipmasq-dashboard-dashboard-7d9f-abcde",
      Connected: true,
      Age: stored.metadata.creationTimestamp,
      Backend: "nf_tables",
      Message: "2 differences: missing RETURN for 10.0.0.0/8, …",
    });
    expect(
      schemaAt(crdFile().spec.versions[0]!.schema!.openAPIV3Schema as Schema, ".status.health")
        ?.enum,
    ).toContain("drifted");
  });

  it("creates and renews its replica Lease and reads the others', beside the singleton", async () => {
    const name = `${LEASE}-replica-ipmasq-ipmasq-dashboard-dashboard-7d9f-abcde`;
    const spec = {
      holderIdentity: "ipmasq-ipmasq-dashboard-dashboard-7d9f-abcde",
      leaseDurationSeconds: 15,
    };
    await leases.createNamespacedLease({ namespace: NS, body: { metadata: { name }, spec } });
    const lease = await leases.readNamespacedLease({ namespace: NS, name });
    await leases.replaceNamespacedLease({
      namespace: NS,
      name,
      body: { ...lease, spec: { ...spec, renewTime: new Date() } },
    });
    const names = (await leases.listNamespacedLease({ namespace: NS })).items.map(
      (l) => l.metadata?.name,
    );
    expect(names).toEqual(expect.arrayContaining([LEASE, name]));
  });

  it("is refused what the chart does not grant", async () => {
    // Leases are neither deleted nor written outside the ConfigMap's namespace (inside it the
    // admission policy narrows deletes to replica Leases: rbac.test.ts).
    expect(
      await code(() => leases.deleteNamespacedLease({ namespace: "default", name: LEASE })),
    ).toBe(403);
    expect(await code(() => leases.listNamespacedLease({ namespace: "default" }))).toBe(403);
    // NodeMasquerade status is never deleted on its own, nor the CRD touched.
    const crd = {
      group: "apiextensions.k8s.io",
      version: "v1",
      plural: "customresourcedefinitions",
    };
    expect(
      await code(() => nm.getClusterCustomObject({ ...crd, name: "nodemasquerades.ipmasq.dev" })),
    ).toBe(403);
  });
});

describe("the chart without replica sync, in the test API server", () => {
  it("grants nothing on NodeMasquerades", async () => {
    const fake = await new FakeKubeApi({
      chart: { set: ["dashboard.replicaSync.enabled=false"] },
    }).start();
    try {
      const nm = fake.kubeConfig().makeApiClient(CustomObjectsApi);
      expect(await code(() => nm.listClusterCustomObject(NM))).toBe(403);
    } finally {
      await fake.stop();
    }
  });
});
