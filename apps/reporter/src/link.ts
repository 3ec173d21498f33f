// The reporter's WebSocket link to the dashboard: authenticated connect, hello on every open,
// schema-checked messages both ways (anything malformed from the dashboard is logged and
// ignored), heartbeats with a liveness check, and reconnects with capped exponential backoff
// and jitter. Standalone: a benchmark can open thousands of these in one process.
import {
  APPLY_RESULT_SNAPSHOT,
  type BackoffPolicy,
  CAPABILITIES_HEADER,
  type Capability,
  CHAIN_DIGESTS,
  type DashboardMessage,
  DIGEST_HISTORY,
  decodeDashboardMessage,
  encodeMessage,
  type Hello,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  parseCapabilities,
  type ReporterMessage,
  reporterMessageSchema,
  retryDelay,
  SNAPSHOT_DIGESTS,
  toLegacyRevisionNames,
  UNHEARD_HEALS,
  zodReason,
} from "@masq/shared";
import WebSocket from "ws";
import { hedgedOpen } from "./link-hedge.js";
import { DEFAULT_LIVENESS, Liveness, type LivenessPolicy } from "./link-liveness.js";
import { type Grants, Outbox } from "./link-outbox.js";
import { type Logger, silentLogger } from "./log.js";

/** Reconnects: "equal jitter", between half and all of min(30 s, 800 ms·2^attempt). */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 800, maxMs: 30_000, jitter: [0.5, 1] };
export const DEFAULT_HEARTBEAT_MS = 15_000;

/** A fixed token, or a function read at every connect (projected tokens rotate). */
export type TokenSource = string | (() => string | Promise<string>);

export interface LinkOptions {
  /** ws(s)://HOST/api/reporter */
  url: string;
  token?: TokenSource;
  /** Built at every connect, so it carries the current applied revision. */
  hello: () => Hello;
  onMessage: (msg: DashboardMessage) => void;
  /** After hello was sent on a new connection (send the first snapshot here). */
  onOpen?: () => void;
  onClose?: (info: { code: number; reason: string }) => void;
  logger?: Logger;
  /** Until the dashboard's welcome says otherwise. */
  heartbeatMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** How a dashboard that stops answering is noticed (DEFAULT_LIVENESS). */
  liveness?: Partial<LivenessPolicy>;
  random?: () => number;
  /** Extra client options (TLS ca, agent...). */
  ws?: WebSocket.ClientOptions;
  /** Check outgoing messages against the protocol schema (default true). */
  validateOutgoing?: boolean;
  /**
   * Offer `chain-digests`, `snapshot-digests`, `apply-result-snapshot`, `unheard-heals` and
   * `digest-history` in the handshake (default true; false behaves as a reporter that knows
   * none; a list offers those alone, as the reporter of a release that knew only them): where
   * granted, snapshots name their rules by digest (each chain, or the whole part; those of the
   * last few snapshots written count as held), a post-apply snapshot rides in its
   * apply-result, and heals no dashboard heard may be sent (link-outbox.ts).
   */
  offerCapabilities?: boolean | readonly Capability[];
}

export interface LinkStats {
  connects: number;
  disconnects: number;
  sent: number;
  received: number;
  ignored: number;
  /** The longest the dashboard was silent (no frame or pong) on a live connection, ms. */
  maxSilentMs: number;
}

export interface Link {
  readonly connected: boolean;
  /** Sends when connected; false when dropped (not connected, invalid or too large). */
  send(msg: ReporterMessage): boolean;
  close(): Promise<void>;
  stats(): LinkStats;
}

function clampHeartbeat(ms: number): number {
  return Math.min(300_000, Math.max(1_000, ms));
}

async function resolveToken(token: TokenSource | undefined): Promise<string | undefined> {
  if (token === undefined) return undefined;
  const t = typeof token === "string" ? token : await token();
  return t.trim() || undefined;
}

/** The token of one connect: `{t}`, or undefined (logged) when it cannot be read. */
function tokenForConnect(
  token: TokenSource | undefined,
  log: Logger,
): Promise<{ t: string | undefined } | undefined> {
  return resolveToken(token).then(
    (t) => ({ t }),
    (e: Error) => void log.error({ err: e.message }, "cannot read the dashboard token"),
  );
}

/**
 * The frame of `msg`, or undefined (logged) when it is invalid or over MAX_FRAME_BYTES; in the
 * previous release's field names for a dashboard of that release (`legacyNames`).
 */
function frameOf(
  msg: ReporterMessage,
  opts: { validate: boolean; legacyNames: boolean },
  log: Logger,
): string | undefined {
  const validate = opts.validate;
  if (validate) {
    const r = reporterMessageSchema.safeParse(msg);
    if (!r.success) {
      log.error({ type: msg.type, reason: zodReason(r.error) }, "not sending an invalid message");
      return undefined;
    }
  }
  const text = opts.legacyNames ? JSON.stringify(toLegacyRevisionNames(msg)) : encodeMessage(msg);
  const bytes = Buffer.byteLength(text);
  if (bytes <= MAX_FRAME_BYTES) return text;
  log.error({ type: msg.type, bytes }, "message too large for the protocol; dropped");
  return undefined;
}

