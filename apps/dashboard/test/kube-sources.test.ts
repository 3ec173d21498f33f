// Config merged from several ConfigMaps (issue 14 part 2) through the real
// @kubernetes/client-node against the test API server enforcing the chart's RBAC: every
// `ip-masq-*` ConfigMap (each key) merged with ip-masq-agent, one replaced kubectl-style while
// the dashboard runs, a conflict appearing (nodes keep the last good merge) and resolved, saves
// to an editable source only.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { canaryApplied, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const k = kubeTestCluster();
const cidrs = (c: { nonMasqueradeCIDRs: string[] } | undefined) => c?.nonMasqueradeCIDRs ?? [];
const id = (name: string, key = "config") => encodeURIComponent(`configmap/${name}/${key}`);

async function cluster(set: string[] = []): Promise<FakeKubeApi> {
  const fake = await k.cluster({ chart: { set } });
  fake.kubectlEdit(NS, "ip-masq-agent", {
    config: "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 60s\n",
  });
  fake.kubectlEdit(NS, "ip-masq-platform", {
    config: "nonMasqueradeCIDRs: [100.64.0.0/10]\n",
    extra: "masqLinkLocal: true\n",
  });
  fake.kubectlEdit(NS, "unrelated", { config: "nonMasqueradeCIDRs: [192.0.2.0/24]\n" });
  return fake;
}

