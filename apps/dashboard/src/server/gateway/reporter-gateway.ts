// The reporter WebSocket endpoint (/api/reporter). The token is checked on the upgrade
// request, before any WebSocket exists; the first frame must be a valid hello (for the node
// the token is bound to, in Kubernetes mode). Any invalid frame gets an `error` frame and a
// 1008 close, and nothing it carried reaches the fleet state. Reporters of the previous
// protocol version keep working during a rolling upgrade: their frames are upgraded (the
// hello's version holds for the connection) and every frame they get is labelled for them.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import {
  APPLY_RESULT_SNAPSHOT,
  CAPABILITIES_HEADER,
  type Capability,
  CHAIN_DIGESTS,
  createReporterDecoder,
  DesiredChains,
  DIGEST_HISTORY,
  encodeMessage,
  type FamilySnapshot,
  frameForVersion,
  grantCapabilities,
  type Hello,
  KNOWN_CAPABILITIES,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseCapabilities,
  type ReporterDialect,
  type ReporterMessage,
  SNAPSHOT_DIGESTS,
  setLongTimeout,
  UNHEARD_HEALS,
  ValidatedRules,
} from "@masq/shared";
import type { Logger } from "pino";
import { type RawData, type WebSocket, WebSocketServer } from "ws";
import { bearerToken } from "../auth/tokens.js";
import type { ReporterAuthenticator, ReporterAuthResult } from "../auth/types.js";
import type { FleetState, ReporterLink } from "../fleet/fleet-state.js";
import type { Metrics } from "../metrics.js";
import { ConflictNotes } from "./conflict-notes.js";
import { ConnectingReporters } from "./connecting.js";
import { type Granted, inboundDelivery } from "./inbound.js";
import { type BudgetOptions, InboundBudget, pauseFor } from "./inbound-budget.js";
import { type Claim, NodeClaims } from "./node-claims.js";
import { sweepSilent } from "./silence-sweep.js";
import { SnapshotDigests } from "./snapshot-digests.js";

export interface GatewayOptions {
  fleet: FleetState;
  auth: ReporterAuthenticator;
  log: Logger;
  metrics: Metrics;
  helloTimeoutMs: number;
  /** A connection silent for 3 heartbeats is dropped. */
  heartbeatMs: number;
  /** How long a node's connection has to answer a ping when a second one claims the node. */
  claimProbeMs: number;
  /** What one connection may send before it is paused (default DEFAULT_BUDGET). */
  budget?: BudgetOptions;
  /** Upgrades whose token is being checked at once (default MAX_PENDING_AUTH). */
  maxPendingAuth?: number;
  /** What this dashboard grants reporters that offer it (default every known capability). */
  capabilities?: readonly Capability[];
}

/**
 * Upgrades whose token is being checked at once. Past it a connect is refused with 503 and
 * the reporter retries with its backoff: in a connect storm (a replica's death moves thousands
 * of reporters) at most this many TokenReviews wait for the API server's capped connections.
 */
export const MAX_PENDING_AUTH = 4096;

/** Messages a connection may send while its claim on the node is being decided. */
const MAX_HELD = 16;
/** A node's conflicts are noted in its events at most this often. */
const CONFLICT_NOTE_MS = 60_000;

/** Close codes (RFC 6455). */
const POLICY_VIOLATION = 1008;
const GOING_AWAY = 1001;

/** Nodes a log line of dropped connections names; the rest are counted. */
const MAX_LOGGED_NODES = 20;

