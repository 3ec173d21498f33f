// No revision number names two configs in the cluster, with several config sources and every
// replica active, when an edit of ip-masq-agent made outside the dashboard (kubectl) and a change
// of another source come at the same moment: one replica's watch of ip-masq-agent lags (held by
// the test API server), so it merges the changed source with the old ip-masq-agent text while
// another replica has already stamped the edit. Merges were numbered from each replica's own
// count and the shared mark raised after: the lagging replica gave its merge the number the
// other had just stamped on the edit ("revision 4" was the kubectl edit on dash-a and a merge of
// the old text with the new source on dash-b). Through the real @kubernetes/client-node.
import { sha256 } from "@masq/node-util";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const PLATFORM = "ip-masq-platform";
const MARK = "ipmasq.dev/merged-revisions-up-to";
const k = kubeTestCluster();

interface ConfigBody {
  resourceVersion: string;
  revision: number;
  yaml: string;
  desiredRevision: number | null;
  merge?: { config?: { nonMasqueradeCIDRs: string[] } } | null;
}

/** Every number seen, with what it named: a stored text or a merged config. */
class Numbers {
  private readonly named = new Map<number, Map<string, string>>();

  add(n: number | null | undefined, meaning: string, where: string): void {
    if (n === null || n === undefined) return;
    const m = this.named.get(n) ?? new Map<string, string>();
    if (!m.has(meaning)) m.set(meaning, where);
    this.named.set(n, m);
  }

  async sample(s: KubeTestServer, replica: string): Promise<ConfigBody> {
    const c = (await s.api("/api/config")).body as ConfigBody;
    this.add(c.revision, `stored ${c.yaml}`, `${replica} /api/config revision`);
    if (c.merge?.config)
      this.add(
        c.desiredRevision,
        `merged ${JSON.stringify(c.merge.config)}`,
        `${replica} /api/config desiredRevision`,
      );
    const h = (await s.api("/api/history")).body as {
      revisions: { revision: number; yaml: string }[];
    };
    for (const r of h.revisions) this.add(r.revision, `stored ${r.yaml}`, `${replica} History`);
    return c;
  }

  stored(fake: FakeKubeApi): void {
    const raw = fake.configMap(NS, `${CM}-history`)?.data?.["history.json"] ?? "[]";
    for (const e of JSON.parse(raw) as { revision: number; text: string }[])
      this.add(e.revision, `stored ${e.text}`, "the history ConfigMap");
  }

  /** Numbers that named more than one config, with where each was seen. */
  shared(): string[] {
    return [...this.named]
      .filter(([, m]) => m.size > 1)
      .map(([n, m]) => `${n}: ${[...m].map(([what, where]) => `${where} (${what})`).join(" / ")}`);
  }
}

const cidrsOf = (c: ConfigBody) => c.merge?.config?.nonMasqueradeCIDRs ?? [];
const mark = (fake: FakeKubeApi) =>
  Number(fake.configMap(NS, `${CM}-history`)?.metadata.annotations?.[MARK] ?? 0);

/** Polls `s` (sampling every answer) until `done` holds for its config. */
function until(
  numbers: Numbers,
  s: KubeTestServer,
  replica: string,
  done: (c: ConfigBody) => boolean,
  what: string,
) {
  return eventually(
    async () => {
      const c = await numbers.sample(s, replica);
      return done(c) ? c : undefined;
    },
    10_000,
    what,
  );
}

