// A protocol-level reporter for tests and the fleet benchmark: speaks the shared protocol
// over `ws`, keeps an in-memory "node" (its chain as `iptables -S` lines) and applies desired
// configs with the shared renderer. The real reporter (apps/reporter) replaces it in the
// end-to-end tests.
import {
  type AgentFlags,
  type DashboardMessage,
  DEFAULT_FLAGS,
  decodeDashboardMessage,
  desiredChain,
  desiredExceptions,
  encodeMessage,
  type FamilySnapshot,
  familiesFor,
  jumpRuleLine,
  type MasqConfig,
  PROTOCOL_VERSION,
  REPORTER_PATH,
  type ReporterMessage,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import WebSocket from "ws";

export interface SimOptions {
  url: string;
  token: string;
  node: string;
  mode?: "enforce" | "observe";
  os?: "linux" | "windows";
  flags?: Partial<AgentFlags>;
  /** Apply desired configs and answer with apply-result + snapshot (default true). */
  autoApply?: boolean;
  /** Make applies fail with this error. */
  failApplies?: string;
  /** Rules present before any apply (default: none, the chain does not exist). */
  initialConfig?: MasqConfig;
  /** Wait for the welcome frame (default true). */
  waitWelcome?: boolean;
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
  families: FamilySnapshot[];
  /** Windows nodes: the OutBoundNAT ExceptionList. */
  exceptions: string[] = [];
  appliedGeneration: number | null = null;
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

  hello(): ReporterMessage {
    return helloFor(this.opts.node, {
      os: this.opts.os ?? "linux",
      backend: this.opts.os === "windows" ? "cni" : "memory",
      mode: this.opts.mode ?? "enforce",
      flags: this.flags,
      appliedGeneration: this.appliedGeneration,
    });
  }

  send(msg: ReporterMessage): void {
    this.ws.send(encodeMessage(msg));
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
      appliedGeneration: this.appliedGeneration,
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
    this.send({ ...base, linux: this.families });
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

  private onMessage(data: Buffer): void {
    const d = decodeDashboardMessage(data);
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
    if (m.type === "desired") this.apply(m.config, m.generation, "desired");
    if (m.type === "resync" && this.lastDesired)
      this.apply(this.lastDesired, this.appliedGeneration, "resync");
  }

  private apply(
    config: MasqConfig,
    generation: number | null,
    trigger: "desired" | "resync",
  ): void {
    this.lastDesired = config;
    if (this.failApplies) {
      this.send({
        type: "apply-result",
        v: PROTOCOL_VERSION,
        generation,
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
    this.appliedGeneration = generation;
    this.send({
      type: "apply-result",
      v: PROTOCOL_VERSION,
      generation,
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
