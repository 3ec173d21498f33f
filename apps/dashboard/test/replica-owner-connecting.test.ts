// break9: the staged rollout's owner counts the reporters still connecting to the other replicas
// (their Leases' reconnects-pending), but not those connecting to itself. A canary that went
// offline on dash-b and reconnects through the Service to the owner, whose TokenReview is slow
// (or which refuses it busy), was called gone: "went offline … and no replica held it once
// every replica had written its reconnects", while the owner itself held its connect. Two
// replicas in process against the test API server, through the real client.
import { assignWaves, REPORTER_PATH, type WavesStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ReporterAuthResult } from "../src/server/auth/types.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaSync } from "./helpers/replicas.js";
import { canaryApplied, ownerOf, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

describe("a canary reconnecting to the owner itself", () => {
  it("is not called gone while its connect to the owner is in progress", async () => {
    const fake = await t.cluster();
    // The owner's TokenReviews do not answer (a slow API server).
    const checks: ((r: ReporterAuthResult) => void)[] = [];
    const a = await t.start(
      { POD_NAME: "dash-a" },
      {
        replicas: replicaSync(fake, "dash-a"),
        reporters: { authenticate: () => new Promise((resolve) => checks.push(resolve)) },
      },
    );
    await eventually(() => ownerOf(fake) === "dash-a" || undefined, 10_000, "dash-a owns");
    const b = await t.start({ POD_NAME: "dash-b" }, { replicas: replicaSync(fake, "dash-b") });
    const strategy: WavesStrategy = waves({ count: 1 });
    const planned = assignWaves([{ name: "node-1" }, { name: "node-2" }], strategy);
    const canary = planned[0]![0]!;
    const other = planned[1]![0]!;
    const sim = await t.reporter(b, canary);
    await t.reporter(b, other);
    await canaryApplied(a, 2, NEXT, strategy);

    // The canary's link drops; it reconnects to the owner, whose token check does not answer.
    sim.ws.terminate();
    const ws = new WebSocket(a.url.replace("http", "ws") + REPORTER_PATH, {
      headers: { authorization: `Bearer sa-token-${canary}` },
    });
    ws.on("error", () => undefined);
    t.defer(() => {
      for (const c of checks) c({ ok: false, status: 401, error: "not checked" });
      ws.terminate();
    });
    await eventually(() => checks.length === 1, 5_000, "the token check began on the owner");
    await eventually(
      async () =>
        (await rollout(a))?.message.includes(`known whether ${canary} reconnected`) || undefined,
      10_000,
      "the canary suspected",
    );
    // Past the reconnect window (15 s) and dash-b's two renewals (200 ms each) since.
    await new Promise((r) => setTimeout(r, 22_000));
    const v = (await rollout(a))!;
    expect(v.pause?.kind, v.pause?.kind === "failure" ? v.pause.reason : v.message).not.toBe(
      "failure",
    );
    expect(v.message).toMatch(`No wave goes on until it is known whether ${canary} reconnected`);
  }, 90_000);
});
