// Snapshot digests end to end (issue 17): real reporters on real iptables name their rules by
// digest where the dashboard grants it; the dashboard judges a node only from rules it holds
// (a restarted one asks for them; a hand edit changes one node's digest and shows as drift);
// reporters and dashboards of the previous release keep working with new ones both ways.
import { randomBytes } from "node:crypto";
import { sha256 } from "@masq/node-util";
import { createLink, type Link } from "@masq/reporter/link";
import {
  APPLY_RESULT_SNAPSHOT,
  CAPABILITIES_HEADER,
  type DashboardMessage,
  encodeMessage,
  type FamilySnapshot,
  linuxRulesDigest,
  REPORTER_PATH,
  SNAPSHOT_DIGESTS,
  type Snapshot,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { deleteReturnRule } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, saveYaml, startServer } from "./helpers/server.js";

type DigestCounts = Record<"known" | "unknown" | "whole" | "refused", number>;

/** `ipmasq_snapshot_digests_total` by result, as the dashboard's /metrics says. */
async function digestCounts(s: { api: NetnsFleet["server"]["api"] }): Promise<DigestCounts> {
  const text = (await s.api("/metrics", { token: null })).body as string;
  const counts: DigestCounts = { known: 0, unknown: 0, whole: 0, refused: 0 };
  for (const m of text.matchAll(/^ipmasq_snapshot_digests_total\{result="(\w+)"\} (\d+)/gm))
    counts[m[1] as keyof DigestCounts] = Number(m[2]);
  return counts;
}

describe("real reporters on real iptables", () => {
  let fleet: NetnsFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });
  const inSync = async (f: NetnsFleet) =>
    Object.values(await f.statuses()).filter((s) => s === "in-sync").length === f.nodes.length;

  it("name rules by digest; a restarted dashboard asks for them; a hand edit shows as drift", async () => {
    fleet = await startNetnsFleet([{ tag: "da" }, { tag: "db" }]);
    const f = fleet;
    const [a, b] = f.nodes as [NetnsFleet["nodes"][number], NetnsFleet["nodes"][number]];
    await until(() => inSync(f), 20_000, 50, "first sync");
    const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect(put.status).toBe(200);
    await until(
      async () => (await f.server.api("/api/nodes")).body.summary.rollout?.finishedAt,
      10_000,
      50,
      "rollout acknowledged",
    );
    await until(() => inSync(f), 10_000, 50, "in sync after the save");
    const first = await digestCounts(f.server);
    // Every snapshot named its rules by digest; rules went whole only when asked for.
    expect(first.whole).toBeGreaterThan(0);
    expect(first.whole).toBeLessThanOrEqual(first.unknown);
    expect(first.refused).toBe(0);

    deleteReturnRule(a.netns, "100.64.0.0/10");
    await until(async () => (await f.status(a.name)) === "drifted", 10_000, 50, "drift shown");
    expect(await f.differences(a.name)).toContain("missing-cidr 100.64.0.0/10");
    expect(await f.status(b.name)).toBe("in-sync");
    const edited = await digestCounts(f.server);
    // The edited node's new digest was unknown here: asked for, then judged from its rules.
    expect(edited.unknown).toBeGreaterThan(first.unknown);
    expect(edited.whole).toBeGreaterThan(first.whole);

    await f.stopDashboard();
    await f.startDashboard();
    // Connected again, each node is sent the config (healing a) and judged from rules it sent.
    await until(() => inSync(f), 20_000, 50, "in sync after the restart");
    const restarted = await digestCounts(f.server);
    expect(restarted.unknown).toBeGreaterThan(0);
    expect(restarted.whole).toBeGreaterThan(0);
    expect(restarted.refused).toBe(0);
  });

  it("send whole snapshots to a dashboard that grants nothing (the previous release)", async () => {
    fleet = await startNetnsFleet([{ tag: "oa" }], {
      dashboard: (port) => startServer({ port, reporterCapabilities: [] }),
    });
    const f = fleet;
    await until(() => inSync(f), 20_000, 50, "first sync");
    deleteReturnRule(f.nodes[0]!.netns, "10.0.0.0/8");
    await until(async () => (await f.status(f.nodes[0]!.name)) === "drifted", 10_000, 50, "drift");
    const m = (await f.server.api("/metrics", { token: null })).body as string;
    expect(m).not.toMatch(/ipmasq_snapshot_digests_total\{/);
    expect(m).not.toMatch(/ipmasq_reporter_rejected_total\{reason="protocol"\}/);
  });
});

const t = perTest();

const linux = (cidr = "10.0.0.0/8"): FamilySnapshot[] => [
  snapshotOf({ family: "ipv4", chain: chainS([cidr]), postrouting: postroutingS() }),
];
const snapshot = (seq: number, cidr?: string): Snapshot => ({
  type: "snapshot",
  v: 2,
  seq,
  takenAt: Date.now(),
  appliedRevision: null,
  linux: linux(cidr),
});

/** The real reporter link for `node`, in this process, with every frame it receives. */
function link(node: string): { l: Link; received: DashboardMessage[]; opened: Promise<void> } {
  const received: DashboardMessage[] = [];
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const l = createLink({
    url: t.server!.url.replace(/^http/, "ws") + REPORTER_PATH,
    token: reporterToken(node),
    hello: () => helloFor(node, { mode: "observe" }),
    onMessage: (m) => received.push(m),
    onOpen: () => open(),
  });
  t.defer(() => l.close());
  return { l, received, opened };
}

const node = async (name: string) => (await t.server!.api(`/api/nodes/${name}`)).body.node;

