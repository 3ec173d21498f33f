// The reporter gateway refuses bad tokens before a WebSocket exists, closes connections that
// send anything invalid (1008 with an `error` frame, 1009 above 256 KiB), and never lets such
// a connection register or change a node.
import {
  encodeMessage,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  REPORTER_PATH,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { StaticReporterAuth } from "../src/server/auth/static-auth.js";
import { SimReporter } from "./helpers/reporter-client.js";
import {
  eventually,
  perTest,
  reporterInSync,
  reporterToken,
  startServer,
  TOKENS,
} from "./helpers/server.js";

const t = perTest();

/** A reporter for `node` with its own token, connected and welcomed. */
async function connected(
  node = "node-a",
  extra: Partial<Parameters<typeof SimReporter.connect>[0]> = {},
): Promise<SimReporter> {
  const s = await SimReporter.connect({
    url: t.server!.url,
    token: reporterToken(node),
    node,
    ...extra,
  });
  t.sims.push(s);
  return s;
}

async function raw(node = "node-x"): Promise<SimReporter> {
  const s = await SimReporter.raw({ url: t.server!.url, token: reporterToken(node), node });
  t.sims.push(s);
  return s;
}

/** The HTTP status and body of a reporter upgrade the dashboard refuses (rejects if accepted). */
function refusal(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(t.server!.url.replace("http", "ws") + REPORTER_PATH, { headers });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("open", () => {
      ws.terminate();
      reject(new Error("upgrade accepted"));
    });
    ws.on("error", () => undefined);
  });
}

async function upgradeStatus(headers: Record<string, string>): Promise<number> {
  return (await refusal(headers)).status;
}

async function nodeCount(): Promise<number> {
  return (await t.server!.api("/api/nodes")).body.nodes.length;
}

