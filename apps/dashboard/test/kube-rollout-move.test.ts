// A rollout move confirmed to the user must have happened (issue 17): two dashboards both acting
// as the rollout's owner (leader election off), the second started claims the rollout (owner
// epoch 2; the first claims it again when its own write is refused). Before, a promote on the first answered 200 with the next wave released and sent it
// to its nodes, its write was then refused by the fence and it read step 0 again: the user was
// told "promoted" and nothing was. Now it is refused (409, naming the owner) and changes nothing.
import type { FakeKubeApi } from "@masq/testkit/kube-api";
import { beforeEach, describe, expect, it } from "vitest";
import { type KubeTestServer, kubeTestCluster } from "./helpers/kube-server.js";
import { desired, rollout, waves } from "./helpers/rollout.js";
import { eventually } from "./helpers/server.js";

const HISTORY = ["kube-system", "ip-masq-agent-history"] as const;
const NODES = ["node-a", "node-b", "node-c"];
const NEXT = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
/** Each dashboard acts as the rollout's owner (the chart's replicas elect one). */
const UNELECTED = { IPMASQ_LEADER_ELECTION: "false", IPMASQ_REPLICA_SYNC: "false" };
const k = kubeTestCluster();
let fake: FakeKubeApi;

beforeEach(async () => {
  fake = await k.cluster();
});

const storedStep = () => {
  const raw = fake.configMap(...HISTORY)?.data?.["rollout.json"];
  return raw ? (JSON.parse(raw).current?.core?.step as number | undefined) : undefined;
};

/** dash-a holds every node and rolls NEXT out to a canary of node-b; then dash-b starts. */
async function twoOwners() {
  const a = await k.start({ ...UNELECTED, POD_NAME: "dash-a" });
  const sims = new Map<string, Awaited<ReturnType<typeof k.reporter>>>();
  for (const n of NODES) sims.set(n, await k.reporter(a, n));
  await eventually(
    async () => (await a.api("/api/nodes")).body.summary.byStatus["in-sync"] === 3 || undefined,
    10_000,
    "every node in sync",
  );
  const before = (await a.api("/api/config")).body;
  const put = await a.api("/api/config", {
    method: "PUT",
    body: {
      yaml: NEXT,
      resourceVersion: before.resourceVersion,
      strategy: waves({ selector: { "kubernetes.io/hostname": "node-b" } }),
    },
  });
  expect(put.status).toBe(200);
  await eventually(async () => (await rollout(a))?.phase === "paused", 10_000, "canary applied");
  await eventually(() => storedStep() === 0 || undefined, 10_000, "the rollout stored");
  const b = await k.start({ ...UNELECTED, POD_NAME: "dash-b" });
  await eventually(async () => (await rollout(b))?.phase === "paused", 10_000, "dash-b read it");
  // Unelected, each claims the rollout again once its write is refused: whichever claimed last.
  const owner = fake.configMap(...HISTORY)?.metadata?.annotations?.["ipmasq.dev/rollout-owner"];
  const [holder, other] = owner === "dash-b" ? [b, a] : [a, b];
  return { holder, other, owner, sims, revision: put.body.revision as number };
}

async function promote(s: KubeTestServer) {
  return s.api("/api/rollout/promote", { method: "POST", body: {} });
}

describe("a rollout move on a dashboard whose claim another took", () => {
  it("is refused with the owner's name and changes nothing", async () => {
    const { other, owner, sims, revision } = await twoOwners();
    const r = await promote(other);
    expect({ status: r.status, error: r.body.error }).toEqual({
      status: 409,
      error: expect.stringContaining(`another replica owns this rollout: ${owner}`),
    });
    expect(r.body.rollout).toBeUndefined();
    expect(storedStep()).toBe(0);
    expect((await rollout(other))?.step).toBe(0);
    // The nodes of the wave not released never got the revision.
    for (const n of ["node-a", "node-c"]) expect(desired(sims.get(n)!), n).not.toContain(revision);
  });

  it("the owner's promote answers once stored", async () => {
    const { holder } = await twoOwners();
    const r = await promote(holder);
    expect(r.status).toBe(200);
    expect(r.body.rollout.step).toBe(1);
    // Answered after the write: the stored state says it already.
    expect(storedStep()).toBe(1);
  });
});

describe("two dashboards without leader election", () => {
  const epoch = () =>
    fake.configMap(...HISTORY)?.metadata?.annotations?.["ipmasq.dev/rollout-owner-epoch"];

  it("the one not recorded as owner does not take the rollout while the owner renews it, and says who owns it", async () => {
    const { holder, other, owner, sims } = await twoOwners();
    const claimed = epoch();
    // Both see a new staged save and act on it: before, each write of the one not owning it
    // was refused, it claimed the rollout again, and the owner's next write was refused.
    const next = await holder.api("/api/config");
    const put = await holder.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 203.0.113.0/24]\n",
        resourceVersion: next.body.resourceVersion,
        strategy: waves({ selector: { "kubernetes.io/hostname": "node-c" } }),
      },
    });
    expect(put.status).toBe(200);
    await eventually(
      async () => (await rollout(other))?.revision === put.body.revision || undefined,
      10_000,
      "the other dashboard saw the new rollout",
    );
    await eventually(
      () => desired(sims.get("node-c")!).includes(put.body.revision) || undefined,
      10_000,
      "the canary sent the revision",
    );
    await new Promise((r) => setTimeout(r, 4_000));
    expect(epoch(), "the rollout was not claimed again").toBe(claimed);
    const owners = fake.configMap(...HISTORY)?.metadata?.annotations?.["ipmasq.dev/rollout-owner"];
    expect(owners).toBe(owner);
    const v = await rollout(other);
    expect(v?.held).toContain(`owned by dashboard ${owner}`);
    expect(v?.message).toContain("enable leader election");
  });
});
