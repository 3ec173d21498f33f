// An edit of ip-masq-agent made outside the dashboard (kubectl) never takes a number a merged
// revision had, with several config sources, through the real @kubernetes/client-node against
// the test API server: each replica numbers its merges itself, and records the highest on the
// history ConfigMap (ipmasq.dev/merged-revisions-up-to); the edit is stamped above it. It was
// numbered from the history alone: after merges 2, 3 and 4 a kubectl edit was "revision 2", a
// different config than the merge History and the config page also called revision 2.
import { sha256 } from "@masq/node-util";
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { eventually } from "./helpers/server.js";

const NS = "kube-system";
const CM = "ip-masq-agent";
const MARK = "ipmasq.dev/merged-revisions-up-to";
const k = kubeTestCluster();

interface ConfigBody {
  revision: number;
  resourceVersion: string;
  desiredRevision: number;
  merge: { config: { nonMasqueradeCIDRs: string[] } };
}

async function cluster(): Promise<FakeKubeApi> {
  const fake = await k.cluster();
  fake.kubectlEdit(NS, CM, { config: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" });
  fake.kubectlEdit(NS, "ip-masq-platform", { config: "nonMasqueradeCIDRs: [100.64.0.0/10]\n" });
  return fake;
}

const config = async (s: KubeTestServer): Promise<ConfigBody> => (await s.api("/api/config")).body;
const mark = (fake: FakeKubeApi) =>
  Number(fake.configMap(NS, `${CM}-history`)?.metadata.annotations?.[MARK] ?? 0);

/**
 * Edits the platform source `n` times (each a new merge, numbered on every running replica) and
 * returns the merged numbers `s` handed out, once the history ConfigMap's mark holds them.
 */
async function merges(fake: FakeKubeApi, s: KubeTestServer, n: number): Promise<number[]> {
  const seen = [(await config(s)).desiredRevision];
  for (let i = 1; i <= n; i++) {
    const cidr = `100.${64 + i}.0.0/16`;
    fake.kubectlEdit(NS, "ip-masq-platform", { config: `nonMasqueradeCIDRs: [${cidr}]\n` });
    const c = await eventually(async () => {
      const got = await config(s);
      return got.merge.config.nonMasqueradeCIDRs.includes(cidr) ? got : undefined;
    }, 5000);
    seen.push(c.desiredRevision);
  }
  const top = Math.max(...seen);
  await eventually(() => mark(fake) >= top, 5000, `the mark at ${top}`);
  return seen;
}

/** A kubectl edit of ip-masq-agent: its text, by another field manager, annotations kept. */
function outsideEdit(fake: FakeKubeApi, cidrs: string): string {
  const text = `nonMasqueradeCIDRs: [${cidrs}]\n`;
  fake.kubectlEdit(NS, CM, { config: text });
  return text;
}

/** The edit once stamped, and every given replica showing that revision for it. */
async function stamped(fake: FakeKubeApi, text: string, replicas: KubeTestServer[]) {
  return eventually(
    async () => {
      const cm = fake.configMap(NS, CM);
      const revision = Number(cm?.metadata.annotations?.["ipmasq.dev/revision"]);
      // The sha annotation is the text's once the stamp is on it.
      if (
        cm?.data?.config !== text ||
        cm.metadata.annotations?.["ipmasq.dev/config-sha256"] !== sha256(text)
      )
        return undefined;
      for (const s of replicas) {
        const c = await config(s);
        if (c.resourceVersion !== cm.metadata.resourceVersion || c.revision !== revision)
          return undefined;
      }
      return { revision, resourceVersion: cm.metadata.resourceVersion as string };
    },
    10_000,
    "the edit stamped and seen alike",
  );
}

/** Revision numbers of GET /api/history with the texts they name. */
async function historyNumbers(s: KubeTestServer): Promise<Map<number, Set<string>>> {
  const body = (await s.api("/api/history")).body as {
    revisions: { revision: number; yaml: string }[];
  };
  const out = new Map<number, Set<string>>();
  for (const r of body.revisions)
    out.set(r.revision, (out.get(r.revision) ?? new Set()).add(r.yaml));
  return out;
}

/**
 * Replicas dash-a and dash-b, dash-a restarted and its merges since numbered above the mark,
 * ahead of dash-b's (which last read the mark before them).
 */
async function aheadOnA() {
  const fake = await cluster();
  const first = await k.start({ POD_NAME: "dash-a" });
  const b = await k.start({ POD_NAME: "dash-b" });
  await merges(fake, first, 1);
  await k.stop(first);
  const a = await k.start({ POD_NAME: "dash-a" });
  return { fake, a, b, numberedOnA: await merges(fake, a, 2) };
}

describe("an edit made outside the dashboard, with several config sources", () => {
  it("is numbered above every merged revision one replica handed out; History names one config per number", async () => {
    const fake = await cluster();
    const s = await k.start();
    const merged = await merges(fake, s, 3);
    expect(new Set(merged).size).toBe(4); // each merge its own number

    const text = outsideEdit(fake, "10.0.0.0/8, 172.16.0.0/12");
    const { revision } = await stamped(fake, text, [s]);
    expect(revision).toBeGreaterThan(Math.max(...merged));

    const numbers = await historyNumbers(s);
    for (const [n, texts] of numbers) {
      expect(texts.size, `revision ${n}`).toBe(1);
      expect(merged, `revision ${n} is also a merge`).not.toContain(n);
    }
    expect(numbers.get(revision)).toEqual(new Set([text]));
    // Nodes get the edit merged, numbered above it.
    const after = await eventually(async () => {
      const c = await config(s);
      return c.merge.config.nonMasqueradeCIDRs.includes("172.16.0.0/12") ? c : undefined;
    }, 5000);
    expect(after.desiredRevision).toBeGreaterThan(revision);
  });

  // dash-a restarted: it numbers its merges above the mark, one above dash-b's. An edit dash-b
  // numbered from what it knows would take dash-a's newest merged number.
  it.each([
    { desc: "both replicas running: one revision on both, stamped once", stopA: false },
    { desc: "dash-b alone stamps it, above dash-a's merged numbers", stopA: true },
  ])("two replicas, merges numbered ahead on dash-a: $desc", async ({ stopA }) => {
    const { fake, a, b, numberedOnA } = await aheadOnA();
    const numberedOnB = (await config(b)).desiredRevision;
    expect(Math.max(...numberedOnA)).toBeGreaterThan(numberedOnB);
    if (stopA) await k.stop(a);

    const text = outsideEdit(fake, "10.0.0.0/8, 192.168.0.0/16");
    const running = stopA ? [b] : [a, b];
    const { revision, resourceVersion } = await stamped(fake, text, running);
    expect(revision).toBeGreaterThan(Math.max(...numberedOnA, numberedOnB));
    // No stamp back and forth: the ConfigMap stays as stamped.
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.configMap(NS, CM)?.metadata.resourceVersion).toBe(resourceVersion);
    for (const s of running) expect((await config(s)).revision).toBe(revision);
    const numbers = await historyNumbers(b);
    for (const [n, texts] of numbers) expect(texts.size, `revision ${n}`).toBe(1);
    const forEdit = [...numbers].filter(([, texts]) => texts.has(text)).map(([n]) => n);
    // One stamp cycle: the edit's number (a replica's stamp that lost to another's, when their
    // marks differed, is stamped over once: at most two numbers, the higher one kept).
    expect(forEdit.length).toBeLessThanOrEqual(stopA ? 1 : 2);
    expect(Math.max(...forEdit)).toBe(revision);
  });
});

/** A save through the dashboard's API (all at once), answered 200. */
async function save(s: KubeTestServer, yaml: string) {
  const put = await s.api("/api/config", {
    method: "PUT",
    body: {
      yaml,
      resourceVersion: (await config(s)).resourceVersion,
      strategy: { kind: "all-at-once" },
    },
  });
  expect(put.status).toBe(200);
  return put;
}

describe("a save, with several config sources", () => {
  // dash-b last read the mark before dash-a (restarted) numbered its merges ahead of it: a save
  // numbered from the mark as last read took dash-a's newest merged number ("revision 7" in
  // dash-a's History named both its merge and the saved text).
  it("through a replica whose read of the mark is older than another's merges: numbered above them", async () => {
    const { a, b, numberedOnA } = await aheadOnA();

    const put = await save(b, "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n");
    expect(put.body.revision).toBeGreaterThan(Math.max(...numberedOnA));
    await eventually(async () => (await config(a)).revision === put.body.revision, 5000);
    for (const s of [a, b])
      for (const [n, texts] of await historyNumbers(s)) expect(texts.size, `revision ${n}`).toBe(1);
  });
});

describe("the mark set by hand", () => {
  /** Sets the history ConfigMap's mark as `kubectl annotate --overwrite` does. */
  function annotateMark(fake: FakeKubeApi, value: string): void {
    const cm = fake.configMap(NS, `${CM}-history`)!;
    fake.apply({
      ...cm,
      metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [MARK]: value } },
    });
  }

  // 999999999999999 was read as a mark: the edit above it, 1000000000000000, is not read back
  // as a revision (at most 15 digits), so every stamp was stamped again, one higher, forever.
  it.each(["999999999999999", "1000000000000", "-5", "seven", "1e3"])(
    "%s: an edit is stamped once, with a number read back as its revision",
    async (value) => {
      const fake = await cluster();
      const s = await k.start();
      await merges(fake, s, 1);
      annotateMark(fake, value);
      const text = outsideEdit(fake, "10.0.0.0/8, 172.16.0.0/12");
      const { revision, resourceVersion } = await stamped(fake, text, [s]);
      await new Promise((r) => setTimeout(r, 1500));
      expect(fake.configMap(NS, CM)?.metadata.resourceVersion).toBe(resourceVersion);
      expect(revision).toBeLessThanOrEqual(Number.MAX_SAFE_INTEGER);
      expect((await config(s)).revision).toBe(revision);
    },
  );
});

describe("the mark removed by hand", () => {
  // dash-a had recorded its merged numbers on the history ConfigMap; the mark removed (kubectl
  // annotate ...-), dash-a took it as still there (its copy) and never wrote it again: dash-b,
  // started after, saved with dash-a's newest merged number.
  it("a replica that numbers a merge writes its mark again: a save on another is numbered above it", async () => {
    const fake = await cluster();
    const a = await k.start({ POD_NAME: "dash-a" });
    await merges(fake, a, 3);
    const cm = fake.configMap(NS, `${CM}-history`)!;
    const { [MARK]: _, ...annotations } = cm.metadata.annotations ?? {};
    fake.apply({ ...cm, metadata: { ...cm.metadata, annotations } });
    const b = await k.start({ POD_NAME: "dash-b" });
    const top = Math.max(...(await merges(fake, a, 1)));
    const put = await save(b, "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n");
    expect(put.body.revision).toBeGreaterThan(top);
  });
});