/** One connect attempt; its errors logged. */
function openSocket(
  opts: Pick<LinkOptions, "url" | "ws" | "offerCapabilities">,
  token: string | undefined,
  log: Logger,
): WebSocket {
  const o = opts.offerCapabilities;
  const offered = o === false ? "" : o === true || o === undefined ? OFFERED : o.join(", ");
  const offer = offered !== "";
  const socket = new WebSocket(opts.url, {
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(offer ? { [CAPABILITIES_HEADER]: offered } : {}),
    },
    maxPayload: MAX_FRAME_BYTES,
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
    ...opts.ws,
  });
  // An old dashboard ignores the offer and its 101 grants nothing (protocol-capabilities.ts).
  if (offer)
    socket.once("upgrade", (res) => {
      const granted = parseCapabilities(res.headers[CAPABILITIES_HEADER]);
      // Per chain wins should a dashboard grant both (ours never does).
      grantsOf.set(socket, {
        digests: granted.has(SNAPSHOT_DIGESTS) && !granted.has(CHAIN_DIGESTS),
        chains: granted.has(CHAIN_DIGESTS),
        fold: granted.has(APPLY_RESULT_SNAPSHOT),
        heals: granted.has(UNHEARD_HEALS),
        history: granted.has(DIGEST_HISTORY),
      });
    });
  return socket.on("error", (e) => log.warn({ err: e.message }, "dashboard link error"));
}

/** What each socket's dashboard granted in the handshake (absent: nothing). */
const grantsOf = new WeakMap<WebSocket, Grants>();
const NOTHING: Grants = {
  digests: false,
  chains: false,
  fold: false,
  heals: false,
  history: false,
};
/** Offered on every upgrade request (`offerCapabilities: false` offers nothing). */
const OFFERED = [
  CHAIN_DIGESTS,
  SNAPSHOT_DIGESTS,
  APPLY_RESULT_SNAPSHOT,
  UNHEARD_HEALS,
  DIGEST_HISTORY,
].join(", ");

/** Closes cleanly (1000), terminating a socket still connecting or not closed within 1 s. */
function closeSocket(socket: WebSocket | undefined): Promise<void> {
  if (!socket || socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const force = setTimeout(() => socket.terminate(), 1_000);
    socket.once("close", () => {
      clearTimeout(force);
      resolve();
    });
    if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
    else socket.close(1000, "reporter stopping");
  });
}

/**
 * The dashboard's message in a frame, or undefined (counted, logged) when it is malformed;
 * `legacy`: it used the previous release's field names (a dashboard of that release).
 */
function decodeFrame(
  data: WebSocket.RawData,
  stats: Omit<LinkStats, "maxSilentMs">,
  log: Logger,
): { msg: DashboardMessage; legacy: boolean } | undefined {
  stats.received++;
  const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
  const decoded = decodeDashboardMessage(raw);
  if (decoded.ok) return { msg: decoded.msg, legacy: decoded.legacy === true };
  stats.ignored++;
  log.warn({ reason: decoded.reason }, "ignored a malformed message from the dashboard");
  return undefined;
}

/**
 * Does a dashboard's refusal say it is of the previous release, which names the applied
 * revision `appliedGeneration` and refuses the unknown `appliedRevision` of our hello?
 */
export function refusedForRevisionNames(msg: DashboardMessage): boolean {
  return msg.type === "error" && /\bappliedRevision\b/.test(msg.reason);
}

/** A handler that throws is logged; the link goes on. */
function deliver(handler: (m: DashboardMessage) => void, msg: DashboardMessage, log: Logger) {
  try {
    handler(msg);
  } catch (e) {
    log.error({ err: (e as Error).message, type: msg.type }, "message handler failed");
  }
}