describe("reporter gateway", () => {
  it("refuses a missing or wrong token on the upgrade request", async () => {
    t.server = await startServer();
    expect(await upgradeStatus({})).toBe(401);
    expect(await upgradeStatus({ authorization: `Bearer ${TOKENS.admin}` })).toBe(401);
    expect(await upgradeStatus({ authorization: "Bearer nope" })).toBe(401);
    expect(await upgradeStatus({ authorization: `Bearer ${TOKENS.reporter}` })).toBe(401);
    expect(await nodeCount()).toBe(0);
    const m = (await t.server.api("/metrics", { token: null })).body as string;
    expect(m).toMatch(/ipmasq_reporter_rejected_total\{reason="auth"\} 4/);
    // The file store has no watch or history ConfigMap: no series says 0 about them.
    expect(m).not.toMatch(/^ipmasq_config_(history|watch|problems|source)/m);
  });

  it.each([
    [
      "a first frame that is not hello",
      () => encodeMessage({ type: "heartbeat", v: PROTOCOL_VERSION, ts: 1 }),
      /first message must be hello/,
    ],
    ["malformed JSON", () => "{nope", /not JSON/],
    ["an unknown message type", () => JSON.stringify({ type: "gossip", v: 1 }), /type/],
    [
      "a hello with an unknown field",
      () => JSON.stringify({ ...helloFor("node-x"), extra: 1 }),
      /Unrecognized key|extra/,
    ],
    ["a hello with a bad node name", () => JSON.stringify({ ...helloFor("Node_X") }), /node/],
    [
      "a hello of a protocol version it does not speak",
      () => JSON.stringify({ ...helloFor("node-x"), v: 3 }),
      /v: protocol version 3 is not supported/,
    ],
  ])(
    "closes with 1008 and an error frame on %s, registering nothing",
    async (_what, frame, reason) => {
      t.server = await startServer();
      const s = await raw();
      s.sendRaw(frame());
      const closed = await s.closed;
      expect(closed.code).toBe(1008);
      const err = s.received.find((m) => m.type === "error");
      expect(err && err.type === "error" && err.reason).toMatch(reason);
      expect(await nodeCount()).toBe(0);
    },
  );

  it("closes a registered node that sends an invalid snapshot, keeping its last good state", async () => {
    t.server = await startServer();
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    const before = (await t.server.api("/api/nodes/node-a")).body;
    s.sendRaw(
      JSON.stringify({
        type: "snapshot",
        v: PROTOCOL_VERSION,
        seq: 99,
        takenAt: Date.now(),
        linux: [{ family: "ipv4", backend: "nf_tables", chains: "-A X" }],
        appliedRevision: null,
      }),
    );
    expect((await s.closed).code).toBe(1008);
    const after = await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-a")).body;
      return b.node.status === "offline" ? b : undefined;
    }, 10_000);
    expect(after.view).toEqual(before.view);
    expect(after.snapshotAt).toBe(before.snapshotAt);
  });

  it("judges each node by its own rules while nodes sending equal rules share one check", async () => {
    t.server = await startServer();
    const [a, b] = [
      await reporterInSync(t.server, "node-a"),
      await reporterInSync(t.server, "node-b"),
    ];
    t.sims.push(a!, b!);
    const status = async (n: string) => (await t.server!.api(`/api/nodes/${n}`)).body.node.status;
    // node-b's rules now differ from node-a's (the rules both sent before are known).
    const original = b!.families;
    b!.handEdit((chain) => chain.filter((l) => !l.includes("10.0.0.0/8")));
    await eventually(async () => ((await status("node-b")) === "drifted" ? true : undefined));
    expect(await status("node-a")).toBe("in-sync");
    a!.snapshot(); // the known rules again, from node-a: still judged as its own
    b!.families = original; // put back by hand: the known rules again
    b!.snapshot();
    await eventually(async () => ((await status("node-b")) === "in-sync" ? true : undefined));
    expect(await status("node-a")).toBe("in-sync");
    // Known rules do not let the rest of a frame through unchecked.
    const linux = a!.families.map((f) => snapshotOf({ ...f, masqChain: a!.flags.masqChain }));
    a!.sendRaw(
      JSON.stringify({ type: "snapshot", v: 2, seq: -1, takenAt: 1, linux, appliedRevision: null }),
    );
    expect((await a!.closed).code).toBe(1008);
  });

  it("serves a reporter of protocol v1 (rolling upgrade): v1 frames in, v1 frames out", async () => {
    t.server = await startServer();
    const old = await SimReporter.connect({
      url: t.server.url,
      token: reporterToken("node-old"),
      node: "node-old",
      protocol: 1,
    });
    t.sims.push(old);
    const node = await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-old")).body;
      return b.node?.status === "in-sync" ? b : undefined;
    }, 10_000);
    // Judged from its two chains; what it never read is said, not guessed.
    expect(node.view.families[0]).toMatchObject({
      backend: "nf_tables",
      unreadNote: expect.stringMatching(/protocol v1/),
    });
    // A new config reaches it labelled v1 (the sim refuses any other label) and is applied.
    const cfg = (await t.server.api("/api/config")).body;
    const saved = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    expect(saved.status).toBe(200);
    await old.waitFor((m) => m.type === "desired" && m.revision === saved.body.revision);
    await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-old")).body;
      return b.node.appliedRevision === saved.body.revision && b.node.status === "in-sync";
    }, 10_000);
    expect(old.protocol).toBe(1);
  });

  it("serves a v2 reporter of the previous release in its field names (generation)", async () => {
    t.server = await startServer();
    // The sim sends appliedGeneration/generation and refuses a desired in any other names.
    const old = await connected("node-gen", { legacyNames: true });
    await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-gen")).body;
      return b.node?.status === "in-sync" ? b : undefined;
    }, 10_000);
    const cfg = (await t.server.api("/api/config")).body;
    const saved = await t.server.api("/api/config", {
      method: "PUT",
      body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion: cfg.resourceVersion },
    });
    await old.waitFor((m) => m.type === "desired" && m.revision === saved.body.revision);
    // Its applied revision, reported as appliedGeneration, is read as the current field.
    await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-gen")).body;
      return b.node.appliedRevision === saved.body.revision && b.node.status === "in-sync";
    }, 10_000);
    // A reporter of this release beside it gets the current names (the sim refuses others).
    const current = await connected("node-new");
    await current.waitFor((m) => m.type === "desired" && m.revision === saved.body.revision);
  });

  it("refuses a change of protocol version within one connection", async () => {
    t.server = await startServer();
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    s.sendRaw(
      JSON.stringify({
        type: "heartbeat",
        v: 1,
        ts: 1,
      }),
    );
    expect((await s.closed).code).toBe(1008);
    const err = s.received.find((m) => m.type === "error");
    expect(err && err.type === "error" && err.reason).toMatch(/version 1 after a version 2 hello/);
  });

  it("judges a node whose agent chain acts in both iptables backends as critically drifted", async () => {
    t.server = await startServer();
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    const [nft] = s.families.map((f) => snapshotOf({ ...f, masqChain: s.flags.masqChain }));
    s.send({
      type: "snapshot",
      v: PROTOCOL_VERSION,
      seq: 50,
      takenAt: Date.now(),
      appliedRevision: s.appliedRevision,
      linux: [nft!, { ...nft!, backend: "legacy" }],
    });
    const b = await eventually(async () => {
      const body = (await t.server!.api("/api/nodes/node-a")).body;
      return body.node.status === "drifted" ? body : undefined;
    }, 10_000);
    expect(b.view.report.differences).toContainEqual(
      expect.objectContaining({ kind: "backend-conflict", severity: "critical" }),
    );
    // The tester answers from both backends, naming them.
    const ev = await t.server.api("/api/nodes/node-a/evaluate", { body: { ip: "203.0.113.9" } });
    expect(ev.body.actual).toMatchObject({ masqueraded: true, certain: true });
    expect(ev.body.actual.reason).toMatch(/^with the rules of nf_tables and legacy, /);
    // Its legacy rules are polled by the reporter: the answer says when they were reported and
    // that a change since the last poll is not in it yet (nf_tables, watched, is not named).
    expect(ev.body.polled).toEqual({
      backends: ["legacy"],
      reportedAt: ev.body.rules.lastReportAt,
      intervalMs: null,
      note: expect.stringMatching(
        /^iptables-legacy is polled, not watched .* so a change made there since the last poll is not in this answer yet$/,
      ),
    });
  });

  it("claims no poll delay for an answer from watched nf_tables rules alone", async () => {
    t.server = await startServer();
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    const ev = await t.server.api("/api/nodes/node-a/evaluate", { body: { ip: "203.0.113.9" } });
    expect(ev.status).toBe(200);
    expect(ev.body.backends).toEqual(["nf_tables"]);
    expect(ev.body.actual.certain).toBe(true);
    expect(ev.body).not.toHaveProperty("polled");
  });

  it.each([
    { desc: "whole (zod decides)", extra: {} },
    {
      desc: "beside its digest (the hand-written guard reads it)",
      extra: { linuxDigest: `sha256:${"ab".repeat(32)}` },
    },
  ])("refuses a snapshot holding one family and backend twice, $desc", async ({ extra }) => {
    t.server = await startServer();
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    const [nft] = s.families.map((f) => snapshotOf({ ...f, masqChain: s.flags.masqChain }));
    const before = (await t.server.api("/api/nodes/node-a")).body;
    s.sendRaw(
      JSON.stringify({
        type: "snapshot",
        v: PROTOCOL_VERSION,
        seq: 50,
        takenAt: Date.now(),
        linux: [nft!, nft!],
        ...extra,
        appliedRevision: s.appliedRevision,
      }),
    );
    const closed = await s.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/linux: a family and backend twice/);
    const after = await eventually(async () => {
      const b = (await t.server!.api("/api/nodes/node-a")).body;
      return b.node.status === "offline" ? b : undefined;
    }, 10_000);
    expect(after.view).toEqual(before.view);
    expect(after.view.report.differences).not.toContainEqual(
      expect.objectContaining({ kind: "backend-conflict" }),
    );
  });

  it("refuses an apply-result claiming 1e300 ms, and ignores one of a revision never sent", async () => {
    t.server = await startServer();
    const result = (durationMs: number) =>
      JSON.stringify({
        type: "apply-result",
        v: PROTOCOL_VERSION,
        revision: 999_999,
        ok: true,
        durationMs,
        trigger: "desired",
        changed: true,
      });
    const s = await reporterInSync(t.server, "node-a");
    t.sims.push(s);
    const applied = (await t.server.api("/api/nodes/node-a")).body.node.appliedRevision;
    s.sendRaw(result(5));
    const b = await eventually(async () => {
      const body = (await t.server!.api("/api/nodes/node-a")).body;
      return body.events.some((e: { kind: string }) => e.kind === "apply-ignored")
        ? body
        : undefined;
    }, 10_000);
    expect(b.node.appliedRevision).toBe(applied);
    const texts = b.events.map((e: { message: string }) => e.message);
    expect(texts).toContainEqual(
      expect.stringMatching(/revision 999999 \(desired\) was ignored: this dashboard never sent/),
    );
    expect(texts).not.toContainEqual(expect.stringMatching(/^applying revision 999999/));
    s.sendRaw(result(1e300));
    const closed = await s.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/^durationMs: an apply takes at most/);
  });

  it("closes with 1009 on frames over 256 KiB", async () => {
    t.server = await startServer();
    const s = await connected("node-a");
    s.sendRaw("x".repeat(MAX_FRAME_BYTES + 1));
    const closed = await s.closed;
    expect(closed.code).toBe(1009);
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-a")).body.node.status === "offline",
      10_000,
    );
  });

  it("refuses a second hello and drops reporters that send no hello in time", async () => {
    t.server = await startServer({ timings: { helloTimeoutMs: 200 } });
    const s = await connected("node-a");
    s.send(s.hello());
    expect((await s.closed).code).toBe(1008);
    const quiet = await raw();
    const closed = await quiet.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/no hello/);
  });

  it("refuses a second live connection for a node and shows the conflict on the node", async () => {
    t.server = await startServer();
    const first = await connected("node-a");
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-a")).body.node.status === "in-sync",
      3000,
    );
    const second = await raw("node-a");
    second.send(second.hello());
    const closed = await second.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/already has a live reporter connection/);
    // The first is untouched: still connected, still in sync.
    expect(first.ws.readyState).toBe(WebSocket.OPEN);
    const detail = (await t.server.api("/api/nodes/node-a")).body;
    expect(detail.node).toMatchObject({ connected: true, status: "in-sync" });
    expect(detail.events.find((e: { kind: string }) => e.kind === "conflict")?.message).toMatch(
      /another reporter \(node-token:node-a from 127\.0\.0\.1\) claimed this node/,
    );
    const m = (await t.server.api("/metrics", { token: null })).body as string;
    expect(m).toMatch(/ipmasq_reporter_rejected_total\{reason="conflict"\} 1/);
  });

  it("lets the same node reconnect after a network blip: the silent old connection is dropped", async () => {
    t.server = await startServer({ timings: { claimProbeMs: 300 } });
    const first = await connected("node-a");
    first.ws.pause(); // a half-open connection: the dashboard's ping gets no answer
    const second = await connected("node-a");
    expect(second.received.some((m) => m.type === "welcome")).toBe(true);
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-a")).body.node.status === "in-sync",
      3000,
    );
    first.ws.resume();
    expect((await first.closed).code).toBe(1006); // terminated, not replaced politely
    expect((await t.server.api("/api/nodes/node-a")).body.node.connected).toBe(true);
  });

  it("drops a connection that stays silent for three heartbeats", async () => {
    t.server = await startServer({ timings: { heartbeatMs: 100 } });
    const s = await connected("node-a", { autoApply: false });
    const welcome = s.received.find((m) => m.type === "welcome");
    expect(welcome).toMatchObject({ heartbeatMs: 100 });
    await s.closed;
    await eventually(
      async () => (await t.server!.api("/api/nodes/node-a")).body.node.status === "offline",
      10_000,
    );
  });
});

