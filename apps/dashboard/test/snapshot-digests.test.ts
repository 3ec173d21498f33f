// Snapshot digests through the gateway (issue 17): the real reporter link and hand-made frames
// against the dashboard; it judges a node only from rules it holds, asks once for the rest,
// refuses rules that are not their digest's, and serves reporters offering nothing as before.
// Real reporters on real iptables, per-node chains and compatibility: chain-digests.test.ts.
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
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { digestCounts } from "./helpers/digest-counts.js";
import { SimReporter } from "./helpers/reporter-client.js";
import { eventually, perTest, reporterToken, startServer } from "./helpers/server.js";

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
