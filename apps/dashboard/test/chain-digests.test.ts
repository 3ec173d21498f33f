// Per-chain digests end to end (issue 17, capability `chain-digests`): real reporters on real
// iptables whose POSTROUTING carries a per-node line (flannel's RETURN for the node's own /24)
// name each chain by its digest. A config push changes only the agent chain, which the
// dashboard renders itself: no node is unknown after it; a hand edit comes whole, unasked, and
// shows as drift with no "unknown" on the way; a restarted dashboard asks for whole snapshots.
// Reporters and dashboards of the last release (whole-part digests) and of the one before (no
// capability) keep working with this one both ways.

import { createLink } from "@masq/reporter/link";
import {
  APPLY_RESULT_SNAPSHOT,
  CAPABILITIES_HEADER,
  type Capability,
  CHAIN_DIGESTS,
  REPORTER_PATH,
  SNAPSHOT_DIGESTS,
  type Snapshot,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { deleteReturnRule, natEdit } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { digestCounts } from "./helpers/digest-counts.js";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";
import { eventually, perTest, reporterToken, saveYaml, startServer } from "./helpers/server.js";

/** flannel's per-node POSTROUTING line on node `i`: traffic into its own pod /24 is left alone. */
const flannelLine = (i: number) => [
  "!",
  "-s",
  "10.244.0.0/16",
  "-d",
  `10.244.${i}.0/24`,
  "-j",
  "RETURN",
];
const perNode = (i: number) => (netns: string) =>
  natEdit(netns, ["-A", "POSTROUTING", ...flannelLine(i)]);

interface NodeEvent {
  time: number;
  kind: string;
  message: string;
}

/** The node's status entries that went unknown for rules not held, since `since` (ms). */
async function unknownSince(f: NetnsFleet, name: string, since: number): Promise<string[]> {
  const events = (await f.server.api(`/api/nodes/${name}`)).body.events as NodeEvent[];
  return events
    .filter((e) => e.time >= since && e.message.includes("rules not known yet"))
    .map((e) => e.message);
}

/** The node's status changes since `since` (ms), oldest first. */
async function statusChangesSince(f: NetnsFleet, name: string, since: number): Promise<string[]> {
  const events = (await f.server.api(`/api/nodes/${name}`)).body.events as NodeEvent[];
  return events
    .filter((e) => e.time >= since && e.kind === "status")
    .sort((a, b) => a.time - b.time)
    .map((e) => e.message);
}

describe("real reporters with per-node chains", () => {
  let fleet: NetnsFleet | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });
  const inSync = async (f: NetnsFleet) =>
    Object.values(await f.statuses()).filter((s) => s === "in-sync").length === f.nodes.length;

  it("a push leaves no node unknown; a hand edit comes whole and drifts; a restart asks", async () => {
    fleet = await startNetnsFleet([
      { tag: "ca", before: perNode(1) },
      { tag: "cb", before: perNode(2) },
      { tag: "cc", before: perNode(3) },
    ]);
    const f = fleet;
    const [a, b] = f.nodes as [NetnsFleet["nodes"][number], NetnsFleet["nodes"][number]];
    await until(() => inSync(f), 20_000, 50, "first sync");
    // Each node was judged from its own POSTROUTING: its /24's RETURN decides there.
    for (const [i, n] of f.nodes.entries()) {
      const body = { ip: `10.244.${i + 1}.5`, source: "192.0.2.10" };
      const ev = await f.server.api(`/api/nodes/${n.name}/evaluate`, { body });
      expect(JSON.stringify(ev.body.actual)).toContain(`10.244.${i + 1}.0/24`);
    }
    const before = await digestCounts(f.server);
    const pushedAt = Date.now();
    const put = await saveYaml(f.server, "nonMasqueradeCIDRs: [10.0.0.0/8, 100.64.0.0/10]\n");
    expect(put.status).toBe(200);
    await until(
      async () => (await f.server.api("/api/nodes")).body.summary.rollout?.finishedAt,
      10_000,
      50,
      "rollout acknowledged",
    );
    await until(() => inSync(f), 10_000, 50, "in sync after the save");
    // Each node's own POSTROUTING resolved from its connection, the new agent chain from the
    // chain the dashboard renders itself (real iptables -S prints it byte for byte): no node
    // went unknown, none was asked for its rules.
    for (const n of f.nodes) expect(await unknownSince(f, n.name, pushedAt)).toEqual([]);
    const pushed = await digestCounts(f.server);
    expect(pushed.known).toBeGreaterThan(before.known);
    expect(pushed).toMatchObject({ unknown: before.unknown, whole: before.whole });
    expect(pushed.refused).toBe(0);

    deleteReturnRule(a.netns, "100.64.0.0/10");
    await until(async () => (await f.status(a.name)) === "drifted", 10_000, 50, "drift shown");
    expect(await f.differences(a.name)).toContain("missing-cidr 100.64.0.0/10");
    expect(await f.status(b.name)).toBe("in-sync");
    // The edited chain was nobody's digest: the reporter sent it whole, unasked, and it was
    // never taken for the rendered one.
    const edited = await digestCounts(f.server);
    expect(edited).toMatchObject({ unknown: pushed.unknown, refused: 0 });
    expect(edited.whole).toBeGreaterThan(pushed.whole);

    await f.stopDashboard();
    await f.startDashboard();
    await until(() => inSync(f), 20_000, 50, "in sync after the restart");
    const restarted = await digestCounts(f.server);
    expect(restarted.unknown).toBeGreaterThan(0);
    expect(restarted.whole).toBeGreaterThan(0);
    expect(restarted.refused).toBe(0);
  });

  it("a hand edit goes straight to its true state, never unknown while the rules are asked for", async () => {
    fleet = await startNetnsFleet([{ tag: "ha", before: perNode(1) }]);
    const f = fleet;
    const n = f.nodes[0]!;
    await until(() => inSync(f), 20_000, 50, "first sync");
    const before = await digestCounts(f.server);
    const editedAt = Date.now();
    deleteReturnRule(n.netns, "10.0.0.0/8");
    await until(async () => (await f.status(n.name)) === "drifted", 10_000, 50, "drift shown");
    // A second edit, of another chain, while drifted: seen once its RETURN decides a packet.
    natEdit(n.netns, ["-I", "POSTROUTING", "1", "-d", "198.51.100.0/24", "-j", "RETURN"]);
    const body = { ip: "198.51.100.7", source: "192.0.2.10" };
    await until(
      async () =>
        JSON.stringify(
          (await f.server.api(`/api/nodes/${n.name}/evaluate`, { body })).body.actual,
        ).includes("198.51.100.0/24"),
      10_000,
      50,
      "second edit judged",
    );
    // One status change for two edits: in sync → drifted, none through unknown on the way.
    expect(await statusChangesSince(f, n.name, editedAt)).toEqual([
      expect.stringMatching(/^in-sync → drifted/),
    ]);
    const after = await digestCounts(f.server);
    expect(after.unknown).toBe(before.unknown);
    expect(after.whole).toBeGreaterThanOrEqual(before.whole + 2);
    expect(after.refused).toBe(0);
  });

  it.each([
    {
      desc: "grants only snapshot-digests (the last release)",
      grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
    },
    { desc: "grants nothing (the release before)", grant: [] },
  ])("send to a dashboard that $desc what it reads", async ({ grant }) => {
    fleet = await startNetnsFleet([{ tag: "pa", before: perNode(1) }], {
      dashboard: (port) => startServer({ port, reporterCapabilities: grant as Capability[] }),
    });
    const f = fleet;
    await until(() => inSync(f), 20_000, 50, "first sync");
    const editedAt = Date.now();
    deleteReturnRule(f.nodes[0]!.netns, "10.0.0.0/8");
    await until(async () => (await f.status(f.nodes[0]!.name)) === "drifted", 10_000, 50, "drift");
    // Straight to drifted here too: the whole part (or all of it) came unasked.
    expect(await statusChangesSince(f, f.nodes[0]!.name, editedAt)).toEqual([
      expect.stringMatching(/^in-sync → drifted/),
    ]);
    const m = (await f.server.api("/metrics", { token: null })).body as string;
    expect(m).not.toMatch(/ipmasq_reporter_rejected_total\{reason="protocol"\}/);
    const counts = await digestCounts(f.server);
    if (grant.length > 0) expect(counts.whole).toBeGreaterThan(0);
    else expect(m).not.toMatch(/ipmasq_snapshot_digests_total\{/);
  });
});

