// Kubernetes-mode auth through the real client-node against the fake API server: people via
// TokenReview + SubjectAccessReview, reporters via projected tokens bound to their node;
// observe-mode resync deleting the upstream agent pod; Lease-based active replica.
import { REPORTER_PATH } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { FakeKubeApi } from "./helpers/fake-kube-api.js";
import { type KubeTestServer, startKubeServer } from "./helpers/kube-server.js";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, TOKENS } from "./helpers/server.js";

const SA = "system:serviceaccount:kube-system:ipmasq-reporter";
let fake: FakeKubeApi;
const servers: KubeTestServer[] = [];
const sims: SimReporter[] = [];

beforeEach(async () => {
  fake = await new FakeKubeApi().start();
  fake.addToken("alice-token", { username: "alice", groups: ["devs"] });
  fake.allow("alice", ["get", "update"]);
  fake.addToken("bob-token", { username: "bob" });
  fake.allow("bob", ["get"]);
  fake.addToken("eve-token", { username: "eve" });
  fake.addToken(
    "node-a-token",
    { username: SA, extra: { "authentication.kubernetes.io/node-name": ["node-a"] } },
    ["ipmasq-dashboard"],
  );
});

afterEach(async () => {
  for (const s of sims.splice(0)) s.ws.terminate();
  for (const s of servers.splice(0)) await s.stop();
  await fake.stop();
});

async function start(env: Record<string, string> = {}): Promise<KubeTestServer> {
  const s = await startKubeServer(fake, env);
  servers.push(s);
  return s;
}

function upgradeStatus(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace("http", "ws") + REPORTER_PATH, {
      headers: { authorization: `Bearer ${token}` },
    });
    ws.on("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("upgrade accepted"));
    });
    ws.on("error", () => undefined);
  });
}

