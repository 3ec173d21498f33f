// Issue 18.5: history that does not fit, and revisions that survive. The history ConfigMap is
// bounded by UTF-8 bytes as the API server counts them (the test API server refuses data over
// 1 MiB with its real 422) and says how many revisions it keeps; revisions come from the
// ConfigMap's own annotation, so a replica started after a failed history write, or an old
// manifest applied again, never tells a reporter to step back.
import { type FakeKubeApi, MAX_CONFIGMAP_BYTES } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import type { SimReporter } from "./helpers/reporter-client.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const HISTORY = "ip-masq-agent-history";
const k = kubeTestCluster();
let fake: FakeKubeApi;

const start = (pod = "dash-a") => k.start({ POD_NAME: pod });

async function save(s: KubeTestServer, yaml: string, message = "") {
  const cfg = (await s.api("/api/config")).body;
  const put = await s.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cfg.resourceVersion, message },
  });
  expect(put.status, JSON.stringify(put.body)).toBe(200);
  return put.body as { resourceVersion: string; revision: number };
}

const desiredRevisions = (r: SimReporter) =>
  r.received.flatMap((m) => (m.type === "desired" ? [m.revision] : []));

describe("config history", () => {
  it("keeps what fits in 1 MiB of UTF-8, says how many, and is never refused for size", async () => {
    fake = await k.cluster();
    const s = await start();
    // Configs commented in Japanese: ~300 kB of UTF-8 each, a third of that in UTF-16 units.
    const note = "この範囲はオンプレミスの拠点へ直接届く。".repeat(5000);
    for (let i = 1; i <= 6; i++) {
      const yaml = `nonMasqueradeCIDRs: [10.${i}.0.0/16]\n# ${i}: ${note}\n`;
      fake.kubectlEdit(NS, CM, { config: yaml });
      // 15 s: six ~300 kB configs parsed, diffed and written; it failed once at 5 s under load.
      await eventually(async () => (await s.api("/api/config")).body.yaml === yaml, 15_000);
    }
    const newest = () => JSON.parse(fake.configMap(NS, HISTORY).data["history.json"]).at(-1);
    await eventually(() => newest().revision === 7, 15_000, "the last revision recorded");
    const kept = async () => (await s.api("/readyz", { token: null })).body.detail.store.history;
    await eventually(async () => (await kept()).kept === 3, 5000, "readyz counts what was kept");
    expect(await kept()).toMatchObject({ kept: 3, retention: 50, maxBytes: MAX_CONFIGMAP_BYTES });
    const raw = fake.configMap(NS, HISTORY).data["history.json"];
    expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(MAX_CONFIGMAP_BYTES);
    expect(raw.length * 2).toBeLessThan(Buffer.byteLength(raw)); // mostly 3-byte characters
    expect(JSON.parse(raw).map((e: { revision: number }) => e.revision)).toEqual([5, 6, 7]);
    const refused = fake.requests.filter(
      (r) => r.path.includes(`/configmaps/${HISTORY}`) && r.status === 422,
    );
    expect(refused).toEqual([]);
    expect((await s.api("/api/history")).body.revisions).toHaveLength(3);
    expect((await s.api("/readyz", { token: null })).body.problems).toEqual([]);
  }, 120_000);
});

describe("revisions", () => {
  it("never step back: a replica started after history writes failed continues from the ConfigMap", async () => {
    fake = await k.cluster();
    const a = await start("dash-a");
    let node = await k.reporter(a, "node-a");
    for (let i = 2; i <= 4; i++) await save(a, `nonMasqueradeCIDRs: [10.${i}.0.0/16]\n`);
    // The history ConfigMap goes away (the chart gives no create): its writes fail from now on.
    fake.deleteConfigMap(NS, HISTORY);
    expect((await save(a, "nonMasqueradeCIDRs: [10.5.0.0/16]\n")).revision).toBe(5);
    await node.waitFor((m) => m.type === "desired" && m.revision === 5, 3000);
    await k.stop(a);
    node.ws.terminate();
    // A fresh replica knows nothing but what the ConfigMap says.
    const b = await start("dash-b");
    expect((await b.api("/api/config")).body.revision).toBe(5);
    node = await k.reporter(b, "node-a");
    await node.waitFor((m) => m.type === "desired", 3000);
    expect(desiredRevisions(node)).toEqual([5]);
    // An outside edit is numbered after it, on every replica and after every restart.
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.6.0.0/16]\n" });
    await node.waitFor((m) => m.type === "desired" && m.revision === 6, 3000);
    await eventually(
      () => fake.configMap(NS, CM).metadata.annotations["ipmasq.dev/revision"] === "6",
      3000,
    );
  }, 20_000);

  it("gives an old manifest applied again a new revision, not its old one", async () => {
    fake = await k.cluster();
    const s = await start();
    const node = await k.reporter(s, "node-a");
    await save(s, "nonMasqueradeCIDRs: [10.2.0.0/16]\n");
    const old = fake.configMap(NS, CM); // revision 2, with its annotations (e.g. kept in git)
    await save(s, "nonMasqueradeCIDRs: [10.3.0.0/16]\n");
    await node.waitFor((m) => m.type === "desired" && m.revision === 3, 3000);
    fake.apply(old, "argocd-controller");
    await node.waitFor((m) => m.type === "desired" && m.revision === 4, 3000);
    expect((await s.api("/api/config")).body).toMatchObject({
      revision: 4,
      config: { nonMasqueradeCIDRs: ["10.2.0.0/16"] },
    });
    expect(desiredRevisions(node)).toEqual([1, 2, 3, 4]);
  });
});
