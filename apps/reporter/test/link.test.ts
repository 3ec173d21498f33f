// The WebSocket link against a local server: auth header, hello on every connect, reconnect
// after the server dies, malformed frames ignored, silent servers detected.

import type { AddressInfo, Socket } from "node:net";
import { createServer } from "node:net";
import type { DashboardMessage, Hello } from "@masq/shared";
import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { ServiceProxy } from "@masq/testkit/service-proxy";
import { sleep, until } from "@masq/testkit/wait";
import { afterEach, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createLink, type Link } from "../src/link.js";
import { type FakeDashboard, startFakeDashboard } from "./helpers/dashboard.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const hello = (): Hello => helloFor("node-l");

async function server(port?: number): Promise<FakeDashboard> {
  const d = await startFakeDashboard({ port });
  cleanups.push(() => d.close());
  return d;
}

function link(opts: Partial<Parameters<typeof createLink>[0]> & { url: string }): {
  link: Link;
  received: DashboardMessage[];
} {
  const received: DashboardMessage[] = [];
  const l = createLink({ hello, onMessage: (m) => received.push(m), ...opts });
  cleanups.push(() => l.close());
  return { link: l, received };
}

it("sends the bearer token (re-read at every connect) and a hello first", async () => {
  const d = await server();
  let n = 0;
  const { link: l } = link({ url: d.url, token: () => `tok-${++n}` });
  await d.waitFor("hello");
  expect(d.authHeaders).toEqual(["Bearer tok-1"]);
  expect(l.connected).toBe(true);
  for (const s of d.sockets) s.terminate();
  await until(() => d.authHeaders.length === 2, 3_000);
  expect(d.authHeaders[1]).toBe("Bearer tok-2");
  await until(() => d.messages.filter((m) => m.type === "hello").length === 2, 2_000);
});

it("is refused without the right token and keeps retrying with backoff", async () => {
  const d = await startFakeDashboard({ requireToken: "right" });
  cleanups.push(() => d.close());
  const { link: l } = link({ url: d.url, token: "wrong", backoff: { initialMs: 50, maxMs: 200 } });
  await sleep(600);
  expect(l.connected).toBe(false);
  expect(l.stats().connects).toBe(0);
});

it("reconnects after the server dies, with a prompt first retry", async () => {
  const d = await server();
  const { link: l } = link({ url: d.url });
  await d.waitFor("hello");
  const port = d.port;
  await d.close();
  await until(() => !l.connected, 2_000);
  const again = await server(port);
  // The first retry comes after 0.4-0.8 s, so the hello arrives within 2 s (backoffDelay's exact
  // bounds are a unit test; the time itself is not asserted here).
  await again.waitFor("hello", undefined, 2_000);
  expect(l.stats()).toMatchObject({ connects: 2, disconnects: 1 });
});

it("ignores malformed frames and still delivers valid messages", async () => {
  const d = await server();
  const { link: l, received } = link({ url: d.url });
  await d.waitFor("hello");
  await until(() => received.some((m) => m.type === "welcome"));
  d.send("{not json");
  d.send(
    JSON.stringify({
      type: "desired",
      v: 2,
      revision: -1,
      resourceVersion: "r",
      config: defaultConfig(),
    }),
  );
  d.send(JSON.stringify({ type: "explode", v: 2 }));
  d.send(
    JSON.stringify({
      type: "desired",
      v: 2,
      revision: 1,
      resourceVersion: "r",
      config: { ...defaultConfig(), extra: true },
    }),
  );
  d.send("x".repeat(300 * 1024)); // above the protocol's frame limit: the client closes, then reconnects
  // Wait for the second hello, not `connected`, which is still true until the close lands.
  await until(() => d.messages.filter((m) => m.type === "hello").length === 2, 5_000);
  expect(received.filter((m) => m.type !== "welcome")).toEqual([]);
  d.send({ type: "desired", v: 2, revision: 2, resourceVersion: "r2", config: defaultConfig() });
  await until(() => received.some((m) => m.type === "desired"));
  expect(l.stats().ignored).toBe(4);
});

it("refuses to send a message that breaks the protocol", async () => {
  const d = await server();
  const { link: l } = link({ url: d.url });
  await d.waitFor("hello");
  expect(l.send({ type: "heartbeat", v: 2, ts: -5 })).toBe(false);
  expect(l.send({ type: "heartbeat", v: 2, ts: 5 })).toBe(true);
  await d.waitFor("heartbeat");
  expect(d.invalid).toEqual([]);
});

/** A server that completes the handshake and then never answers anything (pings included). */
async function silentServer(): Promise<{ port: number; connections: () => number }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  let connections = 0;
  wss.on("connection", (s) => {
    connections++;
    s.pause();
    cleanups.push(() => s.terminate());
  });
  return { port: (wss.address() as AddressInfo).port, connections: () => connections };
}

/** A frozen process's port: the kernel accepts connections, nothing ever answers. */
async function frozenPort(): Promise<number> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => sockets.add(s.pause()));
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => srv.close(() => r()));
  });
  return (srv.address() as AddressInfo).port;
}