describe("a kubectl edit of ip-masq-agent and a change of another source at the same moment", () => {
  it("one replica's watch of ip-masq-agent lagging: no number names two configs", async () => {
    const fake = await k.cluster();
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    fake.kubectlEdit(NS, PLATFORM, { config: "nonMasqueradeCIDRs: [100.64.0.0/10]\n" });
    fake.addDashboardToken("dashboard-sa-token-b");
    const numbers = new Numbers();
    const a = await k.start({ POD_NAME: "dash-a" });
    const first = await numbers.sample(a, "dash-a");
    await eventually(() => mark(fake) >= (first.desiredRevision ?? 0), 5000, "dash-a's mark");
    const b = await k.start({ POD_NAME: "dash-b" }, {}, "dashboard-sa-token-b");
    const onB = await numbers.sample(b, "dash-b");
    await eventually(() => mark(fake) >= (onB.desiredRevision ?? 0), 5000, "dash-b's mark");

    // dash-b's watch of ip-masq-agent lags; its watch of every ConfigMap (the sources) does not.
    const release = fake.holdWatches("dashboard-sa-token-b", "configmaps", `metadata.name=${CM}`);
    const edit = "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]\n";
    fake.kubectlEdit(NS, CM, { config: edit });
    await until(numbers, a, "dash-a", (c) => cidrsOf(c).includes("172.16.0.0/12"), "edit on a");
    fake.kubectlEdit(NS, PLATFORM, { config: "nonMasqueradeCIDRs: [100.65.0.0/16]\n" });
    await until(numbers, a, "dash-a", (c) => cidrsOf(c).includes("100.65.0.0/16"), "merge on a");
    // dash-b merges the new source with the old ip-masq-agent text (it has not seen the edit).
    const lagging = await until(
      numbers,
      b,
      "dash-b",
      (c) => cidrsOf(c).includes("100.65.0.0/16"),
      "the lagging merge on b",
    );
    expect(cidrsOf(lagging)).not.toContain("172.16.0.0/12");
    expect(lagging.desiredRevision).not.toBeNull();

    release();
    const both = (c: ConfigBody) =>
      cidrsOf(c).includes("172.16.0.0/12") && cidrsOf(c).includes("100.65.0.0/16");
    await until(numbers, b, "dash-b", both, "b caught up");
    // The ConfigMap settled (one stamp, or a stamp over a lower one), both replicas alike.
    await eventually(
      async () => {
        const rv = fake.configMap(NS, CM)?.metadata.resourceVersion;
        const [ca, cb] = [await numbers.sample(a, "dash-a"), await numbers.sample(b, "dash-b")];
        return ca.revision === cb.revision && both(ca) && rv !== undefined;
      },
      10_000,
      "both replicas on the edit",
    );
    numbers.stored(fake);
    expect(numbers.shared()).toEqual([]);
  });

  it("three replicas, both changes in the same tick, three times: no number names two configs", async () => {
    const fake = await k.cluster();
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    fake.kubectlEdit(NS, PLATFORM, { config: "nonMasqueradeCIDRs: [100.64.0.0/10]\n" });
    const numbers = new Numbers();
    const replicas: [string, KubeTestServer][] = [];
    for (const pod of ["dash-a", "dash-b", "dash-c"])
      replicas.push([pod, await k.start({ POD_NAME: pod })]);
    for (let i = 1; i <= 3; i++) {
      const [edit, source] = [`172.${16 + i}.0.0/16`, `100.${64 + i}.0.0/16`];
      fake.kubectlEdit(NS, CM, { config: `nonMasqueradeCIDRs: [10.0.0.0/8, ${edit}]\n` });
      fake.kubectlEdit(NS, PLATFORM, { config: `nonMasqueradeCIDRs: [${source}]\n` });
      for (const [pod, s] of replicas)
        await until(
          numbers,
          s,
          pod,
          (c) => cidrsOf(c).includes(edit) && cidrsOf(c).includes(source),
          `round ${i} on ${pod}`,
        );
    }
    // Settled: the stamps' last word is in every replica's History.
    await eventually(
      async () => {
        const seen = [];
        for (const [pod, s] of replicas) seen.push((await numbers.sample(s, pod)).revision);
        return new Set(seen).size === 1;
      },
      10_000,
      "one revision on every replica",
    );
    numbers.stored(fake);
    expect(numbers.shared()).toEqual([]);
  });
});

describe("a revision number that cannot be reserved (the history ConfigMap's writes fail)", () => {
  const problems = async (s: KubeTestServer): Promise<string[]> =>
    (await s.api("/healthz", { token: null })).body.problems;

  it("holds the merge and the kubectl edit and refuses a save, says so, then takes them", async () => {
    const fake = await k.cluster();
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    fake.kubectlEdit(NS, PLATFORM, { config: "nonMasqueradeCIDRs: [100.64.0.0/10]\n" });
    const s = await k.start();
    const numbers = new Numbers();
    const before = await numbers.sample(s, "dash");
    const heal = fake.failRequests(
      (method, path) => method === "PUT" && path.endsWith(`/configmaps/${CM}-history`),
    );
    fake.kubectlEdit(NS, PLATFORM, { config: "nonMasqueradeCIDRs: [100.65.0.0/16]\n" });
    const said = await eventually(
      async () => (await problems(s)).find((p) => p.includes("could not be reserved")),
      10_000,
      "the problem said",
    );
    expect(said).toMatch(/nodes keep their config/);
    const edit = "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]\n";
    fake.kubectlEdit(NS, CM, { config: edit });
    await new Promise((r) => setTimeout(r, 2500)); // a retry of each, and of the edit
    const held = await numbers.sample(s, "dash");
    expect(held.desiredRevision).toBe(before.desiredRevision); // nodes keep what they have
    expect(cidrsOf(held)).not.toContain("100.65.0.0/16");
    expect(held.revision).toBe(before.revision); // the edit is not numbered yet
    const annotations = fake.configMap(NS, CM)?.metadata.annotations ?? {};
    expect(annotations["ipmasq.dev/config-sha256"]).not.toBe(sha256(edit));
    const put = await s.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.1.0.0/16]\n", resourceVersion: held.resourceVersion },
    });
    expect(put.status).toBe(503);
    expect(put.body.error).toMatch(/the save is refused: .*could not be reserved/);

    heal();
    await until(
      numbers,
      s,
      "dash",
      (c) => c.yaml === edit && cidrsOf(c).includes("100.65.0.0/16"),
      "the edit and the source change taken",
    );
    await eventually(async () => (await problems(s)).length === 0, 10_000, "no problem left");
    numbers.stored(fake);
    expect(numbers.shared()).toEqual([]);
  });

  // A number past the limit would read back as a mark set by hand, be ignored, and come again.
  it("the mark set by hand at its limit (10^12 + 10^6): no number past it, and the problem says so", async () => {
    const fake = await k.cluster();
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
    const s = await k.start();
    const before = (await s.api("/api/config")).body as ConfigBody;
    const history = fake.configMap(NS, `${CM}-history`)!;
    const annotations = { ...history.metadata.annotations, [MARK]: "1000001000000" };
    fake.apply({ ...history, metadata: { ...history.metadata, annotations } });
    fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8, 172.16.0.0/12]\n" });
    const said = await eventually(
      async () => (await problems(s)).find((p) => p.includes("used up to 1000001000000")),
      10_000,
      "the problem said",
    );
    expect(said).toMatch(/set by hand\?/);
    expect(((await s.api("/api/config")).body as ConfigBody).revision).toBe(before.revision);
    expect(mark(fake)).toBe(1000001000000);
  });
});
