// Staged rollouts with real reporters on real iptables (issue 16): a canary whose
// iptables-restore fails pauses the rollout with the reason while the other nodes keep the
// previous revision and stay in sync; retry after the fault is gone; a dashboard restart in
// the middle resumes the rollout (nodes not reached still get the previous revision); promote
// to the end; an abort returns the canary to the previous revision.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareNodeOrder, type StagedRolloutView } from "@masq/shared";
import { faultyRestore } from "@masq/testkit/faulty-restore";
import { deleteReturnRule } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";

let fleet: NetnsFleet | undefined;
let tmp: string | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
  if (tmp) await rm(tmp, { recursive: true, force: true });
  tmp = undefined;
});

type Node = NetnsFleet["nodes"][number];
const hasRule = (f: NetnsFleet, node: Node, cidr: string) =>
  f.rules(node).some((l) => l.includes(`-d ${cidr} `) && l.endsWith("-j RETURN"));
const rollout = async (f: NetnsFleet): Promise<StagedRolloutView | null> =>
  (await f.server.api("/api/rollout")).body.rollout;
const CANARY_STRATEGY = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
};

const rowOf = (r: { body: { nodes: { name: string }[] } }, name: string) =>
  r.body.nodes.find((n) => n.name === name) as { rollout?: Record<string, unknown> };

async function save(f: NetnsFleet, yaml: string) {
  const cfg = (await f.server.api("/api/config")).body;
  const put = await f.server.api("/api/config", {
    method: "PUT",
    body: { yaml, resourceVersion: cfg.resourceVersion, strategy: CANARY_STRATEGY },
  });
  expect(put.status).toBe(200);
  expect(put.body.rollsOut).toEqual(CANARY_STRATEGY);
  return put.body as { resourceVersion: string; revision: number };
}

