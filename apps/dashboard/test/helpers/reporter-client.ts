// A protocol-level reporter for tests and the fleet benchmark: speaks the shared protocol
// (the current version, or v1 as the previous release did) over `ws`, keeps an in-memory
// "node" (its POSTROUTING and agent chain as `iptables -S` lines) and applies desired configs
// with the shared renderer. The real reporter (apps/reporter) replaces it in the end-to-end
// tests.
import {
  type AgentFlags,
  type DashboardMessage,
  DEFAULT_FLAGS,
  dashboardMessageSchema,
  desiredChain,
  desiredExceptions,
  encodeMessage,
  type FamilySnapshotV1,
  familiesFor,
  fromLegacyRevisionNames,
  hasLegacyRevisionNames,
  jumpRuleLine,
  type MasqConfig,
  type Mode,
  type NodeOs,
  PROTOCOL_VERSION,
  type ProtocolVersion,
  parseFrame,
  REPORTER_PATH,
  type ReporterMessage,
  snapshotOf,
  toLegacyRevisionNames,
  validateMessage,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import WebSocket from "ws";

export interface SimOptions {
  url: string;
  token: string;
  node: string;
  mode?: Mode;
  os?: NodeOs;
  flags?: Partial<AgentFlags>;
  /** Apply desired configs and answer with apply-result + snapshot (default true). */
  autoApply?: boolean;
  /** Make applies fail with this error. */
  failApplies?: string;
  /** Rules present before any apply (default: none, the chain does not exist). */
  initialConfig?: MasqConfig;
  /** Wait for the welcome frame (default true). */
  waitWelcome?: boolean;
  /** The protocol version spoken (default the current one; 1 plays a reporter of the previous release). */
  protocol?: ProtocolVersion;
  /** Speak the previous release's field names (`generation`); default: with protocol 1. */
  legacyNames?: boolean;
}

export interface Closed {
  code: number;
  reason: string;
}

export class SimReporter {
  readonly received: DashboardMessage[] = [];
  readonly flags: AgentFlags;
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  /** The node per family: the agent chain (null: missing) and POSTROUTING, as `-S` lines. */
  families: FamilySnapshotV1[];
  /** Windows nodes: the OutBoundNAT ExceptionList. */
  exceptions: string[] = [];
  appliedRevision: number | null = null;
  lastDesired: MasqConfig | undefined;
  failApplies: string | undefined;
  private seq = 0;
  private waiters: {
    pred: (m: DashboardMessage) => boolean;
    resolve: (m: DashboardMessage) => void;
  }[] = [];

  private constructor(
    readonly opts: SimOptions,
    readonly ws: WebSocket,
  ) {
    this.flags = { ...DEFAULT_FLAGS, ...opts.flags };
    this.failApplies = opts.failApplies;
    this.families = familiesFor(this.flags).map((family) => ({
      family,
      chain: null,
      postrouting: ["-P POSTROUTING ACCEPT"],
    }));
    if (opts.initialConfig) this.render(opts.initialConfig);
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`upgrade refused: ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
    ws.on("message", (data) => this.onMessage(data as Buffer));
  }

  /** Opens the connection and (by default) says hello and waits for the welcome. */
  static async connect(opts: SimOptions): Promise<SimReporter> {
    const ws = new WebSocket(opts.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: { authorization: `Bearer ${opts.token}` },
      maxPayload: 1024 * 1024,
    });
    const r = new SimReporter(opts, ws);
    await r.opened;
    r.send(r.hello());
    if (opts.waitWelcome !== false) await r.waitFor((m) => m.type === "welcome");
    return r;
  }

  /** Opens the connection without saying anything (bad-input tests). */
  static async raw(opts: SimOptions): Promise<SimReporter> {
    const ws = new WebSocket(opts.url.replace(/^http/, "ws") + REPORTER_PATH, {
      headers: { authorization: `Bearer ${opts.token}` },
      maxPayload: 1024 * 1024,
    });
    const r = new SimReporter(opts, ws);
    await r.opened;
    return r;
  }

  get protocol(): ProtocolVersion {
    return this.opts.protocol ?? PROTOCOL_VERSION;
  }

  hello(): ReporterMessage {
    return helloFor(this.opts.node, {
      os: this.opts.os ?? "linux",
      backend: this.opts.os === "windows" ? "cni" : "memory",
      mode: this.opts.mode ?? "enforce",
      flags: this.flags,
      appliedRevision: this.appliedRevision,
    });
  }

  /** Sends a message in the version this reporter speaks (v1: its two-chain snapshot shape). */
  send(msg: ReporterMessage): void {
    if (this.protocol === PROTOCOL_VERSION && !this.legacyNames) {
      this.ws.send(encodeMessage(msg));
      return;
    }
    const labelled = this.protocol === 1 ? asV1(msg, this.families) : msg;
    this.ws.send(JSON.stringify(this.legacyNames ? toLegacyRevisionNames(labelled) : labelled));
  }

  /** Whether this reporter speaks the previous release's field names. */
  get legacyNames(): boolean {
    return this.opts.legacyNames ?? this.protocol === 1;
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  snapshot(): void {
    const base = {
      type: "snapshot",
      v: PROTOCOL_VERSION,
      seq: this.seq++,
      takenAt: Date.now(),
      appliedRevision: this.appliedRevision,
    } as const;
    if (this.opts.os === "windows") {
      const lists = [
        {
          pointer: "/plugins/0/policies/0/value/Settings/Exceptions",
          form: "OutBoundNAT" as const,
          exceptions: this.exceptions,
        },
      ];
      this.send({ ...base, windows: { path: "C:/k/cni/config/10-bridge.conf", lists } });
      return;
    }
    const linux = this.families.map((f) => snapshotOf({ ...f, masqChain: this.flags.masqChain }));
    this.send({ ...base, linux });
  }

  /** Edits the node's chain by hand (like `iptables -D`), then reports it. */
  handEdit(edit: (chain: string[]) => string[]): void {
    this.families = this.families.map((f) => ({ ...f, chain: edit(f.chain ?? []) }));
    this.snapshot();
  }

  waitFor(pred: (m: DashboardMessage) => boolean, timeoutMs = 5000): Promise<DashboardMessage> {
    const hit = this.received.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`${this.opts.node}: no matching message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        pred,
        resolve: (m) => {
          clearTimeout(t);
          resolve(m);
        },
      });
    });
  }

  close(): Promise<Closed> {
    this.ws.close();
    return this.closed;
  }

  /** A dashboard frame, which must be labelled with the version this reporter speaks. */
  private onMessage(data: Buffer): void {
    const frame = parseFrame(data);
    const value = frame.ok ? (frame.value as { v?: unknown; type?: unknown }) : undefined;
    if (value?.v !== this.protocol)
      throw new Error(`dashboard sent a frame not in protocol v${this.protocol}: ${data}`);
    // Names of the other release are refused, as a reporter of either release would.
    if (hasLegacyRevisionNames(value) !== (this.legacyNames && value.type === "desired"))
      throw new Error(
        `dashboard sent a frame not in the field names this reporter speaks: ${data}`,
      );
    const current = fromLegacyRevisionNames({ ...value, v: PROTOCOL_VERSION });
    const d = validateMessage(dashboardMessageSchema, current);
    if (!d.ok) throw new Error(`dashboard sent an invalid frame: ${d.reason}`);
    const m = d.msg;
    this.received.push(m);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(m)) return true;
      w.resolve(m);
      return false;
    });
    if (m.type === "welcome" && this.opts.autoApply !== false) this.snapshot();
    if (this.opts.autoApply === false || (this.opts.mode ?? "enforce") !== "enforce") return;
    if (m.type === "desired") this.apply(m.config, m.revision, "desired");
    if (m.type === "resync" && this.lastDesired)
      this.apply(this.lastDesired, this.appliedRevision, "resync");
  }

  private apply(config: MasqConfig, revision: number | null, trigger: "desired" | "resync"): void {
    this.lastDesired = config;
    if (this.failApplies) {
      this.send({
        type: "apply-result",
        v: PROTOCOL_VERSION,
        revision,
        ok: false,
        error: this.failApplies,
        durationMs: 1,
        trigger,
        changed: false,
      });
      return;
    }
    const before = JSON.stringify(this.families);
    this.render(config);
    this.appliedRevision = revision;
    this.send({
      type: "apply-result",
      v: PROTOCOL_VERSION,
      revision,
      ok: true,
      durationMs: 1,
      trigger,
      changed: before !== JSON.stringify(this.families),
    });
    this.snapshot();
  }

  private render(config: MasqConfig): void {
    this.exceptions = desiredExceptions(config);
    this.families = familiesFor(this.flags).map((family) => {
      const d = desiredChain(config, this.flags, family);
      return {
        family,
        chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
        postrouting: ["-P POSTROUTING ACCEPT", jumpRuleLine(d.chain)],
      };
    });
  }
}

/** A message as a reporter of protocol v1 sent it (a snapshot held the two chains per family). */
function asV1(
  msg: ReporterMessage,
  families: FamilySnapshotV1[],
): { type: string; [k: string]: unknown } {
  if (msg.type === "hello") {
    const { ruleBackends: _r, ...rest } = msg;
    return { ...rest, v: 1 };
  }
  if (msg.type === "snapshot" && msg.linux) return { ...msg, v: 1, linux: families };
  return { ...msg, v: 1 };
}
