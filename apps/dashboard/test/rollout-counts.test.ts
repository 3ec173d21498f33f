import { sha256 } from "@masq/node-util";
import {
  compareNodeOrder,
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  encodeMessage,
  type FamilySnapshot,
  jumpRuleLine,
  linuxRulesDigest,
  type Rollout,
  type StagedRolloutView,
  snapshotOf,
} from "@masq/shared";
import { deleteReturnRule } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { handReporter } from "./helpers/hand-reporter.js";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { eventually, perTest, reporterToken, saveYaml, startServer } from "./helpers/server.js";

const t = perTest();

const CIDRS = ["10.0.0.0/8", "198.51.100.0/24"];
/** The rules the saved config asks for, as a node that applied it holds them. */
function linux(): FamilySnapshot[] {
  const d = desiredChain({ ...defaultConfig(), nonMasqueradeCIDRs: CIDRS }, DEFAULT_FLAGS, "ipv4");
  const chain = [`-N ${d.chain}`, ...d.rules.map((r) => r.line)];
  return [snapshotOf({ family: "ipv4", chain, postrouting: [jumpRuleLine(d.chain)] })];
}

const barOf = async (): Promise<Rollout | null> =>
  (await t.server!.api("/api/nodes")).body.summary.rollout;

describe("the fleet bar's count of applied nodes", () => {
  it("waits for a node's post-apply rules: applied, waiting for its rules, then done", async () => {
    t.server = await startServer();
    const r = await handReporter(t.server.url, reporterToken("node-r"), "node-r");
    t.defer(() => r.ws.terminate());
    await eventually(() => r.desired.length > 0);
    const put = await saveYaml(t.server, `nonMasqueradeCIDRs: [${CIDRS.join(", ")}]\n`);
    expect(put.status).toBe(200);
    const revision = put.body.revision as number;
    await eventually(() => r.desired.includes(revision));

    // The post-apply snapshot names its rules by a digest the dashboard does not hold (it asks
    // for them; this reporter does not answer yet), then the ok result.
    r.applyByUnknownDigest(revision);
    const waiting = await eventually(async () => {
      const r = await barOf();
      return r?.revision === revision && r.awaitingRules === 1 ? r : undefined;
    });
    expect(waiting).toMatchObject({ total: 1, done: 0, pending: 1, failed: 0, finishedAt: null });

    // The rules come whole, the saved revision's: judged in sync, the node is done.
    const whole = { ...r.envelope(revision), seq: 2, linux: linux() };
    const digest = linuxRulesDigest(linux(), (x) => sha256(x));
    r.ws.send(encodeMessage({ ...whole, linuxDigest: digest } as never));
    const done = await eventually(async () => {
      const r = await barOf();
      return r?.finishedAt ? r : undefined;
    });
    expect(done).toMatchObject({ total: 1, done: 1, pending: 0, failed: 0 });
    expect(done.awaitingRules).toBeUndefined();
    const node = (await t.server.api("/api/nodes/node-r")).body.node;
    expect(node.status).toBe("in-sync");
  });
});

describe("the fleet bar and the canary's card after the canary drifts", () => {
  let fleet: NetnsFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it("both count it failed, not applied (real reporters, real iptables)", async () => {
    fleet = await startNetnsFleet(["ca", "cb", "cc"].map((tag) => ({ tag })));
    const f = fleet;
    const inSync = async () =>
      Object.values(await f.statuses()).filter((s) => s === "in-sync").length === 3;
    await until(inSync, 20_000, 50, "first sync");
    const cfg = (await f.server.api("/api/config")).body;
    const strategy = {
      kind: "waves",
      canary: { count: 1 },
      waves: [100],
      pause: { kind: "manual" },
    };
    const put = await f.server.api("/api/config", {
      method: "PUT",
      body: {
        yaml: "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n",
        resourceVersion: cfg.resourceVersion,
        strategy,
      },
    });
    expect(put.status).toBe(200);
    const staged = async (): Promise<StagedRolloutView> =>
      (await f.server.api("/api/rollout")).body.rollout;
    await until(async () => (await staged()).waves[0]!.applied === 1, 15_000, 50, "canary applied");
    const bar = async (): Promise<Rollout> =>
      (await f.server.api("/api/nodes")).body.summary.rollout;
    expect(await bar()).toMatchObject({ total: 3, done: 1, failed: 0, heldBack: 2 });

    // The canary is the first node in hash order; a hand edit takes its new rule away.
    const canary = [...f.nodes].sort((a, b) => compareNodeOrder(a.name, b.name))[0]!;
    deleteReturnRule(canary.netns, "198.51.100.0/24");
    await until(
      async () => (await staged()).pause?.kind === "failure",
      15_000,
      50,
      "paused by drift",
    );
    const card = (await staged()).waves[0]!;
    expect(card).toMatchObject({ applied: 0, failed: 1 });
    expect(await bar()).toMatchObject({ total: 3, done: 0, failed: 1, pending: 2, heldBack: 2 });
  });
});
