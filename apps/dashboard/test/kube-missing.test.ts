// Issue 18.2 and 18.3: the objects the chart created can disappear. A deleted ConfigMap keeps
// the last config enforced, is reported (/readyz, /metrics, a save's answer), is recreated only
// when the chart grants `create`, and never makes the store spin; a dashboard starts without
// its ConfigMap or history. Real client-node, test API server with the chart's RBAC.
import type { ChartValues, FakeKubeApi } from "@masq/testkit/kube-api";
import { sleep } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const HISTORY = "ip-masq-agent-history";
const k = kubeTestCluster();
let fake: FakeKubeApi;

async function cluster(chart: ChartValues = {}) {
  fake = await k.cluster({ chart });
}

const start = () => k.start();

async function save(s: KubeTestServer, yaml: string) {
  const cfg = (await s.api("/api/config")).body;
  return s.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cfg.resourceVersion },
  });
}

async function problems(s: KubeTestServer): Promise<string[]> {
  return (await s.api("/readyz", { token: null })).body.problems;
}

const configMapCalls = () => fake.requests.filter((r) => r.path.includes("/configmaps")).length;

describe("a deleted ConfigMap", () => {
  it("keeps the nodes on the last config, says so, never spins, and follows its re-creation", async () => {
    await cluster();
    const s = await start();
    const node = await k.reporter(s, "node-a");
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n";
    expect((await save(s, yaml)).status).toBe(200);
    await node.waitFor((m) => m.type === "desired" && m.revision === 2, 3000);
    fake.deleteConfigMap(NS, CM);
    const said = await eventually(
      async () => (await problems(s)).find((p) => p.includes("was deleted")),
      3000,
      "deletion reported",
    );
    expect(said).toMatch(/nodes keep enforcing revision 2 \(resourceVersion \d+\)/);
    expect(said).toMatch(/helm upgrade/);
    // /healthz (what the UI shows on every page) says it too, and stays 200.
    const health = await s.api("/healthz", { token: null });
    expect(health.status).toBe(200);
    expect(health.body.problems).toContain(said);
    // Quiet: no create (the chart does not grant it), no re-read loop.
    const calls = configMapCalls();
    await sleep(2000);
    expect(configMapCalls() - calls).toBeLessThan(3);
    expect(fake.count("POST", "/configmaps")).toBe(0);
    const ready = await s.api("/readyz", { token: null });
    expect(ready.status).toBe(200); // still serving the last known config
    expect(ready.body.detail.store.source).toEqual({ name: `${NS}/${CM}`, state: "deleted" });
    expect((await s.api("/api/config")).body).toMatchObject({ yaml, revision: 2 });
    expect(node.received.filter((m) => m.type === "desired")).toHaveLength(2);
    const text = (await s.api("/metrics", { token: null })).body as string;
    expect(text).toMatch(/^ipmasq_config_source\{state="deleted"\} 1$/m);
    // A save cannot recreate it: a clear refusal, nothing written.
    const refused = await save(s, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/was deleted/);
    expect(fake.configMap(NS, CM)).toBeUndefined();
    // Someone recreates it: followed at once, as a new generation.
    const recreated = "nonMasqueradeCIDRs: [192.168.0.0/16]\n";
    fake.kubectlEdit(NS, CM, { config: recreated }, "kubectl-client-side-apply");
    await node.waitFor((m) => m.type === "desired" && m.revision === 3, 3000);
    expect(await problems(s)).toEqual([]);
  }, 20_000);

  it("is recreated with the last config when the chart grants create (dashboard.recreateConfigMaps)", async () => {
    await cluster({ set: ["dashboard.recreateConfigMaps=true"] });
    const s = await start();
    const node = await k.reporter(s, "node-a");
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    expect((await save(s, yaml)).status).toBe(200);
    await node.waitFor((m) => m.type === "desired" && m.revision === 2, 3000);
    fake.deleteConfigMap(NS, CM);
    const cm = await eventually(() => fake.configMap(NS, CM), 3000, "recreated");
    expect(cm.data.config).toBe(yaml);
    expect(cm.metadata.annotations).toMatchObject({
      "ipmasq.dev/revision": "2",
      "ipmasq.dev/message": "recreated after deletion",
    });
    await eventually(
      async () => (await s.api("/api/config")).body.resourceVersion === cm.metadata.resourceVersion,
      3000,
    );
    // Same text, same revision: nothing to push again.
    await sleep(300);
    expect(node.received.filter((m) => m.type === "desired")).toHaveLength(2);
    expect(await problems(s)).toEqual([]);
  });
});

describe("starting without the chart's objects", () => {
  it("starts on the last recorded revision when the ConfigMap is missing", async () => {
    await cluster();
    const first = await start();
    expect((await save(first, "nonMasqueradeCIDRs: [10.0.0.0/8]\n")).status).toBe(200);
    await eventually(
      () => fake.configMap(NS, HISTORY)?.data?.["history.json"]?.includes('"revision":2'),
      3000,
    );
    await k.stop(first);
    fake.deleteConfigMap(NS, CM);
    const s = await start();
    expect((await s.api("/api/config")).body).toMatchObject({
      yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
      revision: 2,
    });
    const ready = await s.api("/readyz", { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body.problems[0]).toMatch(
      /ConfigMap kube-system\/ip-masq-agent does not exist; nodes keep enforcing/,
    );
    expect(ready.body.detail.store.source.state).toBe("missing");
  });

  it("starts with the upstream defaults when neither the ConfigMap nor any history exists", async () => {
    await cluster();
    fake.deleteConfigMap(NS, CM);
    fake.deleteConfigMap(NS, HISTORY);
    const s = await start();
    const cfg = (await s.api("/api/config")).body;
    expect(cfg).toMatchObject({ resourceVersion: "absent", revision: 0, valid: true });
    expect(cfg.config.nonMasqueradeCIDRs).toEqual([
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    expect((await problems(s))[0]).toMatch(/does not exist; nodes are given the upstream defaults/);
    const refused = await save(s, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatch(/not allowed to/);
  });

  it("keeps changing the config with its history ConfigMap deleted, and says history is not kept", async () => {
    await cluster();
    const s = await start();
    fake.deleteConfigMap(NS, HISTORY);
    const put = await save(s, "nonMasqueradeCIDRs: [10.0.0.0/8]\n");
    expect(put.status).toBe(200);
    expect(put.body.revision).toBe(2);
    const said = await eventually(
      async () => (await problems(s)).find((p) => p.includes("history is not being recorded")),
      3000,
    );
    expect(said).toMatch(/may not create it/);
    expect(fake.count("POST", "/configmaps")).toBe(0);
  });
});