describe("staged rollouts on real reporters", () => {
  it("pauses on a failing canary, retries, survives a restart, promotes; abort reverts", async () => {
    tmp = await mkdtemp(join(tmpdir(), "imd-rollout-"));
    const fault = faultyRestore(tmp);
    // The canary of a count-1 rollout is the first node in hash order: give it the fault.
    const tags = ["a", "b", "c"];
    const first = [...tags].sort((x, y) => compareNodeOrder(`node-${x}`, `node-${y}`))[0];
    fleet = await startNetnsFleet(
      tags.map((tag) => ({ tag, env: tag === first ? fault.env : undefined })),
    );
    const f = fleet;
    const canary = f.nodes.find((n) => n.name === `node-${first}`)!;
    const rest = f.nodes.filter((n) => n !== canary);
    const statuses = async () => await f.statuses();
    await until(
      async () => {
        const now = await statuses();
        if (Object.values(now).filter((s) => s === "in-sync").length === 3) return true;
        throw new Error(`statuses ${JSON.stringify(now)}`); // said if never all in sync
      },
      20_000,
      50,
      "first sync",
    );

    fault.fail(true);
    const v2 = await save(f, "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n");
    await until(
      async () => (await rollout(f))?.pause?.kind === "failure",
      15_000,
      50,
      "paused by the failing canary",
    );
    const paused = (await rollout(f))!;
    expect(paused.phase).toBe("paused");
    expect(paused.message).toMatch(
      new RegExp(`^paused: ${canary.name} failed to apply: .*fault injected by the test`),
    );
    expect(paused.waves[0]!.failedNodes.map((n) => n.name)).toEqual([canary.name]);
    expect(paused.waves[1]).toMatchObject({ released: false, total: 2, pending: 2 });
    // The node page says which revision a held-back node is judged against.
    expect((await f.server.api(`/api/nodes/${rest[0]!.name}`)).body.rollout).toEqual({
      revision: v2.revision,
      wave: 1,
      waveName: "wave 1",
      released: false,
      aborted: false,
      desiredRevision: paused.previousRevision,
      progress: "waiting",
    });
    // The fleet table's rows carry each node's place, computed by the server.
    const places = async () =>
      Object.fromEntries(
        (await f.server.api("/api/nodes")).body.nodes.map(
          (n: { name: string; rollout?: { waveName: string; progress: string } }) => [
            n.name,
            n.rollout && `${n.rollout.waveName}:${n.rollout.progress}`,
          ],
        ),
      );
    expect(await places()).toEqual({
      [canary.name]: "canary:failed",
      ...Object.fromEntries(rest.map((n) => [n.name, "wave 1:waiting"])),
    });
    expect(rowOf(await f.server.api("/api/nodes"), canary.name).rollout?.failure).toMatch(
      /fault injected by the test/,
    );
    const metrics = String((await f.server.api("/metrics")).body);
    expect(metrics).toContain("ipmasq_rollout_paused_by_failure 1");
    expect(metrics).toContain('ipmasq_rollout_phase{phase="paused"} 1');
    // The truth rule: nodes the rollout has not reached keep the previous revision, in sync.
    for (const n of rest) {
      expect(hasRule(f, n, "198.51.100.0/24")).toBe(false);
      expect(await f.status(n.name)).toBe("in-sync");
    }

    fault.fail(false);
    expect((await f.server.api("/api/rollout/retry", { method: "POST", body: {} })).status).toBe(
      200,
    );
    await until(
      async () => (await rollout(f))?.pause?.kind === "manual",
      15_000,
      50,
      "canary applied after the retry",
    );
    expect(hasRule(f, canary, "198.51.100.0/24")).toBe(true);
    expect((await places())[canary.name]).toBe("canary:applied");

    // Restart in the middle: the rollout resumes, and reconnecting reporters of the next
    // wave are sent the previous revision, not the new one.
    await f.stopDashboard();
    await f.startDashboard();
    await until(
      async () => Object.values(await statuses()).filter((s) => s === "in-sync").length === 3,
      20_000,
      50,
      "back after the restart",
    );
    const resumed = (await rollout(f))!;
    expect(resumed).toMatchObject({
      resourceVersion: v2.resourceVersion,
      phase: "paused",
      step: 0,
    });
    expect(resumed.actions.map((a) => a.action)).toEqual(["start", "pause", "retry"]);
    for (const n of rest) expect(hasRule(f, n, "198.51.100.0/24")).toBe(false);
    // The resumed rollout's places, as before the restart.
    expect(await places()).toEqual({
      [canary.name]: "canary:applied",
      ...Object.fromEntries(rest.map((n) => [n.name, "wave 1:waiting"])),
    });

    const promote = await f.server.api("/api/rollout/promote", { method: "POST", body: {} });
    expect(promote.status).toBe(200);
    await until(async () => (await rollout(f))?.phase === "healthy", 15_000, 50, "healthy");
    for (const n of f.nodes) expect(hasRule(f, n, "198.51.100.0/24")).toBe(true);
    // A finished rollout places no node.
    expect(Object.values(await places()).every((p) => p === undefined)).toBe(true);
    const history = (await f.server.api("/api/history")).body.revisions;
    expect(history[0].rollout.actions.map((a: { action: string }) => a.action)).toEqual([
      "start",
      "pause",
      "retry",
      "promote",
      "finish",
    ]);

    // A second change, aborted after the canary applied it: the canary returns.
    await save(f, "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24, 203.0.113.0/24]\n");
    await until(
      async () => (await rollout(f))?.pause?.kind === "manual",
      15_000,
      50,
      "second canary applied",
    );
    expect(hasRule(f, canary, "203.0.113.0/24")).toBe(true);
    // The canary drifts from the new revision while the rollout waits: it pauses, with why.
    deleteReturnRule(canary.netns, "203.0.113.0/24");
    await until(
      async () => (await rollout(f))?.pause?.kind === "failure",
      15_000,
      50,
      "paused by the canary's drift",
    );
    expect((await rollout(f))!.message).toMatch(
      new RegExp(`^paused: ${canary.name} drifted from revision \\d+: `),
    );
    const abort = await f.server.api("/api/rollout/abort", { method: "POST", body: {} });
    expect(abort.status).toBe(200);
    expect(abort.body.rollout).toMatchObject({ phase: "degraded", aborted: true });
    await until(() => !hasRule(f, canary, "203.0.113.0/24"), 15_000, 50, "canary reverted");
    await until(
      async () => (await f.status(canary.name)) === "in-sync",
      15_000,
      50,
      "reverted canary in sync with the previous revision",
    );
    for (const n of rest) expect(await f.status(n.name)).toBe("in-sync");
    expect((await places())[canary.name]).toBe("canary:applied");
    expect(rowOf(await f.server.api("/api/nodes"), canary.name).rollout).toMatchObject({
      aborted: true,
      desiredRevision: abort.body.rollout.previousRevision,
    });
    // The config and the save review say what nodes run: the stable revision, not the aborted.
    const cfg = (await f.server.api("/api/config")).body;
    expect(cfg.desiredRevision).toBe(abort.body.rollout.previousRevision);
    expect(cfg.revision).toBe(abort.body.rollout.revision);
    const review = await f.server.api("/api/config/validate", {
      method: "POST",
      body: { yaml: cfg.yaml },
    });
    expect(review.body.diff.added).toEqual(["203.0.113.0/24"]);
    // History keeps both rollouts' records: the aborted one and the earlier one.
    const records = (await f.server.api("/api/history")).body.revisions.map(
      (r: { rollout?: { aborted: boolean; actions: { action: string; user: string }[] } }) =>
        r.rollout && { aborted: r.rollout.aborted, last: r.rollout.actions.at(-1) },
    );
    expect(records.slice(0, 2)).toEqual([
      { aborted: true, last: expect.objectContaining({ action: "abort", user: "admin" }) },
      { aborted: false, last: expect.objectContaining({ action: "finish" }) },
    ]);
    const events = (await f.server.api(`/api/nodes/${canary.name}`)).body.events as {
      kind: string;
      message: string;
    }[];
    expect(
      events.some((e) => e.kind === "rollout-aborted" && /aborted by admin/.test(e.message)),
    ).toBe(true);

    // Resyncs are attributed too: one node, and a selection.
    expect(
      (await f.server.api(`/api/nodes/${rest[0]!.name}/resync`, { method: "POST" })).status,
    ).toBe(202);
    const bulk = await f.server.api("/api/resync", {
      method: "POST",
      body: { nodes: [rest[1]!.name] },
    });
    expect(bulk.status).toBe(202);
    const messages = async (name: string) =>
      ((await f.server.api(`/api/nodes/${name}`)).body.events as { message: string }[]).map(
        (e) => e.message,
      );
    expect(
      (await messages(rest[0]!.name)).some((m) => /^resync .* sent \(by admin\)$/.test(m)),
    ).toBe(true);
    expect(
      (await messages(rest[1]!.name)).some((m) =>
        /sent \(by admin, resync of 1 selected node\(s\)\)$/.test(m),
      ),
    ).toBe(true);
  }, 120_000);
});
