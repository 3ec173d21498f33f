// Issue 17: the test API server serves custom resources as kube-apiserver does, checked through
// the real @kubernetes/client-node: the chart's NodeMasquerade CRD installed with the chart, the
// /status subresource (status writes ignore spec and the other way round), generation, RBAC by
// resource and subresource, resourceVersion conflicts, openAPIV3Schema pruning and 422s, watches,
// JSON and merge patches, and a CRD created through the API making its (namespaced) resource
// servable until it is deleted.
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  Watch,
} from "@kubernetes/client-node";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { afterEach, describe, expect, it } from "vitest";
import type { FleetState } from "../src/server/fleet/fleet-state.js";
import { remoteOf } from "../src/server/replicas/fleet-view.js";
import {
  fullStatus,
  type NodeMasquerade,
  nodeMasqueradeSchema,
  type StatusBody,
} from "../src/server/replicas/node-masquerade.js";
import { nodeMasqueradeApi } from "../src/server/replicas/node-masquerade-api.js";
import { refusal } from "./helpers/kube-refusal.js";
import { eventually } from "./helpers/server.js";

const NM = { group: "ipmasq.dev", version: "v1alpha1", plural: "nodemasquerades" };
let fake: FakeKubeApi;

afterEach(async () => {
  await fake.stop();
});

function kubeConfigFor(url: string, token: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "t", server: url, skipTLSVerify: true }],
    users: [{ name: "u", token }],
    contexts: [{ name: "t", cluster: "t", user: "u" }],
    currentContext: "t",
  });
  return kc;
}

const status = (o: Record<string, unknown> = {}) => ({
  replica: "ipmasq-dashboard-0",
  connected: true,
  health: "in-sync",
  observedAt: "2026-01-02T03:04:05Z",
  ...o,
});

// biome-ignore lint/suspicious/noExplicitAny: custom objects are free-form JSON
type Obj = any;
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

