// The WebSocket link against a local server: auth header, hello on every connect, reconnect
// after the server dies, malformed frames ignored, silent servers detected.
import type { DashboardMessage, Hello } from "@masq/shared";
import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
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

it("drops a silent connection and reconnects", async () => {
  // A server that completes the handshake and then never answers anything (pings included).
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
  let connections = 0;
  wss.on("connection", (s) => {
    connections++;
    s.pause();
    cleanups.push(() => s.terminate());
  });
  const port = (wss.address() as { port: number }).port;
  link({
    url: `ws://127.0.0.1:${port}/api/reporter`,
    heartbeatMs: 1_000,
    backoff: { initialMs: 100 },
  });
  await until(() => connections >= 2, 6_000);
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