describe("config sources (Kubernetes)", () => {
  it("merges every key of every ip-masq-* ConfigMap; a kubectl replace reaches the nodes; history is no source", async () => {
    const fake = await cluster();
    const s = await k.start();
    const node = await k.reporter(s, "node-a");
    await eventually(() => node.lastDesired?.masqLinkLocal === true, 5000, "the merge pushed");
    expect(cidrs(node.lastDesired)).toEqual(["10.0.0.0/8", "100.64.0.0/10"]);
    const cfg = (await s.api("/api/config")).body;
    expect(cfg.merge.sources.map((x: { label: string }) => x.label)).toEqual([
      "ConfigMap ip-masq-agent key config",
      "ConfigMap ip-masq-platform key config",
      "ConfigMap ip-masq-platform key extra",
    ]);
    const ll = cfg.merge.scalars.find((x: { key: string }) => x.key === "masqLinkLocal");
    expect(ll.sources).toEqual([{ kind: "configmap", name: "ip-masq-platform", key: "extra" }]);

    fake.kubectlEdit(
      NS,
      "ip-masq-platform",
      { config: "nonMasqueradeCIDRs: [198.51.100.0/24]\n" },
      "kubectl-replace",
    );
    await eventually(
      () => cidrs(node.lastDesired).includes("198.51.100.0/24"),
      5000,
      "the replace merged",
    );
    expect(cidrs(node.lastDesired)).toEqual(["10.0.0.0/8", "198.51.100.0/24"]);
    expect(node.lastDesired?.masqLinkLocal).toBe(false);

    fake.kubectlEdit(NS, "ip-masq-team", { config: "nonMasqueradeCIDRs: [203.0.113.0/24]\n" });
    await eventually(
      () => cidrs(node.lastDesired).includes("203.0.113.0/24"),
      5000,
      "a new source",
    );
    fake.deleteConfigMap(NS, "ip-masq-team");
    fake.kubectlEdit(NS, "unrelated", { config: "x: 1\n" }); // an event after the delete
    await eventually(() => !cidrs(node.lastDesired).includes("203.0.113.0/24"), 5000, "removed");
  });

  it("a conflict from a second source is shown and never pushed; resolving it pushes the merge", async () => {
    const fake = await cluster();
    const s = await k.start();
    const node = await k.reporter(s, "node-a");
    await eventually(() => cidrs(node.lastDesired).includes("100.64.0.0/10"), 5000, "first merge");
    const good = (await s.api("/api/config")).body;
    fake.kubectlEdit(NS, "ip-masq-platform", {
      config: "nonMasqueradeCIDRs: [100.64.0.0/10, 172.16.0.0/12]\nresyncInterval: 5s\n",
    });
    const bad = await eventually(async () => {
      const c = (await s.api("/api/config")).body;
      return c.merge.conflicts.length > 0 ? c : undefined;
    }, 5000);
    expect(bad.merge.conflicts).toMatchObject([{ kind: "scalar", key: "resyncInterval" }]);
    expect(bad.merge.pushable).toBe(false);
    expect([bad.revision, bad.desiredRevision]).toEqual([good.revision, good.desiredRevision]);
    expect(cidrs(node.lastDesired)).not.toContain("172.16.0.0/12");
    expect((await s.api("/readyz", { token: null })).status).toBe(200);

    fake.kubectlEdit(NS, "ip-masq-platform", {
      config: "nonMasqueradeCIDRs: [100.64.0.0/10, 172.16.0.0/12]\n",
    });
    await eventually(() => cidrs(node.lastDesired).includes("172.16.0.0/12"), 5000, "resolved");
    expect((await s.api("/api/config")).body.desiredRevision).toBeGreaterThan(good.desiredRevision);
  });

  it("saves only the sources the chart lets it edit, with the revision (409 when stale)", async () => {
    await cluster(["configSources.editable={ip-masq-agent,ip-masq-platform}"]);
    const s = await k.start();
    const src = (await s.api(`/api/config/sources/${id("ip-masq-platform")}`)).body;
    expect(src).toMatchObject({ editable: true, yaml: "nonMasqueradeCIDRs: [100.64.0.0/10]\n" });
    const yaml = "nonMasqueradeCIDRs: [100.64.0.0/10, 192.0.2.0/24]\n";
    const stale = await s.api(`/api/config/sources/${id("ip-masq-platform")}`, {
      method: "PUT",
      body: { yaml, resourceVersion: "1" },
    });
    expect(stale.status).toBe(409);
    const saved = await s.api(`/api/config/sources/${id("ip-masq-platform")}`, {
      method: "PUT",
      body: { yaml, resourceVersion: src.resourceVersion, message: "docs" },
    });
    expect(saved.status).toBe(200);
    expect(k.fake.configMap(NS, "ip-masq-platform")?.data).toMatchObject({
      config: yaml,
      extra: "masqLinkLocal: true\n",
    });
    await eventually(async () => {
      const c = (await s.api("/api/config")).body;
      return c.merge.config.nonMasqueradeCIDRs.includes("192.0.2.0/24");
    }, 5000);
  });

  it("lets a Kubernetes user save another source only when RBAC lets that user update it", async () => {
    const fake = await cluster(["configSources.editable={ip-masq-agent,ip-masq-platform}"]);
    fake.addToken("carol-token", { username: "carol" });
    fake.allow("carol", ["get", "update"]); // ip-masq-agent only
    fake.addToken("dan-token", { username: "dan" });
    fake.allow("dan", ["get", "update"]);
    fake.allow("dan", ["update"], { namespace: NS, name: "ip-masq-platform" });
    const s = await k.start();
    const src = (await s.api(`/api/config/sources/${id("ip-masq-platform")}`)).body;
    const put = (token: string) =>
      s.api(`/api/config/sources/${id("ip-masq-platform")}`, {
        method: "PUT",
        token,
        body: {
          yaml: "nonMasqueradeCIDRs: [100.64.0.0/10, 192.0.2.0/24]\n",
          resourceVersion: src.resourceVersion,
        },
      });
    const refused = await put("carol-token");
    expect(refused.status).toBe(403);
    expect(refused.body.error).toBe(
      "carol may not update ConfigMap ip-masq-platform (Kubernetes RBAC), so not through the dashboard either",
    );
    expect(fake.configMap(NS, "ip-masq-platform")?.metadata.resourceVersion).toBe(
      src.resourceVersion,
    );
    expect((await put("dan-token")).status).toBe(200);
  });

  it("saves another key of ip-masq-agent without touching what its config revision says", async () => {
    const fake = await cluster();
    fake.kubectlEdit(NS, "ip-masq-agent", {
      config: "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 60s\n",
      notes: "nonMasqueradeCIDRs: [192.0.2.0/24]\n",
    });
    const s = await k.start();
    const before = (await s.api("/api/config")).body;
    const src = (await s.api(`/api/config/sources/${id("ip-masq-agent", "notes")}`)).body;
    expect(src).toMatchObject({ editable: true, primary: false });
    const put = await s.api(`/api/config/sources/${id("ip-masq-agent", "notes")}`, {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [198.51.100.0/24]\n",
        resourceVersion: src.resourceVersion,
        message: "n",
      },
    });
    expect(put.status).toBe(200);
    const after = await eventually(async () => {
      const c = (await s.api("/api/config")).body;
      return c.merge.config.nonMasqueradeCIDRs.includes("198.51.100.0/24") ? c : undefined;
    }, 5000);
    expect([after.author, after.message, after.yaml]).toEqual([
      before.author,
      before.message,
      before.yaml,
    ]);
    expect(fake.configMap(NS, "ip-masq-agent")?.data?.config).toBe(before.yaml);
  });

  it("refuses to save a source the chart does not let it edit, and writes nothing", async () => {
    const fake = await cluster();
    const s = await k.start();
    const before = fake.configMap(NS, "ip-masq-platform")?.metadata.resourceVersion;
    const src = (await s.api(`/api/config/sources/${id("ip-masq-platform")}`)).body;
    expect(src.editable).toBe(false);
    const put = await s.api(`/api/config/sources/${id("ip-masq-platform")}`, {
      method: "PUT",
      body: { yaml: "{}", resourceVersion: src.resourceVersion },
    });
    expect(put.status).toBe(403);
    expect(put.body.error).toMatch(
      /ConfigMap ip-masq-platform key config is not one the dashboard may edit/,
    );
    expect(fake.configMap(NS, "ip-masq-platform")?.metadata.resourceVersion).toBe(before);
  });

  it("a ConfigMap source edited after an abort is held; a kubectl edit of ip-masq-agent is a save", async () => {
    // The aborted change stays in ip-masq-agent's text: a merge for the source edit would bring
    // it back to every node. An edit of ip-masq-agent itself is someone saving that text anew.
    const fake = await cluster();
    const s = await k.start();
    const nodes = [
      await k.reporter(s, "node-a"),
      await k.reporter(s, "node-b"),
      await k.reporter(s, "node-c"),
    ];
    const aborted = "203.0.113.0/24";
    await canaryApplied(
      s,
      3,
      `nonMasqueradeCIDRs: [10.0.0.0/8, ${aborted}]\nresyncInterval: 60s\n`,
      waves({ count: 1 }),
    );
    expect((await s.api("/api/rollout/abort", { method: "POST", body: {} })).status).toBe(200);
    await eventually(
      () => nodes.every((n) => !cidrs(n.lastDesired).includes(aborted)) || undefined,
      5000,
      "every node back on the stable revision",
    );
    fake.kubectlEdit(NS, "ip-masq-platform", { config: "nonMasqueradeCIDRs: [198.51.100.0/24]\n" });
    const held = await eventually(
      async () => (await s.api("/api/config")).body.merge?.held || undefined,
      5000,
    );
    expect(held).toMatch(/was aborted: every node runs revision \d+/);
    await new Promise((r) => setTimeout(r, 300)); // a push would have gone by now
    for (const n of nodes) expect(cidrs(n.lastDesired)).not.toContain(aborted);
    fake.kubectlEdit(NS, "ip-masq-agent", {
      config: "nonMasqueradeCIDRs: [10.0.0.0/8]\nresyncInterval: 60s\n",
    });
    await eventually(
      () => nodes.every((n) => cidrs(n.lastDesired).includes("198.51.100.0/24")) || undefined,
      5000,
      "the merge pushed after ip-masq-agent was saved",
    );
    expect((await s.api("/api/config")).body.merge.held).toBeNull();
  });
});