export class ReporterGateway {
  private readonly wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
  });
  private readonly lastHeard = new Map<WebSocket, number>();
  /**
   * Each connection's node once its hello named one, and those the silence sweep dropped: the
   * log names them and the node's timeline says why, where it read "connection closed (1006)".
   */
  private readonly nodeOf = new WeakMap<WebSocket, string>();
  private readonly droppedSilent = new WeakSet<WebSocket>();
  private readonly timer: NodeJS.Timeout;
  private readonly sweepMs: number;
  /** When the silence sweep last ran (performance.now() ms): a late one judges by it (silence-sweep.ts). */
  private lastSweep: number;
  private readonly claims: NodeClaims;
  /** When a refused second connection is noted in its node's events (conflict-notes.ts). */
  private readonly conflictNotes = new ConflictNotes(CONFLICT_NOTE_MS);
  /** Snapshot rules already checked, for every connection (the fleet mostly sends the same). */
  private readonly validatedRules = new ValidatedRules<FamilySnapshot[]>();
  /** Rules by digest, for every connection granted snapshot-digests or chain-digests (snapshot-digests.ts). */
  readonly digests = new SnapshotDigests();
  /** Agent chains rendered here, so a push's new chain is known without a round trip. */
  private readonly desiredChains = new DesiredChains();
  /** Upgrades waiting for their token's check. */
  private authenticating = 0;
  /** Stopping: upgrades are refused (stopAccepting). */
  private stopping = false;
  /** Reporters connecting here, not holding their node yet (counted with reconnects). */
  private readonly connecting = new ConnectingReporters();

  constructor(private readonly opts: GatewayOptions) {
    // The 101 response grants what the reporter offered and this dashboard can do.
    this.wss.on("headers", (headers, req) => {
      const granted = this.granted(req);
      if (granted) headers.push(`${CAPABILITIES_HEADER}: ${granted}`);
    });
    this.claims = new NodeClaims(opts.claimProbeMs);
    this.sweepMs = Math.min(opts.heartbeatMs, 5000);
    this.lastSweep = performance.now();
    this.timer = setInterval(() => this.dropSilent(), this.sweepMs);
    this.timer.unref();
  }

  /** Handles an upgrade request on the reporter path. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", destroySocket);
    if (this.stopping) {
      this.refuse(socket, 503, "the dashboard is shutting down; retry", "shutting-down");
      return;
    }
    const token = bearerToken(req.headers.authorization);
    if (!token) {
      this.refuse(socket, 401, "send the reporter token as Authorization: Bearer <token>");
      return;
    }
    const max = this.opts.maxPendingAuth ?? MAX_PENDING_AUTH;
    if (this.authenticating >= max) {
      const why = `${max} reporter connections are being authenticated already; retry`;
      this.refuse(socket, 503, why, "busy");
      return;
    }
    this.authenticating++;
    // Ended once its connection holds its node (attach) or its socket closes, however.
    const connected = this.connecting.begin();
    socket.once("close", connected);
    const checked = this.opts.auth.authenticate(token).finally(() => this.authenticating--);
    checked.then(
      (auth) => {
        if (!auth.ok) return this.refuse(socket, auth.status, auth.error);
        if (socket.destroyed) return connected();
        const peer = req.socket.remoteAddress ?? "unknown";
        const granted = parseCapabilities(this.granted(req));
        const conn: Granted = {
          digests: this.digests.session(
            granted.has(CHAIN_DIGESTS) ? "chains" : granted.has(SNAPSHOT_DIGESTS) ? "part" : "none",
            granted.has(DIGEST_HISTORY),
          ),
          fold: granted.has(APPLY_RESULT_SNAPSHOT),
          heals: granted.has(UNHEARD_HEALS),
        };
        this.wss.handleUpgrade(req, socket, head, (ws) =>
          this.attach(ws, auth, peer, conn, connected),
        );
      },
      (e) => {
        this.opts.log.error({ err: e }, "reporter authentication failed");
        this.refuse(socket, 503, "cannot check the reporter token");
      },
    );
  }

  /**
   * Reporters connecting here now: upgrades not holding their node yet, and those refused for
   * now (busy, token not checkable) within their retry (connecting.ts).
   */
  connectingCount(): number {
    return this.connecting.count();
  }

  /**
   * The dashboard is stopping: every upgrade from now on is refused 503 (the reporter retries,
   * another replica or this one restarted). Accepted while its files were being written for the
   * last time, a reporter sent its heals into a stopping dashboard that kept nothing of them
   * (found trying the demo: a heal made while the dashboard was away told nowhere).
   */
  stopAccepting(): void {
    this.stopping = true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    for (const ws of this.wss.clients) ws.close(GOING_AWAY, "dashboard shutting down");
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    for (const ws of this.wss.clients) ws.terminate();
  }

  /** The capabilities header value granted to this upgrade request, if any. */
  private granted(req: IncomingMessage): string | undefined {
    const offered = parseCapabilities(req.headers[CAPABILITIES_HEADER]);
    return grantCapabilities(offered, this.opts.capabilities ?? KNOWN_CAPABILITIES);
  }

  private refuse(
    socket: Duplex,
    status: number,
    reason: string,
    label?: "busy" | "shutting-down",
  ): void {
    // Refused for now (busy, or the token not checkable): the reporter is back within its backoff.
    if (status === 503) this.connecting.refused();
    this.opts.metrics.reporterRejected.inc({
      reason: label ?? (status === 503 ? "auth-unavailable" : "auth"),
    });
    // A storm refuses thousands at once: one line each at debug, the counter says how many.
    if (label !== undefined) this.opts.log.debug({ status, reason }, "reporter connection refused");
    else this.opts.log.warn({ status, reason }, "reporter connection refused");
    if (socket.destroyed) return;
    const body = JSON.stringify({ error: reason });
    const text =
      status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "Service Unavailable";
    socket.end(
      `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }

  private attach(
    ws: WebSocket,
    auth: Extract<ReporterAuthResult, { ok: true }>,
    peer: string,
    granted: Granted,
    connected: () => void,
  ): void {
    const { fleet, metrics, log } = this.opts;
    let node: string | undefined;
    const decoder = createReporterDecoder({ validatedRules: this.validatedRules });
    /** Set once this connection holds its node (see NodeClaims); until then messages wait. */
    let accepted = false;
    const held: ReporterMessage[] = [];
    const link = linkOf(ws, () => decoder.dialect ?? CURRENT_DIALECT);
    const deliver = inboundDelivery({
      fleet,
      metrics,
      link,
      granted,
      reject: (reason) => reject(reason),
      isOpen: () => ws.readyState === ws.OPEN,
      desiredChains: this.desiredChains,
    });
    const reject = (reason: string, label: "protocol" | "conflict" = "protocol") => {
      metrics.reporterRejected.inc({ reason: label });
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
    this.lastHeard.set(ws, performance.now());
    metrics.reporterConnections.inc();
    const budget = new InboundBudget(this.opts.budget);
    ws.on("message", (data: RawData) => {
      if (ws.readyState !== ws.OPEN) return; // closing after a rejection: ignore whatever follows
      this.lastHeard.set(ws, performance.now());
      const bytes = toBytes(data);
      if (pauseFor(ws, budget.take(bytes.byteLength))) metrics.reporterPaused.inc();
      const d = decoder.decode(bytes);
      if (!d.ok) return reject(d.reason);
      const msg = d.msg;
      if (node === undefined) {
        if (msg.type !== "hello") return reject(`the first message must be hello, got ${msg.type}`);
        const problem = helloProblem(msg, auth);
        if (problem) return reject(problem);
        helloTimer.clear();
        const name = msg.node;
        node = name;
        this.nodeOf.set(ws, name);
        void this.claim(ws, name, { auth, peer }).then((claim) => {
          if (claim === "gone") return;
          if (claim === "conflict")
            return reject(`node ${name} already has a live reporter connection`, "conflict");
          accepted = true;
          fleet.connect(msg, link);
          connected(); // in the fleet state now: counted there until its status is written
          for (const m of held.splice(0)) deliver(name, m);
        });
        return;
      }
      if (msg.type === "hello") return reject("hello sent twice on one connection");
      if (accepted) return deliver(node, msg);
      if (!hold(held, msg)) reject("too many messages before the connection was accepted");
    });
    ws.on("error", (e) => {
      metrics.reporterRejected.inc({ reason: "transport" });
      log.warn({ node, err: e }, "reporter connection error");
    });
    ws.on("close", (code, reason) => {
      helloTimer.clear();
      this.lastHeard.delete(ws);
      metrics.reporterConnections.dec();
      if (node !== undefined) this.claims.release(node, ws);
      if (node !== undefined && accepted)
        fleet.disconnect(node, link, this.closedWhy(ws, code, reason.toString()));
    });
  }

  /**
   * Whether `ws` may speak for `node`: refused while another connection for it is live (see
   * NodeClaims), and the refusal is shown in the node's events, logged and counted.
   */
  private async claim(
    ws: WebSocket,
    node: string,
    who: { auth: Extract<ReporterAuthResult, { ok: true }>; peer: string },
  ): Promise<Claim | "gone"> {
    const claim = await this.claims.claim(node, ws);
    if (ws.readyState !== ws.OPEN) return "gone";
    if (claim === "granted") return claim;
    this.opts.log.warn(
      { node, identity: who.auth.identity, peer: who.peer },
      "second reporter connection for a node refused: its connection is live",
    );
    if (this.conflictNotes.take(node))
      this.opts.fleet.noteEvent(
        node,
        "conflict",
        `another reporter (${who.auth.identity} from ${who.peer}) claimed this node while its connection was live; refused`,
      );
    return claim;
  }

  private dropSilent(): void {
    // A monotonic clock: a wall clock stepped back kept a dead reporter "connected" for the
    // length of the step, one stepped forward dropped every live one (break6).
    const now = performance.now();
    const { late, silent } = sweepSilent(
      now,
      this.lastSweep,
      this.sweepMs,
      3 * this.opts.heartbeatMs,
      this.lastHeard,
    );
    this.lastSweep = now;
    if (late) this.opts.metrics.silenceSweepsLate.inc();
    if (silent.length === 0) return;
    this.opts.metrics.reporterRejected.inc({ reason: "silent" }, silent.length);
    const named = silent.flatMap((ws) => this.nodeOf.get(ws) ?? []);
    this.opts.log.warn(
      {
        connections: silent.length,
        nodes: named.slice(0, MAX_LOGGED_NODES),
        ...(named.length > MAX_LOGGED_NODES ? { moreNodes: named.length - MAX_LOGGED_NODES } : {}),
        silentForMs: 3 * this.opts.heartbeatMs,
      },
      "reporter connections dropped: nothing heard for three heartbeat intervals",
    );
    for (const ws of silent) {
      this.droppedSilent.add(ws);
      ws.terminate();
    }
  }

  /** A closed connection's reason for the node's timeline. */
  private closedWhy(ws: WebSocket, code: number, reason: string): string {
    if (this.droppedSilent.has(ws))
      return `dropped by the dashboard: nothing heard for ${Math.round((3 * this.opts.heartbeatMs) / 1000)} s (three heartbeat intervals; the reporter or its node may be hung)`;
    return `connection closed (${code}${reason.length ? `: ${reason}` : ""})`;
  }
}

/**
 * A socket's error listener for its whole life. Not a closure in handleUpgrade: that one would
 * keep the upgrade request (headers, token) and `head` alive per connection, ~1.9 KB of heap.
 */
function destroySocket(this: Duplex): void {
  this.destroy();
}

function helloProblem(
  hello: Hello,
  auth: Extract<ReporterAuthResult, { ok: true }>,
): string | undefined {
  if (auth.node !== undefined && hello.node !== auth.node)
    return `this token is bound to node ${auth.node}, not ${hello.node}`;
  return undefined;
}

/**
 * Keeps a message that arrived while the connection's claim on its node is being decided: the
 * newest snapshot only, the rest in order. False when too many are waiting.
 */
function hold(held: ReporterMessage[], msg: ReporterMessage): boolean {
  const i = msg.type === "snapshot" ? held.findIndex((m) => m.type === "snapshot") : -1;
  if (i >= 0) held.splice(i, 1);
  held.push(msg);
  return held.length <= MAX_HELD;
}

/**
 * The fleet's handle on a connection: sends text frames while it is open, labelled for the
 * protocol version and field names the reporter's hello spoke (an older reporter's own).
 */
function linkOf(ws: WebSocket, dialect: () => ReporterDialect): ReporterLink {
  return {
    send: (frame) => {
      if (ws.readyState !== ws.OPEN) return;
      const d = dialect();
      const current = d.version === PROTOCOL_VERSION && !d.legacyNames;
      ws.send(current ? frame : labelled(frame, d), { binary: false });
    },
    close: (code, reason) => ws.close(code, reason),
  };
}

const CURRENT_DIALECT: ReporterDialect = { version: PROTOCOL_VERSION, legacyNames: false };

/** One frame pushed to thousands of links (a desired config) is labelled once per dialect. */
const labelledFrames = new WeakMap<Buffer, Map<string, string>>();

function labelled(frame: string | Buffer, d: ReporterDialect): string {
  if (typeof frame === "string") return frameForVersion(frame, d.version, d.legacyNames);
  const byDialect = labelledFrames.get(frame) ?? new Map<string, string>();
  labelledFrames.set(frame, byDialect);
  const key = `${d.version}:${d.legacyNames}`;
  let text = byDialect.get(key);
  if (text === undefined) {
    text = frameForVersion(frame.toString("utf8"), d.version, d.legacyNames);
    byDialect.set(key, text);
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