const t = perTest();

const snapshot = (seq: number, i: number): Snapshot => ({
  type: "snapshot",
  v: 2,
  seq,
  takenAt: Date.now(),
  appliedRevision: null,
  linux: [
    snapshotOf({
      family: "ipv4",
      chain: chainS(["10.0.0.0/8"]),
      postrouting: [...postroutingS(), `-A POSTROUTING ${flannelLine(i).join(" ")}`],
    }),
  ],
});

describe("a reporter link of the last release and of this one", () => {
  it.each([
    {
      desc: "a reporter of the last release (snapshot-digests) to this dashboard",
      input: { offer: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT] as Capability[], grant: undefined },
      want: { granted: `${SNAPSHOT_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}` },
    },
    {
      desc: "this reporter to this dashboard",
      input: { offer: undefined, grant: undefined },
      want: { granted: `${CHAIN_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}` },
    },
    {
      desc: "this reporter to a dashboard granting snapshot-digests alone",
      input: { offer: undefined, grant: [SNAPSHOT_DIGESTS] as Capability[] },
      want: { granted: SNAPSHOT_DIGESTS },
    },
  ])("$desc: judged, asked once, then known", async ({ input, want }) => {
    t.server = await startServer(input.grant ? { reporterCapabilities: input.grant } : {});
    const nodes = ["node-la", "node-lb"].map((name, i) => {
      const granted: string[] = [];
      const l = createLink({
        url: t.server!.url.replace(/^http/, "ws") + REPORTER_PATH,
        token: reporterToken(name),
        hello: () => helloFor(name, { mode: "observe" }),
        onMessage: () => undefined,
        ...(input.offer ? { offerCapabilities: input.offer } : {}),
      });
      t.defer(() => l.close());
      return { name, l, i, granted };
    });
    const res = await fetchGranted(t.server.url, input.offer);
    expect(res).toBe(want.granted);
    const status = async (n: string) => (await t.server!.api(`/api/nodes/${n}`)).body.node?.status;
    for (const n of nodes) {
      await eventually(async () => n.l.connected || undefined);
      // Two snapshots each: the second names the same rules, known from the first's answer.
      n.l.send(snapshot(1, n.i + 1));
      await eventually(async () => (await status(n.name)) === "drifted" || undefined);
      n.l.send(snapshot(2, n.i + 1));
    }
    await eventually(async () => (await digestCounts(t.server!)).known >= 2 || undefined);
    const counts = await digestCounts(t.server);
    expect(counts).toMatchObject({ unknown: 2, whole: 2, refused: 0 });
  });
});

