// A local stand-in for the dashboard's reporter gateway: records every frame and the auth
// header, validates what reporters send with the shared schema, and can send anything back.
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import {
  CAPABILITIES_HEADER,
  type Capability,
  type DashboardMessage,
  decodeReporterMessage,
  grantCapabilities,
  parseCapabilities,
  type ReporterMessage,
} from "@masq/shared";
import { type WebSocket, WebSocketServer } from "ws";

export interface FakeDashboard {
  url: string;
  port: number;
  messages: ReporterMessage[];
  /** Every frame's text as received, in order. */
  raw: string[];
  /** Frames received (a frame may hold two messages: an apply-result with its snapshot). */
  frames: number;
  /** Apply-results that carried their snapshot. */
  folded: number;
  invalid: string[];
  authHeaders: (string | undefined)[];
  /** The capabilities header of each upgrade request (undefined: none offered). */
  offered: (string | string[] | undefined)[];
  sockets: Set<WebSocket>;
  /** Sends to every connected reporter (a string is sent verbatim). */
  send(msg: DashboardMessage | string): void;
  waitFor<T extends ReporterMessage["type"]>(
    type: T,
    pred?: (m: Extract<ReporterMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ReporterMessage, { type: T }>>;
  close(): Promise<void>;
}

export async function startFakeDashboard(
  opts: {
    port?: number;
    welcome?: boolean;
    requireToken?: string;
    /** Capabilities granted to reporters that offer them (default: none, as a previous release). */
    grant?: readonly Capability[];
  } = {},
): Promise<FakeDashboard> {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: opts.port ?? 0,
    path: "/api/reporter",
    verifyClient: (info: { req: IncomingMessage }) =>
      !opts.requireToken || info.req.headers.authorization === `Bearer ${opts.requireToken}`,
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  wss.on("headers", (headers, req) => {
    const offered = parseCapabilities(req.headers[CAPABILITIES_HEADER]);
    const granted = grantCapabilities(offered, opts.grant ?? []);
    if (granted) headers.push(`${CAPABILITIES_HEADER}: ${granted}`);
  });
  const port = (wss.address() as AddressInfo).port;
  const waiters = new Set<() => void>();
  const d: FakeDashboard = {
    url: `ws://127.0.0.1:${port}/api/reporter`,
    port,
    messages: [],
    raw: [],
    frames: 0,
    folded: 0,
    invalid: [],
    authHeaders: [],
    offered: [],
    sockets: new Set(),
    send(msg) {
      const text = typeof msg === "string" ? msg : JSON.stringify(msg);
      for (const s of d.sockets) s.send(text);
    },
    waitFor(type, pred = () => true, timeoutMs = 5_000) {
      type M = Extract<ReporterMessage, { type: typeof type }>;
      const find = () => d.messages.find((m): m is M => m.type === type && pred(m as M));
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = find();
          if (!m) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no ${type} message within ${timeoutMs} ms (got ${d.messages.map((m) => m.type).join(",")})`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const s of d.sockets) s.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
  wss.on("connection", (socket, req) => {
    d.authHeaders.push(req.headers.authorization);
    d.offered.push(req.headers[CAPABILITIES_HEADER]);
    d.sockets.add(socket);
    socket.on("close", () => d.sockets.delete(socket));
    socket.on("message", (raw) => {
      const r = decodeReporterMessage(raw as Buffer);
      d.raw.push(String(raw));
      d.frames++;
      if (!r.ok) d.invalid.push(r.reason);
      else if (r.msg.type === "apply-result" && r.msg.snapshot) {
        // As the dashboard takes it: the snapshot first, then the result.
        const { snapshot, ...result } = r.msg;
        d.folded++;
        d.messages.push(snapshot, result);
      } else d.messages.push(r.msg);
      for (const w of [...waiters]) w();
    });
    if (opts.welcome !== false)
      socket.send(
        JSON.stringify({ type: "welcome", v: 2, serverTime: Date.now(), heartbeatMs: 15_000 }),
      );
  });
  return d;
}
