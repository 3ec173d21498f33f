// A new user's find in the demo: a staged rollout's canary applied, the dashboard was stopped,
// a RETURN rule removed from the canary by hand, the dashboard started again. At reconnect the
// canary was sent the revision it ran and its reporter changed the rules back: its timeline
// said only "applying revision 2 sent by the dashboard changed the rules", and the next wave
// was released when its pause ended. The drift is told now, and pauses the rollout as a drift
// seen live does, saying what differed (the canary's first read after reconnect showed it).
import type { DashboardMessage, StagedRolloutView } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import { rollout } from "./helpers/rollout.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

const t = perTest();
const NAMES = ["node-a", "node-b", "node-c", "node-d"];
const V2 = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
/** Seconds between the canary and wave 1: long enough for the restart, short for a test. */
const PAUSE_S = 6;

const sentRevisions = (s: { received: DashboardMessage[] }) =>
  s.received.flatMap((m) => (m.type === "desired" ? [m.revision] : []));

describe("a canary whose rules changed while the dashboard was stopped", () => {
  it("is told drifted at reconnect, and the rollout pauses instead of releasing the next wave", async () => {
    t.server = await startServer();
    const first = t.server;
    const sims: SimReporter[] = [];
    for (const name of NAMES) sims.push(await t.connect(name));
    await eventually(
      async () =>
        (await first.api("/api/nodes")).body.summary.byStatus["in-sync"] === 4 || undefined,
      5000,
      "four nodes in sync",
    );
    const before = (await first.api("/api/config")).body;
    const put = await first.api("/api/config", {
      method: "PUT",
      body: {
        yaml: V2,
        resourceVersion: before.resourceVersion,
        strategy: {
          kind: "waves",
          canary: { count: 1 },
          waves: [100],
          pause: { kind: "duration", seconds: PAUSE_S },
        },
      },
    });
    expect(put.status).toBe(200);
    const revision: number = put.body.revision;
    const applied = await eventually(
      async () => {
        const r: StagedRolloutView | null = await rollout(first);
        return r?.waves[0]?.appliedNodes.length === 1 ? r : undefined;
      },
      5000,
      "the canary applied",
    );
    const canary = applied.waves[0]!.appliedNodes[0]!;

    // The dashboard stopped; on the canary a RETURN rule of revision 2 removed by hand.
    const dataDir = first.dataDir;
    for (const s of t.sims) s.ws.terminate();
    await first.stop();
    t.server = await startServer({ dataDir });
    const server = t.server;
    const back: SimReporter[] = [];
    for (const old of sims) {
      const node = old.opts.node;
      const sim = await SimReporter.raw({
        url: server.url,
        token: reporterToken(node),
        node,
        initialConfig: old.lastDesired,
      });
      t.sims.push(sim);
      back.push(sim);
      sim.appliedRevision = old.appliedRevision;
      if (node === canary)
        sim.families = sim.families.map((f) => ({
          ...f,
          chain: (f.chain ?? []).filter((l) => !l.includes("198.51.100.0/24")),
        }));
      // Hello, then its last read (the drift) as a reporter sends it, then the revision sent.
      sim.send(sim.hello());
      await sim.waitFor((m) => m.type === "welcome");
    }

    // The canary's timeline tells the drift its re-apply changed back, naming what differed.
    const drift = await eventually(
      async () => {
        const events = (await server.api(`/api/nodes/${canary}`)).body.events as {
          kind: string;
          message: string;
        }[];
        return events.find((e) => e.kind === "drift");
      },
      5000,
      "the canary's drift entry",
    );
    expect(drift.message).toBe(
      `its rules had drifted from revision ${revision} while the dashboard did not hear from it; re-applying revision ${revision} at reconnect changed them back; what differed: missing 198.51.100.0/24`,
    );

    // The rollout paused on it, saying why, as for a drift seen live.
    const paused = await eventually(
      async () => {
        const r: StagedRolloutView | null = await rollout(server);
        return r?.pause?.kind === "failure" ? r : undefined;
      },
      5000,
      "the rollout paused",
    );
    expect(paused.message).toBe(`paused: ${canary}: ${drift.message}`);
    expect(paused.waves[0]!.failedNodes.map((n) => n.name)).toEqual([canary]);

    // The read that showed the drift predates the apply: never taken as its outcome.
    const node = (await server.api(`/api/nodes/${canary}`)).body;
    expect(node.node.status).toBe("in-sync");
    const statuses = (node.events as { kind: string; message: string }[]).filter(
      (e) => e.kind === "status",
    );
    expect(statuses.map((e) => e.message)).not.toContainEqual(expect.stringMatching(/→ drifted/));

    // Past the wave's pause: no node of wave 1 was sent revision 2.
    await new Promise((r) => setTimeout(r, (PAUSE_S + 1) * 1000));
    expect((await rollout(server))?.phase).toBe("paused");
    for (const sim of back.filter((s) => s.opts.node !== canary))
      expect(sentRevisions(sim)).not.toContain(revision);
  }, 30_000);
});