/** The capabilities this dashboard grants an upgrade offering `offer` (default: this release's). */
async function fetchGranted(url: string, offer: readonly string[] | undefined) {
  const ws = new WebSocket(url.replace(/^http/, "ws") + REPORTER_PATH, {
    headers: {
      authorization: `Bearer ${reporterToken("node-probe")}`,
      [CAPABILITIES_HEADER]: (
        offer ?? [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT]
      ).join(", "),
    },
  });
  const granted = await new Promise<unknown>((r) =>
    ws.once("upgrade", (res) => r(res.headers[CAPABILITIES_HEADER])),
  );
  ws.terminate();
  return granted;
}

describe("digest-history: a node toggled back to a recent state", () => {
  const previous: Capability[] = [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT];
  it.each([
    {
      desc: "this reporter to this dashboard: A → B → A → B, only B sent whole unasked",
      input: { offer: undefined, grant: undefined },
      want: { unknown: 1, whole: 2, known: 2 },
    },
    {
      desc: "this reporter to a dashboard of an earlier release (not granted): whole, as before",
      input: { offer: undefined, grant: previous },
      want: { unknown: 1, whole: 4, known: 0 },
    },
    {
      desc: "a reporter of an earlier release (does not offer it) to this dashboard: as before",
      input: { offer: previous, grant: undefined },
      want: { unknown: 1, whole: 4, known: 0 },
    },
  ])("$desc", async ({ input, want }) => {
    t.server = await startServer(input.grant ? { reporterCapabilities: input.grant } : {});
    const name = "node-ta";
    const l = createLink({
      url: t.server.url.replace(/^http/, "ws") + REPORTER_PATH,
      token: reporterToken(name),
      hello: () => helloFor(name, { mode: "observe" }),
      onMessage: () => undefined,
      ...(input.offer ? { offerCapabilities: input.offer } : {}),
    });
    t.defer(() => l.close());
    await eventually(async () => l.connected || undefined);
    const total = async () => {
      const c = await digestCounts(t.server!);
      return c.unknown + c.whole + c.known;
    };
    // The first by digest, unknown to a fresh dashboard: asked for, answered whole.
    const states = [1, 2, 1, 2];
    for (const [seq, i] of states.entries()) {
      l.send(snapshot(seq + 1, i));
      const frames = seq === 0 ? 2 : seq + 2;
      await eventually(async () => (await total()) >= frames || undefined);
    }
    expect(await digestCounts(t.server)).toEqual({ ...want, refused: 0 });
    const node = (await t.server.api(`/api/nodes/${name}`)).body.node;
    expect(JSON.stringify(node)).not.toContain("rules not known yet");
  });
});