const FAST = { pingIdleMs: 200, deadAfterMs: 600, hedgeMs: 300 };

it("drops a silent connection and reconnects", async () => {
  const silent = await silentServer();
  link({
    url: `ws://127.0.0.1:${silent.port}/api/reporter`,
    liveness: FAST,
    backoff: { initialMs: 100 },
  });
  await until(() => silent.connections() >= 2, 3_000);
});

it("keeps a link whose dashboard answers pings, however quiet it is", async () => {
  const d = await server();
  // Pinged after 0.2 s of silence; 1.3 s for the pong, so a loaded test machine cannot flake it.
  const { link: l } = link({ url: d.url, liveness: { ...FAST, deadAfterMs: 1_500 } });
  await d.waitFor("hello");
  await sleep(2_000);
  expect(l.stats()).toMatchObject({ connects: 1, disconnects: 0 });
  // It was pinged (silences passed 0.2 s) and answered each time.
  expect(l.stats().maxSilentMs).toBeGreaterThanOrEqual(200);
  expect(l.stats().maxSilentMs).toBeLessThan(1_500);
});

it("after a silent replica, races connects so one landing on a frozen endpoint does not wait out the handshake", async () => {
  // A Service over three endpoints (round robin): the first connection goes to a replica that
  // goes silent, the reconnect to a frozen one, the hedged attempt to a live one.
  const silent = await silentServer();
  const frozen = await frozenPort();
  const live = await server();
  const svc = await new ServiceProxy([silent.port, frozen, live.port]).start();
  cleanups.push(() => svc.stop());
  const { link: l } = link({
    url: `ws://127.0.0.1:${svc.port}/api/reporter`,
    liveness: FAST,
    backoff: { initialMs: 100 },
  });
  await until(() => silent.connections() === 1, 2_000);
  const t0 = Date.now();
  await live.waitFor("hello", undefined, 3_000);
  // Dead after 0.6 s, retry after 0.05-0.1 s, hedge after 0.3 s: far below the 10 s handshake
  // timeout a single attempt to the frozen endpoint would wait.
  expect(Date.now() - t0).toBeLessThan(2_500);
  expect(svc.routed).toEqual([silent.port, frozen, live.port]);
  expect(l.stats()).toMatchObject({ connects: 2, disconnects: 1 });
});

it("does not race connects after an ordinary close (no extra load on a replica taking over)", async () => {
  const frozen = await frozenPort();
  const d = await server();
  const svc = await new ServiceProxy([d.port, frozen, d.port]).start();
  cleanups.push(() => svc.stop());
  link({
    url: `ws://127.0.0.1:${svc.port}/api/reporter`,
    liveness: FAST,
    backoff: { initialMs: 100 },
  });
  await d.waitFor("hello");
  for (const s of d.sockets) s.terminate();
  await sleep(1_500);
  // The reconnect went to the frozen endpoint and waits there; no second attempt yet.
  expect(svc.routed).toEqual([d.port, frozen]);
});

it("speaks the previous release's field names to a dashboard of that release", async () => {
  // That dashboard refuses `appliedRevision` (an unknown field to it) and says `generation`.
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/api/reporter" });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  const frames: Record<string, unknown>[] = [];
  wss.on("connection", (socket) => {
    socket.on("message", (raw) => {
      const msg = JSON.parse(String(raw)) as Record<string, unknown>;
      frames.push(msg);
      if ("appliedRevision" in msg) {
        socket.send(
          JSON.stringify({ type: "error", v: 2, reason: 'unknown field "appliedRevision"' }),
        );
        return socket.close(1008, "protocol");
      }
      if (msg.type !== "hello") return;
      socket.send(JSON.stringify({ type: "welcome", v: 2, serverTime: 1, heartbeatMs: 15_000 }));
      const config = defaultConfig();
      socket.send(
        JSON.stringify({ type: "desired", v: 2, generation: 3, revision: "812", config }),
      );
    });
  });
  const { port } = wss.address() as { port: number };
  const url = `ws://127.0.0.1:${port}/api/reporter`;
  const { link: l, received } = link({ url, backoff: { initialMs: 50, maxMs: 100 } });
  await until(() => received.some((m) => m.type === "desired"), 5_000);
  expect(received.find((m) => m.type === "desired")).toMatchObject({
    revision: 3,
    resourceVersion: "812",
  });
  const hellos = frames.filter((f) => f.type === "hello");
  expect(hellos[0]).toHaveProperty("appliedRevision");
  expect(hellos.at(-1)).toMatchObject({ appliedGeneration: null });
  expect(hellos.at(-1)).not.toHaveProperty("appliedRevision");
  const result = { type: "apply-result", v: 2, revision: 3, ok: true, durationMs: 1 } as const;
  expect(l.send({ ...result, trigger: "desired", changed: true })).toBe(true);
  await until(() => frames.some((f) => f.type === "apply-result"), 2_000);
  expect(frames.find((f) => f.type === "apply-result")).toMatchObject({ generation: 3 });
});
