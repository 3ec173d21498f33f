// Kubernetes-mode auth through the real client-node against the test API server, with the
// chart's RBAC for the dashboard: people via TokenReview + SubjectAccessReview (by user and by
// group), reporters via projected tokens bound to their node (or, without the node-name claim,
// their pod — issue 18.4), and observe-mode resync deleting the upstream agent pod (18.7).

import { REPORTER_PATH } from "@masq/shared";
import type { ChartValues, FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually } from "./helpers/server.js";

const NODE_CLAIM = "authentication.kubernetes.io/node-name";
const POD_CLAIM = "authentication.kubernetes.io/pod-name";
const UID_CLAIM = "authentication.kubernetes.io/pod-uid";
let fake: FakeKubeApi;
let SA = "";
const k = kubeTestCluster();

/** The test API server for a chart install with these values, and the usual tokens. */
async function cluster(chart: ChartValues = {}): Promise<FakeKubeApi> {
  fake = await k.cluster({ chart });
  SA = fake.chart!.reporterUser;
  fake.addToken("alice-token", { username: "alice", groups: ["devs"] });
  fake.allow("alice", ["get", "update"]);
  fake.addToken("bob-token", { username: "bob" });
  fake.allow("bob", ["get"]);
  fake.addToken("eve-token", { username: "eve" });
  fake.addToken("node-a-token", { username: SA, extra: { [NODE_CLAIM]: ["node-a"] } }, [
    "ipmasq-dashboard",
  ]);
  return fake;
}

/** A dashboard with Kubernetes auth only (no static admin token). */
const start = (env: Record<string, string> = {}) => k.start({ IPMASQ_ADMIN_TOKEN: "", ...env });

async function connect(s: KubeTestServer, token: string, node: string, mode?: "observe") {
  const r = await SimReporter.connect({ url: s.url, token, node, mode });
  k.defer(() => r.ws.terminate());
  return r;
}

/** The HTTP status and error text of a refused reporter upgrade. */
function refusal(url: string, token: string): Promise<{ status: number; error: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace("http", "ws") + REPORTER_PATH, {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on("unexpected-response", (_q, res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, error: body }));
    });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("upgrade accepted"));
    });
    ws.on("error", () => undefined);
  });
}

describe("people in Kubernetes mode", () => {
  it("maps SubjectAccessReview on the ConfigMap to editor / viewer / none", async () => {
    await cluster();
    const s = await start();
    const cfg = await s.api("/api/config", { token: "alice-token" });
    expect(cfg.status).toBe(200);
    const body = {
      yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
      resourceVersion: cfg.body.resourceVersion,
    };
    expect((await s.api("/api/me", { token: "alice-token" })).body).toEqual({
      role: "editor",
      user: "alice",
    });
    expect((await s.api("/api/config", { method: "PUT", token: "bob-token", body })).status).toBe(
      403,
    );
    expect((await s.api("/api/config", { token: "bob-token" })).status).toBe(200);
    expect((await s.api("/api/resync", { token: "bob-token", body: {} })).status).toBe(403);
    expect((await s.api("/api/config", { token: "eve-token" })).status).toBe(403);
    expect((await s.api("/api/config", { token: "mallory-token" })).status).toBe(401);
    expect((await s.api("/api/config", { method: "PUT", token: "alice-token", body })).status).toBe(
      200,
    );
    expect(
      fake.configMap("kube-system", "ip-masq-agent").metadata.annotations["ipmasq.dev/author"],
    ).toBe("alice");
  });

  it("grants the roles of a user's groups (RBAC bound to a Group)", async () => {
    await cluster();
    fake.addToken("carol-token", { username: "carol", groups: ["network-admins"] });
    fake.allow("network-admins", ["get", "update"], undefined, "Group");
    fake.addToken("dave-token", { username: "dave", groups: ["auditors"] });
    fake.allow("auditors", ["get"], undefined, "Group");
    const s = await start();
    expect((await s.api("/api/me", { token: "carol-token" })).body.role).toBe("editor");
    expect((await s.api("/api/me", { token: "dave-token" })).body.role).toBe("viewer");
  });

  it("asks about the configured ConfigMap and caches decisions", async () => {
    await cluster({ set: ["ipMasqAgent.namespace=net", "ipMasqAgent.name=masq"] });
    const s = await start();
    // bob may read kube-system/ip-masq-agent, not net/masq.
    expect((await s.api("/api/config", { token: "bob-token" })).status).toBe(403);
    fake.allow("carol", ["get"], { namespace: "net", name: "masq" });
    fake.addToken("carol-token", { username: "carol" });
    for (let i = 0; i < 5; i++)
      expect((await s.api("/api/config", { token: "carol-token" })).status).toBe(200);
    expect(fake.count("POST", "tokenreviews")).toBe(2);
    expect(fake.configMap("net", "masq")?.metadata.annotations["ipmasq.dev/revision"]).toBe("1");
  });

  it("logs browsers in with a Kubernetes token", async () => {
    await cluster();
    const s = await start();
    const res = await fetch(`${s.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "bob-token" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ role: "viewer", user: "bob" });
    const bad = await fetch(`${s.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: "eve-token" }),
    });
    expect(bad.status).toBe(403);
  });
});

