// What the fleet bar counts as applied (issue 17), with a reporter speaking the real protocol
// to a real dashboard: a node that applied a revision but whose post-apply rules went by a
// digest the dashboard does not hold is "applied, waiting for its rules" — pending, never
// "rolled out" — until the rules come whole and are judged.
import { randomBytes } from "node:crypto";
import { sha256 } from "@masq/node-util";
import {
  CAPABILITIES_HEADER,
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  encodeMessage,
  type FamilySnapshot,
  jumpRuleLine,
  linuxRulesDigest,
  REPORTER_PATH,
  type Rollout,
  SNAPSHOT_DIGESTS,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
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
    const ws = new WebSocket(t.server.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: {
        authorization: `Bearer ${reporterToken("node-r")}`,
        [CAPABILITIES_HEADER]: SNAPSHOT_DIGESTS,
      },
    });
    t.defer(() => ws.terminate());
    const desired: number[] = [];
    ws.on("message", (d) => {
      const m = JSON.parse(String(d));
      if (m.type === "desired") desired.push(m.revision);
    });
    await new Promise((r) => ws.once("open", r));
    ws.send(encodeMessage(helloFor("node-r", { mode: "enforce" })));
    await eventually(() => desired.length > 0);
    const put = await saveYaml(t.server, `nonMasqueradeCIDRs: [${CIDRS.join(", ")}]\n`);
    expect(put.status).toBe(200);
    const revision = put.body.revision as number;
    await eventually(() => desired.includes(revision));

    // The post-apply snapshot names its rules by a digest the dashboard does not hold (it asks
    // for them; this reporter does not answer yet), then the ok result.
    const envelope = { type: "snapshot", v: 2, takenAt: Date.now(), appliedRevision: revision };
    const unknown = `sha256:${randomBytes(32).toString("hex")}`;
    ws.send(encodeMessage({ ...envelope, seq: 1, linuxDigest: unknown } as never));
    const result = { type: "apply-result", v: 2, revision, ok: true, durationMs: 2 } as const;
    ws.send(encodeMessage({ ...result, trigger: "desired", changed: true }));
    const waiting = await eventually(async () => {
      const r = await barOf();
      return r?.revision === revision && r.awaitingRules === 1 ? r : undefined;
    });
    expect(waiting).toMatchObject({ total: 1, done: 0, pending: 1, failed: 0, finishedAt: null });

    // The rules come whole, the saved revision's: judged in sync, the node is done.
    const whole = { ...envelope, seq: 2, linux: linux() };
    const digest = linuxRulesDigest(linux(), (x) => sha256(x));
    ws.send(encodeMessage({ ...whole, linuxDigest: digest } as never));
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
