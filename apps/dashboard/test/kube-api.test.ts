// Issue 18.8: the test API server (packages/testkit/src/kube-api) tells the truth where the
// dashboard depends on it, checked through the real @kubernetes/client-node: the chart's RBAC
// for the dashboard's ServiceAccount, watch history that expires (410 Expired), bookmarks,
// restarts, the 1 MiB ConfigMap limit in bytes (422), graceful pod deletion, cluster-scoped
// Nodes and SubjectAccessReview by user and by group, paged lists and their expiring tokens.
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1ConfigMap,
  Watch,
} from "@kubernetes/client-node";
import { FakeKubeApi, MAX_CONFIGMAP_BYTES } from "@masq/testkit/kube-api";
import { afterEach, describe, expect, it } from "vitest";
import {
  LIST_PAGE,
  listPaged,
  nodeMasqueradeApi,
} from "../src/server/replicas/node-masquerade-api.js";
import { refusal } from "./helpers/kube-refusal.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
let fake: FakeKubeApi;

afterEach(async () => {
  await fake.stop();
});

interface Seen {
  type: string;
  object: { code?: number; reason?: string; metadata?: { resourceVersion?: string } };
}

/** A client-node watch collecting its events; `done` resolves when the server ends it. */
async function watchConfigMap(kc: KubeConfig, query: Record<string, unknown>) {
  const events: Seen[] = [];
  let end: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((r) => {
    end = r;
  });
  const ctl = await new Watch(kc).watch(
    `/api/v1/namespaces/${NS}/configmaps`,
    { fieldSelector: `metadata.name=${CM}`, ...query },
    (type, object) => events.push({ type, object }),
    (err) => end(err),
  );
  return { events, done, ctl };
}