describe("reporters in Kubernetes mode", () => {
  it("accepts a projected token for our audience and binds it to its node", async () => {
    await cluster();
    const s = await start();
    await connect(s, "node-a-token", "node-a");
    await eventually(
      async () =>
        (await s.api("/api/nodes/node-a", { token: "bob-token" })).body.node?.status === "in-sync",
      3000,
    );
    expect(fake.requests.some((q) => q.path.includes("tokenreviews") && q.status === 201)).toBe(
      true,
    );
  });

  it("refuses a token bound to another node, registering nothing", async () => {
    await cluster();
    const s = await start();
    const r = await SimReporter.connect({
      url: s.url,
      token: "node-a-token",
      node: "node-b",
      waitWelcome: false,
    });
    k.defer(() => r.ws.terminate());
    const closed = await r.closed;
    expect(closed.code).toBe(1008);
    expect(r.received.find((m) => m.type === "error")).toMatchObject({
      reason: expect.stringMatching(/bound to node node-a/),
    });
    expect((await s.api("/api/nodes", { token: "bob-token" })).body.nodes).toEqual([]);
  });

  it("refuses tokens for another audience, other ServiceAccounts, people and unbound tokens", async () => {
    await cluster();
    const s = await start();
    fake.addToken("wrong-aud", { username: SA, extra: { [NODE_CLAIM]: ["node-a"] } });
    fake.addToken("person", { username: "alice" }, ["ipmasq-dashboard"]);
    fake.addToken("unbound", { username: SA }, ["ipmasq-dashboard"]);
    const other = "system:serviceaccount:default:app";
    fake.addToken("other-sa", { username: other, extra: { [NODE_CLAIM]: ["node-a"] } }, [
      "ipmasq-dashboard",
    ]);
    expect((await refusal(s.url, "wrong-aud")).status).toBe(401);
    expect((await refusal(s.url, "alice-token")).status).toBe(401);
    expect((await refusal(s.url, "person")).status).toBe(403);
    expect((await refusal(s.url, "unbound")).status).toBe(403);
    expect((await refusal(s.url, "other-sa")).status).toBe(403);
    expect((await s.api("/api/nodes", { token: "bob-token" })).body.nodes).toEqual([]);
  });

  // Issue 18.4: Kubernetes 1.30/1.31 with ServiceAccountTokenPodNodeInfo off: no node claim.
  it("without the node claim, names the real cause when the chart does not grant pod get", async () => {
    await cluster();
    const s = await start();
    const pod = fake.addPod("kube-system", "reporter-xyz", "node-p", { app: "ipmasq-reporter" });
    fake.addToken(
      "pod-bound",
      { username: SA, extra: { [POD_CLAIM]: ["reporter-xyz"], [UID_CLAIM]: [pod.metadata.uid] } },
      ["ipmasq-dashboard"],
    );
    const r = await refusal(s.url, "pod-bound");
    expect(r.status).toBe(403);
    expect(r.error).toContain(NODE_CLAIM);
    expect(r.error).toContain("auth.reporterNodeFromPod");
    expect(r.error).not.toMatch(/cannot reach/);
    // The API server really refused the pod read (the chart grants no pod access by default).
    expect(
      fake.requests.some((q) => q.path.includes("/pods/reporter-xyz") && q.status === 403),
    ).toBe(true);
  });

  it("without the node claim, finds the node through the bound pod when the chart grants it", async () => {
    await cluster({ set: ["auth.reporterNodeFromPod=true"] });
    const s = await start();
    const pod = fake.addPod("kube-system", "reporter-xyz", "node-p", { app: "ipmasq-reporter" });
    fake.addToken(
      "pod-bound",
      { username: SA, extra: { [POD_CLAIM]: ["reporter-xyz"], [UID_CLAIM]: [pod.metadata.uid] } },
      ["ipmasq-dashboard"],
    );
    const r = await connect(s, "pod-bound", "node-p");
    expect(r.received[0]?.type).toBe("welcome");
    // A token bound to a pod that is gone is no longer valid (TokenReview checks the pod).
    fake.addPod("kube-system", "reporter-old", "node-q", {});
    fake.addToken("stale", { username: SA, extra: { [POD_CLAIM]: ["reporter-gone"] } }, [
      "ipmasq-dashboard",
    ]);
    expect((await refusal(s.url, "stale")).status).toBe(401);
  });
});