describe("standalone node identity (per-node tokens)", () => {
  it("binds a reporter to the node its token names", async () => {
    t.server = await startServer();
    // node-b's token claiming node-a: the impostor of the issue, which made a node it does not
    // run on show in sync.
    const impostor = await SimReporter.raw({
      url: t.server.url,
      token: reporterToken("node-b"),
      node: "node-a",
    });
    t.sims.push(impostor);
    impostor.send(impostor.hello());
    const closed = await impostor.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toMatch(/bound to node node-b, not node-a/);
    expect(await nodeCount()).toBe(0);
  });

  it("refuses the shared secret itself, saying how to issue per-node tokens", async () => {
    t.server = await startServer();
    const res = await refusal({ authorization: `Bearer ${TOKENS.reporter}` });
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body).error).toMatch(/ipmasq token --node NAME --secret-file FILE/);
  });

  it("accepts the shared secret for any node only when configured to", async () => {
    t.server = await startServer({
      reporters: new StaticReporterAuth(TOKENS.reporter, { acceptSharedSecret: true }),
    });
    const s = await SimReporter.connect({ url: t.server.url, token: TOKENS.reporter, node: "any" });
    t.sims.push(s);
    expect(s.received.some((m) => m.type === "welcome")).toBe(true);
  });
});

