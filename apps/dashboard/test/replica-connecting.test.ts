// Reporters still connecting to a replica — their token being checked (a slow TokenReview), or
// refused `busy` and retrying within their backoff — are reconnects the others cannot see yet:
// the replica's Lease counts them in `ipmasq.dev/reconnects-pending`, so a staged rollout's
// owner does not call a node mid-reconnect gone (issue 17). Before, only the status writes
// queued counted, and a replica in a connect storm said none waited. Two dashboards in
// Kubernetes mode against the test API server, through the real client-node.
import { REPORTER_PATH } from "@masq/shared";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ReporterAuthResult } from "../src/server/auth/types.js";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { replicaSync } from "./helpers/replicas.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();

describe("reporters still connecting count on the replica Lease", () => {
  it("a token being checked and a connect refused busy are reconnects not yet written", async () => {
    const fake = await t.cluster();
    const owner = replicaSync(fake, "dash-a");
    await t.start({ POD_NAME: "dash-a" }, { replicas: owner });
    // dash-b's TokenReviews do not answer (a slow API server), one at a time.
    const checks: ((r: ReporterAuthResult) => void)[] = [];
    const survivor = replicaSync(fake, "dash-b");
    const b = await t.start(
      { POD_NAME: "dash-b" },
      {
        replicas: survivor,
        maxPendingReporterAuth: 1,
        reporters: { authenticate: () => new Promise((resolve) => checks.push(resolve)) },
      },
    );
    await eventually(() => owner.leases.liveOthers()?.includes("dash-b"), 5_000, "dash-b live");
    const quiet = performance.now();
    await eventually(() => owner.leases.unreportedSince(quiet).length === 0, 5_000, "none wait");

    const url = b.url.replace("http", "ws") + REPORTER_PATH;
    const headers = { authorization: "Bearer some-node-token" };
    const checking = new WebSocket(url, { headers });
    checking.on("error", () => undefined);
    t.defer(() => checking.terminate());
    await eventually(() => checks.length === 1, 5_000, "the token check began");
    const busy = new WebSocket(url, { headers });
    const refused = new Promise<number>((resolve) =>
      busy.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    busy.on("error", () => undefined);
    expect(await refused).toBe(503);
    expect(survivor.reconnectsPending()).toBe(2);

    // The owner reads it on dash-b's Lease: a node that went offline is not called gone yet.
    const since = performance.now();
    await eventually(
      () => owner.leases.unreportedSince(since).includes("dash-b: 2 reconnects not yet written"),
      5_000,
      "dash-b's Lease says 2 wait",
    );

    // The check fails, its socket closes: only the busy refusal is left, within its retry.
    checks[0]!({ ok: false, status: 401, error: "not a reporter token" });
    await eventually(() => survivor.reconnectsPending() === 1, 5_000, "the refusal alone");
  });
});