describe("the test API server", () => {
  it("enforces the chart's RBAC for the dashboard's ServiceAccount, with the real 403", async () => {
    fake = await new FakeKubeApi().start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    await core.readNamespacedConfigMap({ namespace: NS, name: CM });
    await core.listNamespacedConfigMap({ namespace: NS, fieldSelector: `metadata.name=${CM}` });
    const user = fake.dashboardUser;
    // Config sources (configSources.prefix): every ConfigMap is listed; only editable ones written.
    await core.listNamespacedConfigMap({ namespace: NS });
    const other = { namespace: NS, name: "ip-masq-platform", body: { metadata: { name: "x" } } };
    expect((await refusal(core.replaceNamespacedConfigMap(other))).code).toBe(403);
    const create = await refusal(
      core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "x" } } }),
    );
    expect(create.code).toBe(403);
    expect((await refusal(core.readNamespacedPod({ namespace: NS, name: "p" }))).message).toBe(
      `pods "p" is forbidden: User "${user}" cannot get resource "pods" in API group "" in the namespace "${NS}"`,
    );
    // 403 comes before 404, as authorisation comes before the lookup.
    expect(
      (await refusal(core.readNamespacedConfigMap({ namespace: NS, name: "other" }))).code,
    ).toBe(403);
    const lease = fake.dashboardEnv().IPMASQ_LEASE!;
    const coordination = fake.kubeConfig().makeApiClient(CoordinationV1Api);
    await coordination.readNamespacedLease({ namespace: NS, name: lease });
    // A value that grants more grants it; "allow-all" is an explicit opt-out.
    await fake.stop();
    fake = await new FakeKubeApi({ chart: { set: ["auth.reporterNodeFromPod=true"] } }).start();
    fake.addPod(NS, "p", "node-a", {});
    await fake
      .kubeConfig()
      .makeApiClient(CoreV1Api)
      .readNamespacedPod({ namespace: NS, name: "p" });
    await fake.stop();
    // Without config sources, nothing but the named ConfigMaps.
    fake = await new FakeKubeApi({ chart: { set: ["configSources.prefix="] } }).start();
    const named = fake.kubeConfig().makeApiClient(CoreV1Api);
    expect(await refusal(named.listNamespacedConfigMap({ namespace: NS }))).toEqual({
      code: 403,
      message: `configmaps is forbidden: User "${user}" cannot list resource "configmaps" in API group "" in the namespace "${NS}"`,
    });
    await fake.stop();
    fake = await new FakeKubeApi({ authorization: "allow-all" }).start();
    await fake.kubeConfig().makeApiClient(CoreV1Api).listNamespacedConfigMap({ namespace: NS });
  });

  it("refuses ConfigMap data over 1 MiB counted in UTF-8 bytes, with the real 422", async () => {
    fake = await new FakeKubeApi({ authorization: "allow-all" }).start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const body = (data: string): V1ConfigMap => ({ metadata: { name: "big" }, data: { k: data } });
    await core.createNamespacedConfigMap({
      namespace: NS,
      body: body("a".repeat(MAX_CONFIGMAP_BYTES)),
    });
    // 349,526 characters, 1,048,578 bytes: fits by .length, not by bytes.
    const cjk = "界".repeat(Math.floor(MAX_CONFIGMAP_BYTES / 3) + 1);
    const r = await refusal(
      core.replaceNamespacedConfigMap({ namespace: NS, name: "big", body: body(cjk) }),
    );
    expect(r).toEqual({
      code: 422,
      message: 'ConfigMap "big" is invalid: []: Too long: must have at most 1048576 bytes',
    });
  });

  it("expires watch history (410 Expired), sends bookmarks, and restarts like an API server", async () => {
    fake = await new FakeKubeApi({ watchCacheSize: 3, bookmarkIntervalMs: 50 }).start();
    const kc = fake.kubeConfig();
    const core = kc.makeApiClient(CoreV1Api);
    const cm = await core.readNamespacedConfigMap({ namespace: NS, name: CM });
    const old = cm.metadata!.resourceVersion!;
    for (let i = 0; i < 5; i++) fake.kubectlEdit(NS, `other-${i}`, { i: String(i) });
    // The cache kept the last 3 events: resuming from the ConfigMap's own version is too old.
    const stale = await watchConfigMap(kc, { resourceVersion: old });
    await stale.done;
    expect(stale.events).toEqual([
      {
        type: "ERROR",
        object: expect.objectContaining({ kind: "Status", code: 410, reason: "Expired" }),
      },
    ]);
    // From a list's version it works, and bookmarks carry the newest version.
    const list = await core.listNamespacedConfigMap({
      namespace: NS,
      fieldSelector: `metadata.name=${CM}`,
    });
    const w = await watchConfigMap(kc, {
      resourceVersion: list.metadata!.resourceVersion,
      allowWatchBookmarks: true,
    });
    fake.kubectlEdit(NS, "other-x", { x: "1" });
    await eventually(() => w.events.some((e) => e.type === "BOOKMARK"), 2000, "bookmark");
    const bookmark = w.events.find((e) => e.type === "BOOKMARK")!;
    expect(Number(bookmark.object.metadata!.resourceVersion)).toBeGreaterThan(
      Number(list.metadata!.resourceVersion),
    );
    // A restart ends the watch, refuses connections meanwhile, and starts the cache over.
    const restarted = fake.restart(500);
    await w.done;
    expect(
      (await refusal(core.readNamespacedConfigMap({ namespace: NS, name: CM }))).code,
    ).toBeUndefined();
    await restarted;
    const after = await watchConfigMap(kc, { resourceVersion: list.metadata!.resourceVersion });
    await after.done;
    expect(after.events.map((e) => [e.type, e.object.code])).toEqual([["ERROR", 410]]);
  });

  it("deletes pods gracefully: a deletionTimestamp first, gone later; UID preconditions hold", async () => {
    fake = await new FakeKubeApi({ authorization: "allow-all", podTerminationMs: 300 }).start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const pod = fake.addPod(NS, "agent", "node-a", { "k8s-app": "ip-masq-agent" });
    const wrong = await refusal(
      core.deleteNamespacedPod({
        namespace: NS,
        name: "agent",
        body: { preconditions: { uid: "not-it" } },
      }),
    );
    expect(wrong.code).toBe(409);
    expect(wrong.message).toMatch(/Precondition failed: UID in precondition: not-it/);
    const deleted = await core.deleteNamespacedPod({
      namespace: NS,
      name: "agent",
      body: { preconditions: { uid: pod.metadata.uid } },
    });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    expect(fake.pod(NS, "agent")?.metadata.deletionGracePeriodSeconds).toBe(30);
    await eventually(() => fake.pod(NS, "agent") === undefined, 3000, "gone");
  });

  it("serves cluster-scoped Nodes under the chart's RBAC: get allowed, list and delete refused", async () => {
    fake = await new FakeKubeApi().start();
    const core = fake.kubeConfig().makeApiClient(CoreV1Api);
    const user = fake.dashboardUser;
    const missing = await refusal(core.readNode({ name: "node-a" }));
    expect(missing).toEqual({ code: 404, message: 'nodes "node-a" not found' });
    fake.addNode("node-a", { internalIP: "10.128.0.11" });
    const node = await core.readNode({ name: "node-a" });
    expect(node.kind).toBe("Node");
    expect(node.metadata?.namespace).toBeUndefined();
    expect(node.metadata?.labels?.["kubernetes.io/hostname"]).toBe("node-a");
    expect(node.status?.addresses).toEqual([{ type: "InternalIP", address: "10.128.0.11" }]);
    expect(await refusal(core.listNode())).toEqual({
      code: 403,
      message: `nodes is forbidden: User "${user}" cannot list resource "nodes" in API group "" at the cluster scope`,
    });
    expect((await refusal(core.deleteNode({ name: "node-a" }))).code).toBe(403);
    fake.deleteNode("node-a");
    expect((await refusal(core.readNode({ name: "node-a" }))).code).toBe(404);
    expect(fake.node("node-a")).toBeUndefined();
  });

  it("answers SubjectAccessReview by user and by group, from RBAC", async () => {
    fake = await new FakeKubeApi().start();
    fake.allow("alice", ["get"]);
    fake.allow("net-admins", ["get", "update"], undefined, "Group");
    const authz = fake.kubeConfig().makeApiClient(AuthorizationV1Api);
    const ask = async (user: string, groups: string[], verb: string) =>
      (
        await authz.createSubjectAccessReview({
          body: {
            spec: {
              user,
              groups,
              resourceAttributes: { namespace: NS, verb, resource: "configmaps", name: CM },
            },
          },
        })
      ).status?.allowed;
    expect(await ask("alice", [], "get")).toBe(true);
    expect(await ask("alice", [], "update")).toBe(false);
    expect(await ask("bob", ["net-admins"], "update")).toBe(true);
    expect(await ask("bob", ["devs"], "get")).toBe(false);
  });
});

