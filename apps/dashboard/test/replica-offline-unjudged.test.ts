// break9: "done" is applied AND its post-apply rules judged (rollout-done.ts). A canary held by
// another replica that applied but whose post-apply rules were not judged yet (they went by a
// digest its holder did not hold) and then disconnected was written `connected: false, health:
// offline` with its appliedRevision: the owner read that as done — the canary "applied", its
// wave settled, never suspected (it was never seen applied while connected) — while its holder
// counted it pending. A drift in those rules (the new revision cutting the node off) was never
// seen. Two replicas in process against the test API server, through the real client.
import { assignWaves, type WavesStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { handReporter } from "./helpers/hand-reporter.js";
import { kubeReporterToken, kubeTestCluster } from "./helpers/kube-server.js";
import { nodeMasquerade, replicaSync } from "./helpers/replicas.js";
import { desired as desiredOf, ownerOf, rollout, saveInWaves, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const t = kubeTestCluster();
const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

describe("a canary held elsewhere that disconnects before its post-apply rules are judged", () => {
  it("is not counted applied by the owner: its wave waits, as its holder's does", async () => {
    const fake = await t.cluster();
    // A node offline more than 1 s after it was seen applied is not suspected (60 s in the chart).
    const a = await t.start(
      { POD_NAME: "dash-a" },
      { replicas: replicaSync(fake, "dash-a"), rolloutOfflineWindowMs: 1_000 },
    );
    await eventually(() => ownerOf(fake) === "dash-a" || undefined, 10_000, "dash-a owns");
    const b = await t.start({ POD_NAME: "dash-b" }, { replicas: replicaSync(fake, "dash-b") });
    // The canary, then the rest after a pause of 1 s.
    const strategy: WavesStrategy = {
      ...waves({ count: 1 }),
      pause: { kind: "duration", seconds: 1 },
    };
    const planned = assignWaves([{ name: "node-1" }, { name: "node-2" }], strategy);
    const canary = planned[0]![0]!;
    const rest = await t.reporter(a, planned[1]![0]!);

    // The canary, on dash-b, speaks the protocol by hand: it answers what this test says.
    const hand = await handReporter(b.url, kubeReporterToken(fake, canary), canary);
    t.defer(() => hand.ws.terminate());
    await eventually(
      async () => (await a.api("/api/nodes")).body.summary.total === 2 || undefined,
      10_000,
      "both nodes on the owner",
    );
    await eventually(
      async () => (await a.api("/api/config")).body.stagedRefusal === null || undefined,
      10_000,
      "dash-b seen",
    );
    const revision = await saveInWaves(a, NEXT, strategy);
    await eventually(() => hand.desired.includes(revision), 20_000, "the canary sent the revision");

    // Its post-apply rules go by a digest dash-b does not hold, then the ok result.
    hand.applyByUnknownDigest(revision);
    type Status = NonNullable<ReturnType<typeof nodeMasquerade>>["status"];
    const written = (what: string, says: (st: Status) => boolean) =>
      eventually(() => says(nodeMasquerade(fake, canary)?.status) || undefined, 10_000, what);
    await written("dash-b wrote the canary applied", (st) => st?.appliedRevision === revision);
    // Its rules still not judged past the owner's offline window, it disconnects.
    await new Promise((r) => setTimeout(r, 2_000));
    const waiting = (await rollout(a))!;
    expect(waiting.waves[0]!.applied, waiting.message).toBe(0);
    hand.ws.terminate();
    await written("dash-b wrote the canary disconnected", (st) => st?.connected === false);
    await new Promise((r) => setTimeout(r, 4_000));
    const v = (await rollout(a))!;
    // The holder's bar and the owner's count it alike: not done.
    const bar = async (s: typeof a) => (await s.api("/api/nodes")).body.summary.rollout;
    const counts = `owner ${JSON.stringify(await bar(a))}, holder ${JSON.stringify(await bar(b))}`;
    expect(v.waves[0]!.applied, `${v.message}; ${counts}`).toBe(0);
    expect(desiredOf(rest), "wave 1 is not released").not.toContain(revision);
    expect((await bar(a)).done, counts).toBe((await bar(b)).done);
  }, 90_000);
});
