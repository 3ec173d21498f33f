// Issue 18.1: the config watch survives what a real API server does — restarts that empty the
// watch cache, other ConfigMaps pushing our version out of it, watches closed by the server —
// because it watches from a list's resourceVersion and lists again on 410; a watch that cannot
// be kept shows in /readyz, /metrics and the logs. Real client-node, test API server.
import type { FakeKubeApi, FakeKubeApiOptions } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const k = kubeTestCluster();
let fake: FakeKubeApi;

/** The config ConfigMap's watch alone (no config sources: their watch is kube-sources.test.ts's). */
async function start(opts: FakeKubeApiOptions = {}) {
  fake = await k.cluster(opts);
  return k.start({ IPMASQ_SOURCE_PREFIX: "" });
}

const watches = () => fake.count("GET", "watch=true");
const lists = () =>
  fake.requests.filter(
    (r) => r.method === "GET" && r.path.includes("/configmaps?") && !r.path.includes("watch=true"),
  ).length;

async function yamlSeen(s: KubeTestServer, yaml: string, timeoutMs = 5000, what = "edit") {
  return eventually(async () => (await s.api("/api/config")).body.yaml === yaml, timeoutMs, what);
}

async function metric(s: KubeTestServer, name: string): Promise<number | undefined> {
  const text = (await s.api("/metrics", { token: null })).body as string;
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : undefined;
}

describe("the config watch", () => {
  it("watches again after an API server restart, from a fresh list, and sees the next edit", async () => {
    const s = await start();
    // Other objects change after our ConfigMap: its own resourceVersion is now older than the
    // newest, which is all a restarted watch cache can serve.
    fake.addPod(NS, "unrelated", "node-x", {});
    await eventually(() => fake.openWatches === 1, 3000, "watch");
    const listsBefore = lists();
    await fake.restart(300);
    // Without any edit: a watch is open again (from a new list), not a loop of 410s.
    await eventually(() => fake.openWatches === 1, 5000, "watch after restart");
    expect(lists()).toBe(listsBefore + 1);
    const watchesNow = watches();
    await new Promise((r) => setTimeout(r, 500));
    expect(watches()).toBe(watchesNow); // it stays open: no reconnect loop
    const node = await k.reporter(s, "node-a");
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n";
    fake.kubectlEdit(NS, CM, { config: yaml });
    await yamlSeen(s, yaml, 3000, "kubectl edit after the restart");
    await node.waitFor((m) => m.type === "desired" && m.revision === 2, 3000);
    const ready = await s.api("/readyz", { token: null });
    expect(ready.body.detail.store.watch).toMatchObject({ open: true, failures: 0 });
  }, 20_000);

  it("resumes from bookmarks after other ConfigMaps churn, and relists when its version expired", async () => {
    const s = await start({ watchCacheSize: 5, bookmarkIntervalMs: 100 });
    await eventually(() => fake.openWatches === 1, 3000, "watch");
    for (let i = 0; i < 20; i++) fake.kubectlEdit(NS, `other-${i}`, { k: String(i) });
    // A bookmark carries the newest version: a resume from it is still in the cache.
    await new Promise((r) => setTimeout(r, 300));
    const listsBefore = lists();
    fake.dropWatches(); // the server closes watches now and then (its timeout)
    await eventually(() => fake.openWatches === 1, 3000, "resumed");
    expect(lists()).toBe(listsBefore);
    // Churn, the cache forgets, the watch is closed, all before another bookmark: its last
    // version is too old for the cache, so 410 Expired → list → watch again.
    for (let i = 0; i < 20; i++) fake.kubectlEdit(NS, `other-${i}`, { k: `again-${i}` });
    fake.expireWatchHistory();
    fake.dropWatches();
    await eventually(() => fake.openWatches === 1 && lists() === listsBefore + 1, 3000, "relisted");
    const yaml = "nonMasqueradeCIDRs: [172.16.0.0/12]\n";
    fake.kubectlEdit(NS, CM, { config: yaml });
    await yamlSeen(s, yaml, 3000);
    expect(await metric(s, "ipmasq_config_watch_lists_total")).toBe(listsBefore + 1);
  }, 20_000);

  it("reports a watch that cannot be kept in /readyz and /metrics, and recovers", async () => {
    const s = await start();
    await eventually(() => fake.openWatches === 1, 3000, "watch");
    expect(await metric(s, "ipmasq_config_watch_open")).toBe(1);
    const restarted = fake.restart(6000); // the API server is away for 6 s
    const down = await eventually(
      async () => {
        const r = await s.api("/readyz", { token: null });
        return r.body.problems.some((p: string) => p.includes("watch on ConfigMap"))
          ? r
          : undefined;
      },
      5500,
      "watch problem reported",
    );
    expect(down.body.detail.store.watch).toMatchObject({ open: false });
    expect(down.body.detail.store.watch.failures).toBeGreaterThan(1);
    expect(await metric(s, "ipmasq_config_watch_open")).toBe(0);
    expect(await metric(s, "ipmasq_config_watch_failures")).toBeGreaterThan(1);
    const yaml = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    fake.kubectlEdit(NS, CM, { config: yaml }); // made while the dashboard cannot see it
    await restarted;
    await yamlSeen(s, yaml, 8000, "edit made during the outage");
    await eventually(async () => (await metric(s, "ipmasq_config_watch_open")) === 1, 3000);
    // History writes that failed during the outage are retried with the next one.
    const ready = await eventually(
      async () => {
        const r = await s.api("/readyz", { token: null });
        return r.body.problems.length === 0 ? r : undefined;
      },
      5000,
      "no problems left",
    );
    expect(ready.status).toBe(200);
  }, 25_000);
});
