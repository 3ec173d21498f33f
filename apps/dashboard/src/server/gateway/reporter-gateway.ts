// The reporter WebSocket endpoint (/api/reporter). The token is checked on the upgrade
// request, before any WebSocket exists; the first frame must be a valid hello (for the node
// the token is bound to, in Kubernetes mode). Any invalid frame gets an `error` frame and a
// 1008 close, and nothing it carried reaches the fleet state. Reporters of the previous
// protocol version keep working during a rolling upgrade: their frames are upgraded (the
// hello's version holds for the connection) and every frame they get is labelled for them.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  createReporterDecoder,
  encodeMessage,
  frameForVersion,
  type Hello,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type ProtocolVersion,
  setLongTimeout,
} from "@masq/shared";
import type { Logger } from "pino";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { bearerToken } from "../auth/tokens.js";
import type { ReporterAuthenticator, ReporterAuthResult } from "../auth/types.js";
import type { FleetState, ReporterLink } from "../fleet/fleet-state.js";
import type { Metrics } from "../metrics.js";

export interface GatewayOptions {
  fleet: FleetState;
  auth: ReporterAuthenticator;
  log: Logger;
  metrics: Metrics;
  helloTimeoutMs: number;
  /** A connection silent for 3 heartbeats is dropped. */
  heartbeatMs: number;
}

/** Close codes (RFC 6455). */
const POLICY_VIOLATION = 1008;
const GOING_AWAY = 1001;

export class ReporterGateway {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  private readonly lastHeard = new Map<WebSocket, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly opts: GatewayOptions) {
    this.timer = setInterval(() => this.dropSilent(), Math.min(opts.heartbeatMs, 5000));
    this.timer.unref();
  }

  /** Handles an upgrade request on the reporter path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      this.refuse(socket, 401, "send the reporter token as Authorization: Bearer <token>");
      return;
    }
    this.opts.auth.authenticate(token).then(
      (auth) => {
        if (!auth.ok) return this.refuse(socket, auth.status, auth.error);
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws, auth));
      },
      (e) => {
        this.opts.log.error({ err: e }, "reporter authentication failed");
        this.refuse(socket, 503, "cannot check the reporter token");
      },
    );
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.close(GOING_AWAY, "dashboard shutting down");
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const ws of this.wss.clients) ws.terminate();
  }

  private refuse(socket: Duplex, status: number, reason: string): void {
    this.opts.metrics.reporterRejected.inc({
      reason: status === 503 ? "auth-unavailable" : "auth",
    });
    this.opts.log.warn({ status, reason }, "reporter connection refused");
    if (socket.destroyed) return;
    const body = JSON.stringify({ error: reason });
    const text =
      status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Service Unavailable";
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private attach(ws: WebSocket, auth: Extract<ReporterAuthResult, { ok: true }>): void {
    const { fleet, metrics, log } = this.opts;
    let node: string | undefined;
    const decoder = createReporterDecoder();
    const link: ReporterLink = {
      send: (frame) => {
        if (ws.readyState !== ws.OPEN) return;
        const version = decoder.version ?? PROTOCOL_VERSION;
        ws.send(version === PROTOCOL_VERSION ? frame : labelled(frame, version), { binary: false });
      },
      close: (code, reason) => ws.close(code, reason),
    };
    const reject = (reason: string) => {
      metrics.reporterRejected.inc({ reason: "protocol" });
      log.warn({ node, identity: auth.identity, reason }, "reporter frame rejected");
      link.send(
        encodeMessage({ type: "error", v: PROTOCOL_VERSION, reason: reason.slice(0, 1024) }),
      );
      ws.close(POLICY_VIOLATION, truncate(reason, 120));
    };
    const helloTimer = setLongTimeout(
      () => reject(`no hello within ${this.opts.helloTimeoutMs} ms`),
      this.opts.helloTimeoutMs,
    );
    this.lastHeard.set(ws, Date.now());
    metrics.reporterConnections.inc();
    ws.on("message", (data: RawData) => {
      if (ws.readyState !== ws.OPEN) return; // closing after a rejection: ignore whatever follows
      this.lastHeard.set(ws, Date.now());
      const d = decoder.decode(toBytes(data));
      if (!d.ok) return reject(d.reason);
      const msg = d.msg;
      if (node === undefined) {
        if (msg.type !== "hello") return reject(`the first message must be hello, got ${msg.type}`);
        const problem = helloProblem(msg, auth);
        if (problem) return reject(problem);
        helloTimer.clear();
        node = msg.node;
        fleet.connect(msg, link);
        return;
      }
      fleet.seen(node);
      if (msg.type === "hello") reject("hello sent twice on one connection");
      else if (msg.type === "snapshot") fleet.snapshot(node, msg);
      else if (msg.type === "apply-result") fleet.applyResult(node, msg);
    });
    ws.on("error", (e) => {
      metrics.reporterRejected.inc({ reason: "transport" });
      log.warn({ node, err: e }, "reporter connection error");
    });
    ws.on("close", (code, reason) => {
      helloTimer.clear();
      this.lastHeard.delete(ws);
      metrics.reporterConnections.dec();
      if (node !== undefined)
        fleet.disconnect(
          node,
          link,
          `connection closed (${code}${reason.length ? `: ${reason.toString()}` : ""})`,
        );
    });
  }

  private dropSilent(): void {
    const limit = Date.now() - 3 * this.opts.heartbeatMs;
    for (const [ws, at] of this.lastHeard) if (at < limit) ws.terminate();
  }
}

function helloProblem(
  hello: Hello,
  auth: Extract<ReporterAuthResult, { ok: true }>,
): string | undefined {
  if (auth.node !== undefined && hello.node !== auth.node)
    return `this token is bound to node ${auth.node}, not ${hello.node}`;
  return undefined;
}

/** One frame pushed to thousands of links (a desired config) is labelled once per version. */
const labelledFrames = new WeakMap<Buffer, Map<ProtocolVersion, string>>();

function labelled(frame: string | Buffer, version: ProtocolVersion): string {
  if (typeof frame === "string") return frameForVersion(frame, version);
  const byVersion = labelledFrames.get(frame) ?? new Map<ProtocolVersion, string>();
  labelledFrames.set(frame, byVersion);
  let text = byVersion.get(version);
  if (text === undefined) {
    text = frameForVersion(frame.toString("utf8"), version);
    byVersion.set(version, text);
  }
  return text;
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

function truncate(s: string, max: number): string {
  return Buffer.byteLength(s) <= max
    ? s
    : `${Buffer.from(s)
        .subarray(0, max - 3)
        .toString()}...`;
}