// Issue 18.7.
describe("observe-mode resync", () => {
  it("deletes the node's upstream agent pod gracefully, and leaves it alone while it terminates", async () => {
    await cluster({ set: ["dashboard.observeResync=true"] });
    const s = await start();
    fake.addPod("kube-system", "ip-masq-agent-aaa", "node-a", { "k8s-app": "ip-masq-agent" });
    fake.addPod("kube-system", "ip-masq-agent-bbb", "node-b", { "k8s-app": "ip-masq-agent" });
    fake.addPod("kube-system", "other-on-a", "node-a", { "k8s-app": "other" });
    const r = await connect(s, "node-a-token", "node-a", "observe");
    const res = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(res.status).toBe(202);
    expect(res.body.requestId).toContain("ip-masq-agent-aaa");
    expect(fake.pod("kube-system", "ip-masq-agent-aaa")?.metadata.deletionTimestamp).toBeDefined();
    expect(r.received.some((m) => m.type === "resync")).toBe(false);
    const deletes = () => fake.count("DELETE", "/pods/");
    expect(deletes()).toBe(1);
    // Terminating: a second resync deletes nothing and says why.
    const again = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/already terminating/);
    expect(deletes()).toBe(1);
    await eventually(() => !fake.pods("kube-system").includes("ip-masq-agent-aaa"), 5000, "gone");
    expect(fake.pods("kube-system").sort()).toEqual(["ip-masq-agent-bbb", "other-on-a"]);
    const none = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(none.status).toBe(409);
    expect(none.body.error).toMatch(/no upstream ip-masq-agent pod/);
  });

  it("says the dashboard may not touch pods when resync is on but the chart did not grant it", async () => {
    await cluster();
    const s = await start({ IPMASQ_OBSERVE_RESYNC: "true" });
    fake.addPod("kube-system", "ip-masq-agent-aaa", "node-a", { "k8s-app": "ip-masq-agent" });
    await connect(s, "node-a-token", "node-a", "observe");
    const res = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatch(/may not list pods in kube-system/);
    expect(fake.pods("kube-system")).toContain("ip-masq-agent-aaa");
  });
});