/** A heartbeat frame every `ms` (the dashboard's welcome sets it): this reporter's sign of life. */
class Heartbeat {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private ms: number,
    private readonly beat: () => void,
  ) {}

  /** (Re)starts beating, at a new interval when given. */
  start(ms = this.ms): void {
    this.ms = ms;
    clearInterval(this.timer);
    this.timer = setInterval(this.beat, this.ms);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Frames both ways, in the field names the dashboard speaks: the previous release's
 * (`generation`) from the moment it shows it (a `desired` in those names, or a refusal of our
 * hello's `appliedRevision`), until a dashboard grants a capability (one of this release).
 */
class FrameCodec {
  legacyNames = false;

  readonly stats: Omit<LinkStats, "maxSilentMs"> = {
    connects: 0,
    disconnects: 0,
    sent: 0,
    received: 0,
    ignored: 0,
  };

  constructor(
    private readonly log: Logger,
    private readonly validate: boolean,
  ) {}

  /** What this connection's handshake granted decides how messages go (link-outbox.ts). */
  readonly outbox = new Outbox(
    (msg) => this.encode(msg),
    () => this.stats.sent++,
  );

  /**
   * A new connection (counted), with what its handshake granted. A dashboard granting any
   * capability is of this release: it is spoken to in this release's names, whatever an
   * earlier one was (a result carrying its snapshot in the previous release's names is a frame
   * no dashboard reads: break8).
   */
  opened(grants: Grants): void {
    this.stats.connects++;
    if (grants.digests || grants.chains || grants.fold || grants.heals || grants.history)
      this.legacyNames = false;
    this.outbox.opened(grants);
  }

  encode(msg: ReporterMessage): string | undefined {
    return frameOf(msg, { validate: this.validate, legacyNames: this.legacyNames }, this.log);
  }

  /** Sends `msg` on `ws`; false when there is no socket or the message is dropped. */
  sendOn(ws: WebSocket | undefined, msg: ReporterMessage): boolean {
    return ws !== undefined && this.outbox.send(ws, msg);
  }

  /** The dashboard's message for the agent; a `snapshot-request` is answered here on `ws`. */
  decode(data: WebSocket.RawData, ws: WebSocket | undefined): DashboardMessage | undefined {
    const d = decodeFrame(data, this.stats, this.log);
    if (d?.msg.type === "snapshot-request") return void this.outbox.answerRequest(ws);
    if (d?.msg.type === "desired") this.outbox.desired(d.msg);
    if (d && !this.legacyNames && (d.legacy || refusedForRevisionNames(d.msg))) {
      this.legacyNames = true;
      this.log.info("the dashboard is of the previous release: speaking its field names");
    }
    return d?.msg;
  }
}

export function createLink(opts: LinkOptions): Link {
  const log = opts.logger ?? silentLogger();
  const backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
  let ws: WebSocket | undefined;
  let open = false;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  const codec = new FrameCodec(log, opts.validateOutgoing !== false);

  const send = (msg: ReporterMessage): boolean => open && codec.sendOn(ws, msg);

  const beat = new Heartbeat(clampHeartbeat(opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS), () => {
    if (ws && open) send({ type: "heartbeat", v: PROTOCOL_VERSION, ts: Date.now() });
  });
  const policy = { ...DEFAULT_LIVENESS, ...opts.liveness };
  // Set when the dashboard went silent: the next connect races attempts (link-hedge.ts).
  let lostSilent = false;
  let cancelOpen: (() => void) | undefined;
  const alive = new Liveness(policy, log, {
    ping: () => ws?.ping(),
    dead: () => {
      lostSilent = true;
      ws?.terminate();
    },
  });
  const onFrame = (data: WebSocket.RawData) => {
    alive.seen();
    const msg = codec.decode(data, ws);
    if (msg?.type === "welcome") {
      attempt = 0;
      beat.start(clampHeartbeat(msg.heartbeatMs));
    }
    if (msg) deliver(opts.onMessage, msg, log);
  };

  const scheduleReconnect = () => {
    if (closed) return;
    const delay = retryDelay(attempt++, backoff, opts.random);
    log.debug({ delayMs: delay, attempt }, "reconnecting to the dashboard");
    retryTimer = setTimeout(connect, delay);
  };

  /** The socket that opened: hello, first snapshot, liveness, and a reconnect when it closes. */
  function adopt(socket: WebSocket): void {
    ws = socket;
    open = true;
    lostSilent = false;
    const openedAt = Date.now();
    codec.opened(grantsOf.get(socket) ?? NOTHING);
    log.info({ url: opts.url }, "connected to the dashboard");
    socket.on("message", onFrame);
    socket.on("pong", () => alive.seen());
    socket.on("close", (code, reason) => {
      if (ws === socket) ws = undefined;
      beat.stop();
      alive.stop();
      codec.stats.disconnects++;
      if (Date.now() - openedAt > 60_000) attempt = 0;
      open = false;
      opts.onClose?.({ code, reason: reason.toString() });
      scheduleReconnect();
    });
    alive.start();
    send(opts.hello());
    beat.start();
    opts.onOpen?.();
  }

  async function connect(): Promise<void> {
    retryTimer = undefined;
    if (closed) return;
    const token = await tokenForConnect(opts.token, log);
    if (!token) return scheduleReconnect();
    if (closed) return;
    cancelOpen = hedgedOpen(
      () => openSocket(opts, token.t, log),
      { hedgeMs: policy.hedgeMs, max: lostSilent ? 3 : 1 },
      (socket) => {
        cancelOpen = undefined;
        if (socket) return adopt(socket);
        opts.onClose?.({ code: 1006, reason: "connect failed" });
        scheduleReconnect();
      },
    );
  }

  void connect();

  return {
    get connected() {
      return open;
    },
    send,
    stats: () => ({ ...codec.stats, maxSilentMs: alive.maxSilentMs }),
    close() {
      closed = true;
      clearTimeout(retryTimer);
      cancelOpen?.();
      beat.stop();
      alive.stop();
      return closeSocket(ws);
    },
  };
}
