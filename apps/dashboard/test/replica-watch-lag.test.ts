// Issue 17: the staged rollout's owner whose NodeMasquerade watch lags does not call a node gone
// that reconnected to another replica. The Leases say every reconnect is written, but the
// owner's watch has not delivered the new holder's write; before the verdict the owner reads
// the node's NodeMasquerade fresh from the API server (a GET), which names the new holder.
// Three dashboard processes (the built bin, as the Deployment runs it) against the test API
// server through the real client-node; the owner's watch of NodeMasquerades is held by the
// test API server (holdWatches) from the moment the canary went offline.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareNodeOrder } from "@masq/shared";
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { freePort } from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { kubeReporter } from "./helpers/kube-server.js";
import { type Replica, ready, replicaProcess } from "./helpers/replica-process.js";
import type { SimReporter } from "./helpers/reporter-client.js";
import { ownerOf, saveInWaves, waves } from "./helpers/rollout.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startDashboard(fake: FakeKubeApi, pod: string, dir: string, token?: string) {
  const o = { pod, port: await freePort(), dir, token };
  const r = replicaProcess(fake, o, (stop) => cleanups.push(stop));
  await ready(r);
  return r;
}

const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
const APPLIED = "the canary applied; paused until promoted";

/** The owner's rollout message, and whether it paused on a failure. */
async function rolloutOf(r: Replica): Promise<{ message: string; failed: boolean }> {
  const v = (await r.api("/api/rollout")).body.rollout;
  return { message: v?.message ?? "", failed: v?.pause?.kind === "failure" };
}

/** How `r` shows `node` in its fleet view. */
async function rowOf(
  r: Replica,
  node: string,
): Promise<{ status?: string; heldBy?: { replica: string } } | undefined> {
  const nodes = (await r.api("/api/nodes")).body.nodes ?? [];
  return nodes.find((n: { name: string }) => n.name === node);
}

describe("the owner's NodeMasquerade watch lags while the canary reconnects to another replica", () => {
  it("does not pause on it: the fresh read names the new holder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "imd-watch-lag-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const fake = await new FakeKubeApi().start();
    cleanups.push(() => fake.stop());
    fake.addDashboardToken("dashboard-sa-token-owner");
    const a = await startDashboard(fake, "dash-a", dir, "dashboard-sa-token-owner");
    await until(() => ownerOf(fake) === "dash-a", 20_000, 100, "dash-a owns rollouts");
    const b = await startDashboard(fake, "dash-b", dir);
    const c = await startDashboard(fake, "dash-c", dir);
    const [canary, other] = ["node-1", "node-2"].sort(compareNodeOrder) as [string, string];
    const sims: SimReporter[] = [];
    cleanups.push(() => {
      for (const s of sims) s.ws.terminate();
    });
    const first = await kubeReporter(fake, b, canary);
    sims.push(first, await kubeReporter(fake, c, other));
    await until(async () => (await rowOf(a, canary))?.status === "in-sync", 20_000, 100, "seen");
    await until(async () => (await rowOf(a, other))?.status === "in-sync", 20_000, 100, "seen");

    await saveInWaves(a, NEXT, waves({ count: 1 }));
    await until(async () => (await rolloutOf(a)).message === APPLIED, 30_000, 200, "canary");

    // The canary's reporter leaves dash-b: dash-b writes it offline, and the owner suspects it.
    await first.close();
    await until(
      async () => (await rolloutOf(a)).message.includes(`whether ${canary} reconnected`),
      20_000,
      100,
      "the owner suspects the canary",
    );
    // From now on the owner's watch delivers no NodeMasquerade change; it reconnects to dash-c,
    // whose write reaches the API server (and dash-c's Lease says none wait) at once.
    const release = fake.holdWatches("dashboard-sa-token-owner", "nodemasquerades");
    cleanups.push(release);
    sims.push(await kubeReporter(fake, c, canary));
    await until(
      () => {
        const st = fake.customObject("nodemasquerades", "", canary)?.status;
        return st?.replica === "dash-c" && st.connected === true;
      },
      10_000,
      100,
      "dash-c wrote the canary",
    );

    // The reconnect window (15 s), two renewals of every Lease (5 s each), the fresh read: the
    // owner drops the suspect while its watch still says offline, and never pauses.
    const seen: string[] = [];
    await until(
      async () => {
        const r = await rolloutOf(a);
        seen.push(r.message);
        return r.message === APPLIED || r.failed;
      },
      60_000,
      500,
      "the owner judged the canary",
    );
    expect(seen.at(-1)).toBe(APPLIED);
    expect(seen.filter((m) => m.startsWith("paused: "))).toEqual([]);
    expect((await rowOf(a, canary))?.status).toBe("offline"); // its watch still held
    const actions = (await a.api("/api/rollout")).body.rollout.actions ?? [];
    expect(actions.map((x: { action: string }) => x.action)).not.toContain("pause");

    // Once its watch delivers again, the owner's view names the canary's holder, dash-c.
    release();
    await until(
      async () => (await rowOf(a, canary))?.heldBy?.replica === "dash-c",
      20_000,
      100,
      "the owner's view caught up",
    );
  }, 150_000);
});