describe("people in Kubernetes mode", () => {
  it("maps SubjectAccessReview on the ConfigMap to editor / viewer / none", async () => {
    const s = await start();
    const cfg = await s.api("/api/config", { token: "alice-token" });
    expect(cfg.status).toBe(200);
    const body = { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", revision: cfg.body.revision };
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

  it("asks about the configured ConfigMap and caches decisions", async () => {
    const s = await start({ IPMASQ_CONFIGMAP: "net/masq" });
    // bob may read kube-system/ip-masq-agent, not net/masq.
    expect((await s.api("/api/config", { token: "bob-token" })).status).toBe(403);
    fake.allow("carol", ["get"], { namespace: "net", name: "masq" });
    fake.addToken("carol-token", { username: "carol" });
    for (let i = 0; i < 5; i++)
      expect((await s.api("/api/config", { token: "carol-token" })).status).toBe(200);
    expect(fake.count("POST", "tokenreviews")).toBe(2);
    expect(fake.configMap("net", "masq")).toBeDefined();
    expect(fake.configMap("net", "masq-history")).toBeDefined();
  });

  it("logs browsers in with a Kubernetes token", async () => {
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
    const s = await start();
    const r = await SimReporter.connect({ url: s.url, token: "node-a-token", node: "node-a" });
    sims.push(r);
    await eventually(
      async () =>
        (await s.api("/api/nodes/node-a", { token: "bob-token" })).body.node?.status === "in-sync",
      3000,
    );
    const review = fake.requests.find((q) => q.path.includes("tokenreviews"));
    expect(review).toBeDefined();
  });

  it("refuses a token bound to another node, registering nothing", async () => {
    const s = await start();
    const r = await SimReporter.connect({
      url: s.url,
      token: "node-a-token",
      node: "node-b",
      waitWelcome: false,
    });
    sims.push(r);
    const closed = await r.closed;
    expect(closed.code).toBe(1008);
    expect(r.received.find((m) => m.type === "error")).toMatchObject({
      reason: expect.stringMatching(/bound to node node-a/),
    });
    expect((await s.api("/api/nodes", { token: "bob-token" })).body.nodes).toEqual([]);
  });

  it("refuses tokens for another audience, non-ServiceAccount users and unbound tokens", async () => {
    const s = await start();
    fake.addToken("wrong-aud", {
      username: SA,
      extra: { "authentication.kubernetes.io/node-name": ["node-a"] },
    });
    fake.addToken("person", { username: "alice" }, ["ipmasq-dashboard"]);
    fake.addToken("unbound", { username: SA }, ["ipmasq-dashboard"]);
    expect(await upgradeStatus(s.url, "wrong-aud")).toBe(401);
    expect(await upgradeStatus(s.url, "alice-token")).toBe(401);
    expect(await upgradeStatus(s.url, "person")).toBe(403);
    expect(await upgradeStatus(s.url, "unbound")).toBe(403);
    expect((await s.api("/api/nodes", { token: "bob-token" })).body.nodes).toEqual([]);
  });

  it("accepts only the configured reporter ServiceAccount when one is set", async () => {
    const s = await start({ IPMASQ_REPORTER_SERVICEACCOUNT: SA });
    fake.addToken(
      "other-sa",
      {
        username: "system:serviceaccount:default:app",
        extra: { "authentication.kubernetes.io/node-name": ["node-a"] },
      },
      ["ipmasq-dashboard"],
    );
    expect(await upgradeStatus(s.url, "other-sa")).toBe(403);
    const r = await SimReporter.connect({ url: s.url, token: "node-a-token", node: "node-a" });
    sims.push(r);
    expect(r.received[0]?.type).toBe("welcome");
  });

  it("finds the node through the pod a token is bound to when the node claim is absent", async () => {
    const s = await start();
    fake.addPod("kube-system", "reporter-xyz", "node-p", { app: "ipmasq-reporter" });
    fake.addToken(
      "pod-bound",
      { username: SA, extra: { "authentication.kubernetes.io/pod-name": ["reporter-xyz"] } },
      ["ipmasq-dashboard"],
    );
    const r = await SimReporter.connect({ url: s.url, token: "pod-bound", node: "node-p" });
    sims.push(r);
    expect(r.received[0]?.type).toBe("welcome");
  });
});

describe("observe-mode resync", () => {
  it("deletes the upstream agent pod on that node when enabled", async () => {
    const s = await start({ IPMASQ_OBSERVE_RESYNC: "true" });
    fake.addPod("kube-system", "ip-masq-agent-aaa", "node-a", { "k8s-app": "ip-masq-agent" });
    fake.addPod("kube-system", "ip-masq-agent-bbb", "node-b", { "k8s-app": "ip-masq-agent" });
    fake.addPod("kube-system", "other-on-a", "node-a", { "k8s-app": "other" });
    const r = await SimReporter.connect({
      url: s.url,
      token: "node-a-token",
      node: "node-a",
      mode: "observe",
    });
    sims.push(r);
    const res = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(res.status).toBe(202);
    expect(res.body.requestId).toContain("ip-masq-agent-aaa");
    expect(fake.pods("kube-system").sort()).toEqual(["ip-masq-agent-bbb", "other-on-a"]);
    expect(r.received.some((m) => m.type === "resync")).toBe(false);
    const again = await s.api("/api/nodes/node-a/resync", { method: "POST", token: "alice-token" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatch(/no upstream ip-masq-agent pod/);
  });
});

describe("active replica (Lease)", () => {
  it("makes exactly one replica ready and hands over when it stops", async () => {
    const env = { IPMASQ_LEADER_ELECTION: "true", IPMASQ_ADMIN_TOKEN: TOKENS.admin };
    const a = await start({ ...env, POD_NAME: "dash-a" });
    const b = await start({ ...env, POD_NAME: "dash-b" });
    expect((await a.api("/readyz", { token: null })).status).toBe(200);
    const standby = await b.api("/readyz", { token: null });
    expect(standby.status).toBe(503);
    expect(standby.body.checks.active).toBe(false);
    expect(fake.requests.some((q) => q.path.includes("/leases/ipmasq-dashboard"))).toBe(true);
    await a.stop();
    servers.splice(servers.indexOf(a), 1);
    // The standby retries every 2 s; the released lease is free at its next attempt.
    await eventually(
      async () => (await b.api("/readyz", { token: null })).status === 200,
      7000,
      "takeover",
    );
  }, 15_000);
});