describe("custom resources in the test API server", () => {
  it("serves the chart's NodeMasquerade: status subresource, generation, conflicts", async () => {
    // The server's behaviour for every verb, not the dashboard's grants (charts' kube-calls test).
    fake = await new FakeKubeApi({ authorization: "allow-all" }).start();
    const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    const body = {
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "node-a" },
      spec: {},
      status: status(),
    };
    const created: Obj = await api.createClusterCustomObject({ ...NM, body });
    // A create drops status (the status subresource owns it); generation starts at 1.
    expect(created.status).toBeUndefined();
    expect(created.metadata.generation).toBe(1);
    const withStatus: Obj = await api.patchClusterCustomObjectStatus(
      { ...NM, name: "node-a", body: { status: status(), spec: { ignored: true } } },
      merge,
    );
    expect(withStatus.status.health).toBe("in-sync");
    expect(withStatus.spec).toEqual({});
    expect(withStatus.metadata.generation).toBe(1);
    // A main-resource write keeps the stored status and bumps generation for a spec change.
    const req = { id: "r1", requestedBy: "alice", requestedAt: "2026-01-02T03:04:06Z" };
    const asked: Obj = await api.patchClusterCustomObject(
      { ...NM, name: "node-a", body: { spec: { resyncRequest: req }, status: { health: "x" } } },
      merge,
    );
    expect(asked.spec.resyncRequest).toEqual(req);
    expect(asked.status.health).toBe("in-sync");
    expect(asked.metadata.generation).toBe(2);
    // The client's default patch type is a JSON patch.
    const jp: Obj = await api.patchClusterCustomObjectStatus({
      ...NM,
      name: "node-a",
      body: [{ op: "replace", path: "/status/health", value: "drifted" }],
    });
    expect(jp.status.health).toBe("drifted");
    const stale = { ...asked, status: status() };
    const conflict = await refusal(
      api.replaceClusterCustomObjectStatus({ ...NM, name: "node-a", body: stale }),
    );
    expect(conflict).toEqual({
      code: 409,
      message:
        'Operation cannot be fulfilled on nodemasquerades.ipmasq.dev "node-a": the object has been modified; please apply your changes to the latest version and try again',
    });
    const list: Obj = await api.listClusterCustomObject({ ...NM });
    expect(list.kind).toBe("NodeMasqueradeList");
    expect(list.items.map((i: Obj) => i.metadata.name)).toEqual(["node-a"]);
    await api.deleteClusterCustomObject({ ...NM, name: "node-a" });
    expect((await refusal(api.getClusterCustomObject({ ...NM, name: "node-a" }))).code).toBe(404);
  });

  it("validates against the openAPIV3Schema (422) and prunes unknown fields", async () => {
    fake = await new FakeKubeApi().start();
    const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    await api.createClusterCustomObject({
      ...NM,
      body: { apiVersion: "ipmasq.dev/v1alpha1", kind: "NodeMasquerade", metadata: { name: "n" } },
    });
    const cases = [
      {
        desc: "a type",
        status: status({ appliedRevision: "3" }),
        want: 'NodeMasquerade.ipmasq.dev "n" is invalid: status.appliedRevision: Invalid value: "string": status.appliedRevision in body must be of type integer: "string"',
      },
      {
        desc: "a required field",
        status: { connected: true, health: "in-sync", observedAt: "2026-01-02T03:04:05Z" },
        want: 'NodeMasquerade.ipmasq.dev "n" is invalid: status.replica: Required value',
      },
      {
        desc: "an enum",
        status: status({ health: "InSync" }),
        want: 'NodeMasquerade.ipmasq.dev "n" is invalid: status.health: Unsupported value: "InSync": supported values: "in-sync", "drifted", "applying", "error", "unknown", "offline"',
      },
      {
        desc: "maxItems",
        status: status({ drift: { count: 11, reasons: Array(11).fill("r") } }),
        want: 'NodeMasquerade.ipmasq.dev "n" is invalid: status.drift.reasons: Too many: 11: must have at most 10 items',
      },
    ];
    for (const c of cases) {
      const r = await refusal(
        api.patchClusterCustomObjectStatus({ ...NM, name: "n", body: { status: c.status } }, merge),
      );
      expect(r, c.desc).toEqual({ code: 422, message: c.want });
    }
    // null in a merge patch removes the key (RFC 7386); a JSON patch stores it where nullable.
    const nullable: Obj = await api.patchClusterCustomObjectStatus({
      ...NM,
      name: "n",
      body: [{ op: "add", path: "/status", value: status({ appliedRevision: null, extra: 1 }) }],
    });
    expect(nullable.status.appliedRevision).toBeNull();
    expect(nullable.status.extra).toBeUndefined();
  });

  // Issue 17: a node whose judgement was put off at a push is written with its counts null. The
  // merge patch must delete the previous revision's counts, and the chart's CRD accept a status
  // without them (it required them: 422); read back, the row says severity not known, never 0.
  it("a put-off judgement's status drops the previous counts; readers say them unknown", async () => {
    fake = await new FakeKubeApi().start();
    const api = nodeMasqueradeApi(fake.kubeConfig());
    await api.create("n");
    const details = {
      os: "linux" as const,
      kernel: "6.1.0",
      iptablesVersion: "1.8.9 (nf_tables)",
      reporterVersion: "0.1.0",
    };
    const judged: StatusBody = {
      replica: "other",
      connected: true,
      health: "drifted",
      desiredRevision: 1,
      appliedRevision: 1,
      drift: { count: 3, reasons: ["a", "b", "c"] },
      message: "drifted",
      details: { ...details, critical: 2, warnings: 1 },
    };
    const putOff: StatusBody = {
      ...judged,
      health: "applying",
      desiredRevision: 2,
      drift: null,
      message: "applying revision 2",
      details: { ...details, critical: null, warnings: null },
    };
    const read = async () =>
      nodeMasqueradeSchema.parse(
        await fake
          .kubeConfig()
          .makeApiClient(CustomObjectsApi)
          .getClusterCustomObject({ ...NM, name: "n" }),
      );
    const row = (cr: NodeMasquerade) =>
      remoteOf(
        {
          fleet: { nodes: new Map() } as unknown as FleetState,
          objects: { get: () => cr, values: () => [cr] },
          replica: "me",
          liveness: () => ({ live: true }),
        },
        "n",
      )!;
    await api.patchStatus("n", fullStatus(judged, undefined, new Date()));
    const before = await read();
    expect(row(before)).toMatchObject({ critical: 2, warnings: 1, heldBy: { differences: 3 } });
    await api.patchStatus("n", fullStatus(putOff, before.status, new Date()));
    const after = await read();
    expect(after.status?.drift).toBeUndefined();
    expect(after.status?.details).not.toHaveProperty("critical");
    expect(after.status?.details).not.toHaveProperty("warnings");
    const r = row(after);
    expect(r.heldBy.differences).toBeNull();
    expect(r.notKnownHere?.fields).toEqual(["severity"]);
  });

  it("authorises by resource and subresource, and watches custom resources", async () => {
    fake = await new FakeKubeApi().start();
    fake.addToken("viewer", { username: "viewer", groups: [] });
    fake.grant({ kind: "User", name: "viewer" }, [
      { apiGroups: ["ipmasq.dev"], resources: ["nodemasquerades"], verbs: ["get", "patch"] },
    ]);
    const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    const events: string[] = [];
    await new Watch(fake.kubeConfig()).watch(
      "/apis/ipmasq.dev/v1alpha1/nodemasquerades",
      {},
      (type, o: Obj) => events.push(`${type} ${o.metadata.name} ${o.status?.health ?? "-"}`),
      () => undefined,
    );
    const body = {
      apiVersion: "ipmasq.dev/v1alpha1",
      kind: "NodeMasquerade",
      metadata: { name: "w" },
    };
    await api.createClusterCustomObject({ ...NM, body });
    await api.patchClusterCustomObjectStatus(
      { ...NM, name: "w", body: { status: status() } },
      merge,
    );
    await eventually(() => expect(events).toEqual(["ADDED w -", "MODIFIED w in-sync"]));
    const viewer = kubeConfigFor(fake.url, "viewer").makeApiClient(CustomObjectsApi);
    await viewer.patchClusterCustomObject({ ...NM, name: "w", body: { spec: {} } }, merge);
    const denied = await refusal(
      viewer.patchClusterCustomObjectStatus(
        { ...NM, name: "w", body: { status: status() } },
        merge,
      ),
    );
    expect(denied).toEqual({
      code: 403,
      message:
        'nodemasquerades.ipmasq.dev "w" is forbidden: User "viewer" cannot patch resource "nodemasquerades/status" in API group "ipmasq.dev" at the cluster scope',
    });
  });

  it("serves a CRD created through the API, namespaced as declared, until it is deleted", async () => {
    fake = await new FakeKubeApi({ chart: false, authorization: "allow-all" }).start();
    const kc = fake.kubeConfig();
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const api = kc.makeApiClient(CustomObjectsApi);
    const W = { group: "example.com", version: "v1", plural: "widgets", namespace: "ns1" };
    const schema = {
      type: "object",
      properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
    };
    const crd = {
      metadata: { name: "widgets.example.com" },
      spec: {
        group: "example.com",
        scope: "Namespaced" as const,
        names: { plural: "widgets", kind: "Widget" },
        versions: [
          { name: "v1", served: true, storage: true, schema: { openAPIV3Schema: schema } },
        ],
      },
    };
    expect((await refusal(api.listNamespacedCustomObject(W))).code).toBe(404);
    const bad = { ...crd, metadata: { name: "widgets" } };
    expect((await refusal(ext.createCustomResourceDefinition({ body: bad }))).code).toBe(422);
    await ext.createCustomResourceDefinition({ body: crd });
    const body = {
      apiVersion: "example.com/v1",
      kind: "Widget",
      metadata: { name: "a" },
      spec: { size: 2, x: 1 },
    };
    const w: Obj = await api.createNamespacedCustomObject({ ...W, body });
    expect(w.metadata.namespace).toBe("ns1");
    expect(w.spec).toEqual({ size: 2 });
    // No status subresource declared: /status is not served, and status is written with the object.
    expect((await refusal(api.getNamespacedCustomObjectStatus({ ...W, name: "a" }))).code).toBe(
      404,
    );
    const cluster = { group: "example.com", version: "v1", plural: "widgets" };
    expect((await refusal(api.listClusterCustomObject(cluster))).code).toBe(404);
    await ext.deleteCustomResourceDefinition({ name: "widgets.example.com" });
    expect((await refusal(api.listNamespacedCustomObject(W))).code).toBe(404);
    expect(fake.customObjects("widgets", "ns1")).toEqual([]);
  });
});