describe("paged lists (limit/continue), as kube-apiserver serves them", () => {
  const nm = (name: string) => ({
    apiVersion: "ipmasq.dev/v1alpha1",
    kind: "NodeMasquerade",
    metadata: { name },
    spec: {},
  });
  const names = Array.from({ length: 1_203 }, (_, i) => `node-${String(i).padStart(5, "0")}`);

  it("pages in key order from one snapshot; an expired continue token gets the real 410 Expired", async () => {
    fake = await new FakeKubeApi().start();
    for (const n of [...names].reverse()) fake.apply(nm(n));
    const api = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    const coords = { group: "ipmasq.dev", version: "v1alpha1", plural: "nodemasquerades" };
    type L = { items: { metadata: { name: string } }[]; metadata: Record<string, unknown> };
    const first = (await api.listClusterCustomObject({ ...coords, limit: 500 })) as L;
    expect(first.items.map((i) => i.metadata.name)).toEqual(names.slice(0, 500));
    expect(first.metadata.remainingItemCount).toBe(703);
    // Written after the first page: not in this list (a consistent snapshot), in the next one.
    fake.apply(nm("node-99999"));
    const second = (await api.listClusterCustomObject({
      ...coords,
      limit: 500,
      _continue: first.metadata.continue as string,
    })) as L;
    expect(second.items.map((i) => i.metadata.name)).toEqual(names.slice(500, 1000));
    expect(second.metadata.resourceVersion).toBe(first.metadata.resourceVersion);
    fake.expireContinueTokens();
    const stale = await refusal(
      api.listClusterCustomObject({
        ...coords,
        limit: 500,
        _continue: second.metadata.continue as string,
      }),
    );
    expect(stale.code).toBe(410);
    expect(stale.message).toMatch(/^The provided continue parameter is too old/);
  });

  it("the NodeMasquerade list comes in pages of 500 and starts over when its token expires", async () => {
    fake = await new FakeKubeApi().start();
    for (const n of names) fake.apply(nm(n));
    const api = nodeMasqueradeApi(fake.kubeConfig());
    let pages = 0;
    const raw = fake.kubeConfig().makeApiClient(CustomObjectsApi);
    const coords = { group: "ipmasq.dev", version: "v1alpha1", plural: "nodemasquerades" };
    // The snapshot is compacted after the first page of the first attempt.
    const got = await listPaged(async (cont) => {
      const p = await raw.listClusterCustomObject({ ...coords, limit: LIST_PAGE, _continue: cont });
      if (++pages === 1) fake.expireContinueTokens();
      return p;
    });
    expect(pages).toBe(1 + 3);
    expect((got.items as { metadata: { name: string } }[]).map((i) => i.metadata.name)).toEqual(
      names,
    );
    const before = fake.requests.length;
    expect((await api.list()).items).toHaveLength(names.length);
    const lists = fake.requests.slice(before).map((r) => new URL(r.path, "http://x").searchParams);
    expect(lists.map((q) => q.get("limit"))).toEqual(["500", "500", "500"]);
    expect(lists.map((q) => q.has("continue"))).toEqual([false, true, true]);
  });
});
