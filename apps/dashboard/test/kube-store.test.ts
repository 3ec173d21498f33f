// The Kubernetes ConfigMap store through the real @kubernetes/client-node against the test API
// server with the chart's RBAC: upstream format, optimistic concurrency (409), live kubectl
// edits via the watch, invalid ConfigMaps never pushed, bounded history, two replicas.
// Watches: kube-watch.test.ts; missing objects: kube-missing.test.ts; history and
// revisions: kube-history.test.ts.

import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { beforeEach, describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const k = kubeTestCluster();
let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await k.cluster();
});

const start = (env: Record<string, string> = {}) => k.start(env);
const reporter = (server: KubeTestServer, node: string) => k.reporter(server, node);

function history(): { resourceVersion: string; revision: number; author: string }[] {
  return JSON.parse(fake.configMap(NS, `${CM}-history`)?.data?.["history.json"] ?? "[]");
}

describe("Kubernetes store", () => {
  it("adopts the ConfigMap the chart created as revision 1 and stamps that revision on it", async () => {
    const s = await start();
    const cfg = (await s.api("/api/config")).body;
    expect(cfg).toMatchObject({
      revision: 1,
      valid: true,
      author: "helm (outside the dashboard)",
    });
    expect(cfg.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    // The stamp is a new resourceVersion with the same text: the same revision, one entry.
    const cm = await eventually(() => {
      const c = fake.configMap(NS, CM);
      return c.metadata.annotations?.["ipmasq.dev/revision"] === "1" ? c : undefined;
    }, 3000);
    expect(cm.metadata.managedFields.map((f: { manager: string }) => f.manager)).toContain(
      "ipmasq-dashboard",
    );
    await eventually(() => history().at(-1)?.resourceVersion === cm.metadata.resourceVersion, 3000);
    expect(history().map((h) => h.revision)).toEqual([1]);
    expect((await s.api("/api/config")).body.revision).toBe(1);
    expect((await s.api("/readyz", { token: null })).status).toBe(200);
  });

  it("adopts an existing ConfigMap written by someone else", async () => {
    fake.kubectlEdit(
      NS,
      CM,
      { config: "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\nresyncInterval: 30s\n" },
      "kubectl-client-side-apply",
    );
    const s = await start();
    const cfg = (await s.api("/api/config")).body;
    expect(cfg.config).toMatchObject({
      nonMasqueradeCIDRs: ["10.0.0.0/8"],
      resyncInterval: "30s",
      masqLinkLocal: false,
    });
    expect(cfg.author).toBe("kubectl-client-side-apply (outside the dashboard)");
  });

  it("saves with a replace carrying the revision, in the upstream format, and pushes to reporters", async () => {
    const s = await start();
    const node = await reporter(s, "node-a");
    const cfg = (await s.api("/api/config")).body;
    const yaml = "nonMasqueradeCIDRs:\n  - 10.0.0.0/8\n  - 100.64.0.0/10\nmasqLinkLocal: true\n";
    const put = await s.api("/api/config", {
      method: "PUT",
      body: { yaml, resourceVersion: cfg.resourceVersion, message: "cgnat" },
    });
    expect(put.status).toBe(200);
    const cm = fake.configMap(NS, CM);
    expect(cm.data.config).toBe(yaml);
    expect(put.body.resourceVersion).toBe(cm.metadata.resourceVersion);
    expect(put.body.revision).toBe(2);
    expect(cm.metadata.annotations).toMatchObject({
      "ipmasq.dev/author": "admin",
      "ipmasq.dev/message": "cgnat",
      "ipmasq.dev/revision": "2",
    });
    const replace = fake.requests.filter(
      (r) => r.method === "PUT" && r.path.startsWith(`/api/v1/namespaces/${NS}/configmaps/${CM}?`),
    );
    // The stamp of the chart's ConfigMap (revision 1), then the save.
    expect(replace.map((r) => r.status)).toEqual([200, 200]);
    expect(replace.every((r) => r.path.includes("fieldManager=ipmasq-dashboard"))).toBe(true);
    await node.waitFor((m) => m.type === "desired" && m.revision === 2, 10_000);
    const got = (await s.api("/api/config")).body;
    expect(got).toMatchObject({
      resourceVersion: cm.metadata.resourceVersion,
      author: "admin",
      message: "cgnat",
    });
  });

  it("turns a stale save into the API server's 409, keeping the other edit", async () => {
    const s = await start();
    const cfg = (await s.api("/api/config")).body;
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [172.16.0.0/12]\n" });
    const put = await s.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(put.status).toBe(409);
    expect(put.body.current).toMatchObject({
      yaml: "nonMasqueradeCIDRs: [172.16.0.0/12]\n",
      config: { nonMasqueradeCIDRs: ["172.16.0.0/12"] },
    });
    expect(fake.configMap(NS, CM).data.config).toBe("nonMasqueradeCIDRs: [172.16.0.0/12]\n");
    const garbage = await s.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: "not-a-version" },
    });
    expect(garbage.status).toBe(409);
    // The conflict came from the API server's resourceVersion check, not only a local one.
    expect(
      fake.requests.some(
        (r) => r.method === "PUT" && r.path.includes(`/configmaps/${CM}?`) && r.status === 409,
      ),
    ).toBe(true);
  });

  it("shows kubectl edits live (watch), as a new revision pushed to reporters", async () => {
    const s = await start();
    const node = await reporter(s, "node-a");
    await eventually(
      async () => (await s.api("/api/nodes/node-a")).body.node?.status === "in-sync",
      3000,
    );
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n";
    fake.kubectlEdit(NS, CM, { config: yaml });
    const cfg = await eventually(
      async () => {
        const c = (await s.api("/api/config")).body;
        return c.yaml === yaml ? c : undefined;
      },
      10_000,
      "kubectl edit",
    );
    expect(cfg).toMatchObject({
      revision: 2,
      valid: true,
      author: "kubectl-edit (outside the dashboard)",
    });
    await node.waitFor((m) => m.type === "desired" && m.revision === 2, 10_000);
    await eventually(
      async () => (await s.api("/api/nodes/node-a")).body.node.appliedRevision === 2,
      10_000,
    );
    await eventually(() => history().length === 2, 3000, "history");
    expect(history().map((h) => h.revision)).toEqual([1, 2]);
  });

  it("shows an invalid ConfigMap as invalid and never pushes it", async () => {
    const s = await start();
    const node = await reporter(s, "node-a");
    await eventually(
      async () => (await s.api("/api/nodes/node-a")).body.node?.status === "in-sync",
      3000,
    );
    const yaml = "nonMasqueradeCIDRs: [10.0.0.1/8]\n";
    fake.kubectlEdit(NS, CM, { config: yaml });
    // The current revision once the dashboard stamped the edit's revision.
    const cfg = await eventually(async () => {
      const c = (await s.api("/api/config")).body;
      const now = fake.configMap(NS, CM);
      return c.yaml === yaml &&
        now.metadata.annotations["ipmasq.dev/config-sha256"] &&
        c.resourceVersion === now.metadata.resourceVersion
        ? c
        : undefined;
    }, 10_000);
    expect(cfg.valid).toBe(false);
    expect(cfg.errors[0]).toMatchObject({ code: "cidr-misaligned", value: "10.0.0.1/8" });
    expect(cfg.yaml).toBe("nonMasqueradeCIDRs: [10.0.0.1/8]\n");
    // Nodes keep (and are judged against) the last valid config.
    expect([cfg.revision, cfg.desiredRevision]).toEqual([2, 1]);
    expect(cfg.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    await new Promise((r) => setTimeout(r, 300));
    expect(
      node.received
        .filter((m) => m.type === "desired")
        .map((m) => m.type === "desired" && m.revision),
    ).toEqual([1]);
    expect((await s.api("/api/nodes/node-a")).body.node.status).toBe("in-sync");
    const hist = (await s.api("/api/history")).body.revisions;
    expect(hist[0]).toMatchObject({ valid: false, config: null });
    // Rolling back to the last valid revision repairs it.
    const rb = await s.api(`/api/history/${hist[1].resourceVersion}/rollback`, {
      body: { resourceVersion: cfg.resourceVersion },
    });
    expect(rb.status).toBe(200);
    await node.waitFor((m) => m.type === "desired" && m.revision === rb.body.revision, 10_000);
    expect((await s.api("/api/config")).body.valid).toBe(true);
  });

  it("keeps the history bounded in the companion ConfigMap", async () => {
    const s = await start({});
    let rev = (await s.api("/api/config")).body.resourceVersion;
    for (let i = 0; i < 55; i++) {
      const put = await s.api("/api/config", {
        method: "PUT",
        body: { yaml: `nonMasqueradeCIDRs: [10.${i}.0.0/16]\n`, resourceVersion: rev },
      });
      expect(put.status).toBe(200);
      rev = put.body.resourceVersion;
    }
    const h = await eventually(() => history().at(-1)?.resourceVersion === rev && history(), 3000);
    expect(h).toHaveLength(50);
    expect(h.at(-1)).toMatchObject({ resourceVersion: rev, revision: 56 });
    expect((await s.api("/api/history")).body.revisions).toHaveLength(50);
  });

  it("lets two replicas agree on revisions and revisions", async () => {
    const a = await start();
    const b = await start();
    const cfg = (await a.api("/api/config")).body;
    const put = await a.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(put.status).toBe(200);
    const seen = await eventually(async () => {
      const c = (await b.api("/api/config")).body;
      return c.resourceVersion === put.body.resourceVersion ? c : undefined;
    }, 10_000);
    expect(seen.revision).toBe(put.body.revision);
    const stale = await b.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [172.16.0.0/12]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(stale.status).toBe(409);
    expect(history().map((h) => h.revision)).toEqual([1, 2]);
  });

  it("keeps revisions and revisions across a dashboard restart", async () => {
    const s = await start();
    const cfg = (await s.api("/api/config")).body;
    const put = await s.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    await k.stop(s);
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]\n" });
    const again = await start();
    const now = (await again.api("/api/config")).body;
    expect(now.revision).toBe(put.body.revision + 1);
    expect(now.config.nonMasqueradeCIDRs).toEqual(["10.0.0.0/8", "172.16.0.0/12"]);
  });
});