describe("a connect storm", () => {
  it("checks at most maxPendingReporterAuth tokens at once: the next connect is refused 503 and counted, and a later one gets through", async () => {
    // An authenticator whose checks wait until released (a slow API server's TokenReviews).
    const waiting: (() => void)[] = [];
    const auth = new StaticReporterAuth(TOKENS.reporter, { acceptSharedSecret: true });
    t.server = await startServer({
      maxPendingReporterAuth: 2,
      reporters: {
        authenticate: (token) =>
          new Promise((resolve) => waiting.push(() => resolve(auth.authenticate(token)))),
      },
    });
    const connect = (node: string) =>
      SimReporter.connect({ url: t.server!.url, token: TOKENS.reporter, node });
    const first = [connect("node-1"), connect("node-2")];
    await eventually(() => waiting.length === 2, 5_000, "two checks pending");
    const refused = await refusal({ authorization: `Bearer ${TOKENS.reporter}` });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error).toMatch(
      /2 reporter connections are being authenticated/,
    );
    expect(waiting).toHaveLength(2); // the refused one never reached the authenticator
    for (const release of waiting.splice(0)) release();
    t.sims.push(...(await Promise.all(first)));
    const third = connect("node-3");
    await eventually(() => waiting.length === 1, 5_000, "the next check");
    waiting.pop()!();
    t.sims.push(await third);
    const metrics = await fetch(`${t.server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/ipmasq_reporter_rejected_total\{reason="busy"\} 1/);
  });
});