describe("the gateway and the reporter link", () => {
  it("asks the first node for its rules and judges the next node's equal digest from them", async () => {
    t.server = await startServer();
    const a = link("node-la");
    await a.opened;
    a.l.send(snapshot(1));
    // The link answers the request itself: the rules come whole, and the node is judged.
    await eventually(async () => (await node("node-la"))?.status === "drifted" || undefined);
    const b = link("node-lb");
    await b.opened;
    b.l.send(snapshot(1));
    await eventually(async () => (await node("node-lb"))?.status === "drifted" || undefined);
    expect(await digestCounts(t.server)).toMatchObject({ known: 1, unknown: 1, whole: 1 });
  });

  it("shows a node whose digest it does not hold as unknown, and asks once however often", async () => {
    t.server = await startServer();
    const ws = new WebSocket(t.server.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: {
        authorization: `Bearer ${reporterToken("node-u")}`,
        [CAPABILITIES_HEADER]: SNAPSHOT_DIGESTS,
      },
    });
    t.defer(() => ws.terminate());
    const got: string[] = [];
    ws.on("message", (d) => got.push(JSON.parse(String(d)).type));
    await new Promise((r) => ws.once("open", r));
    ws.send(encodeMessage(helloFor("node-u", { mode: "observe" })));
    // A whole snapshot first: the node's rules are known and judged.
    const whole = { ...snapshot(1), linuxDigest: linuxRulesDigest(linux(), (x) => sha256(x)) };
    ws.send(encodeMessage(whole));
    await eventually(async () => (await node("node-u"))?.status === "drifted" || undefined);
    for (let i = 2; i < 22; i++) {
      const { linux: _, ...envelope } = snapshot(i);
      ws.send(
        encodeMessage({ ...envelope, linuxDigest: `sha256:${randomBytes(32).toString("hex")}` }),
      );
    }
    const n = await eventually(async () => {
      const r = await node("node-u");
      return r?.status === "unknown" ? r : undefined;
    });
    expect(n.summary).toContain("rules not known yet");
    await eventually(async () => (await digestCounts(t.server!)).unknown === 20 || undefined);
    expect(got.filter((x) => x === "snapshot-request")).toEqual(["snapshot-request"]);
    expect((await t.server.api("/api/nodes/node-u")).body.view ?? null).toBeNull();
  });

  it("closes a connection whose rules do not match their digest, and keeps nothing of them", async () => {
    t.server = await startServer();
    const a = link("node-ok");
    await a.opened;
    const ws = new WebSocket(t.server.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: {
        authorization: `Bearer ${reporterToken("node-bad")}`,
        [CAPABILITIES_HEADER]: SNAPSHOT_DIGESTS,
      },
    });
    t.defer(() => ws.terminate());
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    await new Promise((r) => ws.once("open", r));
    ws.send(encodeMessage(helloFor("node-bad", { mode: "observe" })));
    // Another content under the digest of the rules node-ok will name.
    const claimed = linuxRulesDigest(linux(), (x) => sha256(x));
    ws.send(encodeMessage({ ...snapshot(1, "192.0.2.0/24"), linuxDigest: claimed }));
    expect(await closed).toBe(1008);
    a.l.send(snapshot(1));
    await eventually(async () => (await node("node-ok"))?.status === "drifted" || undefined);
    // node-ok's digest was not known from node-bad's frame: asked for, sent whole.
    expect(await digestCounts(t.server)).toMatchObject({
      refused: 1,
      known: 0,
      unknown: 1,
      whole: 1,
    });
  });

  it("refuses an apply-result carrying a snapshot where that was not granted", async () => {
    t.server = await startServer({ reporterCapabilities: [SNAPSHOT_DIGESTS] });
    const ws = new WebSocket(t.server.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: {
        authorization: `Bearer ${reporterToken("node-f")}`,
        [CAPABILITIES_HEADER]: `${SNAPSHOT_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}`,
      },
    });
    t.defer(() => ws.terminate());
    const granted = new Promise<unknown>((r) =>
      ws.once("upgrade", (res) => r(res.headers[CAPABILITIES_HEADER])),
    );
    const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
    await new Promise((r) => ws.once("open", r));
    expect(await granted).toBe(SNAPSHOT_DIGESTS);
    ws.send(encodeMessage(helloFor("node-f", { mode: "observe" })));
    const result = { type: "apply-result", v: 2, revision: null, ok: true, durationMs: 1 } as const;
    ws.send(encodeMessage({ ...result, trigger: "cli", changed: true, snapshot: snapshot(1) }));
    expect(await closed).toBe(1008);
    await eventually(async () => (await node("node-f"))?.status === "offline" || undefined);
  });

  it.each([
    { desc: "this protocol, this release's names", input: { protocol: 2 as const } },
    {
      desc: "this protocol, the previous release's names",
      input: { protocol: 2 as const, legacyNames: true },
    },
    { desc: "protocol v1", input: { protocol: 1 as const } },
  ])("serves a reporter offering no capability as before: $desc", async ({ input }) => {
    t.server = await startServer();
    const old = await SimReporter.connect({
      url: t.server.url,
      token: reporterToken("node-old"),
      node: "node-old",
      ...input,
    });
    t.sims.push(old);
    await eventually(
      async () => (await node("node-old"))?.status === "in-sync" || undefined,
      10_000,
    );
    old.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(async () => (await node("node-old"))?.status === "drifted" || undefined);
    expect(old.received.map((m) => m.type)).not.toContain("snapshot-request");
    expect(await digestCounts(t.server)).toMatchObject({ known: 0, unknown: 0, whole: 0 });
  });
});
