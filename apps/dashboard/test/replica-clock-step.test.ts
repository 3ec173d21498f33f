// A step of the wall clock (NTP correcting it, a VM resumed) must not change what a replica
// believes about the others: a live replica stays live, a dead one stays dead, and this replica
// still vouches for its own writes. Durations are on the monotonic clock (replica-leases.ts);
// the wall clock here is stepped while the monotonic one runs on. Two ReplicaLeases against the
// test API server through the real @kubernetes/client-node.
import { FakeKubeApi } from "@masq/testkit/kube-api";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import type { ReplicaLeases } from "../src/server/replicas/replica-leases.js";
import { leasePair } from "./helpers/replicas.js";

let fake: FakeKubeApi | undefined;
const leases: ReplicaLeases[] = [];
afterEach(async () => {
  await Promise.all(leases.splice(0).map((l) => l.halt()));
  await fake?.stop();
  fake = undefined;
});

const MINUTE = 60_000;
const steps = [
  { desc: "forward 1 min", input: MINUTE },
  { desc: "backward 1 min", input: -MINUTE },
  { desc: "none", input: 0 },
];

/** dash-a, whose wall clock is stepped by `step.ms`, and dash-b, renewing on the real clocks. */
async function pair(step: { ms: number }) {
  fake = await new FakeKubeApi().start();
  const { owner: a, other: b } = await leasePair(fake, { clock: () => Date.now() + step.ms });
  leases.push(a, b);
  return { a, b };
}

describe("a wall-clock step changes nothing a replica believes", () => {
  for (const { desc, input } of steps) {
    it(`${desc}: a live replica stays live, and this one's own renewals still vouch`, async () => {
      const step = { ms: 0 };
      const { a } = await pair(step);
      step.ms = input;
      // Within one renewal of the step, and a Lease duration later (renewals seen since).
      const want = { live: true, others: ["dash-b"], vouched: true };
      const got = () => ({
        live: a.liveness("dash-b").live,
        others: a.liveOthers(),
        vouched: a.renewedRecently(),
      });
      expect(got()).toEqual(want);
      await new Promise((r) => setTimeout(r, 1_500));
      expect(got()).toEqual(want);
    });

    it(`${desc}: a dead replica stays dead`, async () => {
      const step = { ms: 0 };
      const { a, b } = await pair(step);
      await b.halt();
      await until(() => !a.liveness("dash-b").live, 5_000);
      const before = a.liveness("dash-b");
      step.ms = input;
      const after = a.liveness("dash-b");
      expect(after).toMatchObject({ live: false, reason: before.reason });
      expect(after.unrenewedForMs).toBeGreaterThanOrEqual(1_000);
      // What is shown stays the wall time it was seen at (not moved by the step).
      expect(after.lastRenewSeenAt).toBe(before.lastRenewSeenAt);
      expect(a.liveOthers()).toEqual([]);
    });
  }
});
