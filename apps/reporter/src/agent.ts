// The reporter daemon: wires the backend (rules), its watcher (changes), the enforcer (writes)
// and the dashboard link. Reads are serialized and coalesced; a snapshot goes to the dashboard
// on connect and whenever what the node has changes. Linux backends report family snapshots
// (`linux`), the Windows CNI backend one snapshot of its file (`windows`).
import type {
  AgentFlags,
  DashboardMessage,
  FamilySnapshot,
  HealPolicy,
  Hello,
  Mode,
  NftSnapshot,
  WindowsSnapshot,
} from "@masq/shared";
import { helloMessage, snapshotMessage } from "./agent/messages.js";
import { NodeReader } from "./agent/node-reader.js";
import { UnheardHeals } from "./agent/unheard-heals.js";
import { type HealsFile, healsFile, type KeptHeals } from "./agent/unheard-heals-file.js";
import {
  type Backend,
  type BackendInfo,
  isNftObserved,
  isWindowsObserved,
  type Observed,
  type Watch,
} from "./backend/types.js";
import type { DesiredConfig } from "./enforce/config-sources.js";
import { createEnforcer, type Enforcer, type EnforcerOptions, type Heal } from "./enforcer.js";
import { createLink, type Link, type LinkOptions, type TokenSource } from "./link.js";
import { type Logger, silentLogger } from "./log.js";
import { createMetrics, type Metrics, type OpsServer, serveOps } from "./metrics.js";
import { createStateStore } from "./state.js";

export interface DashboardOptions {
  url: string;
  token?: TokenSource;
  /** Fine-tuning of the link (backoff, heartbeat, TLS). */
  link?: Partial<Omit<LinkOptions, "url" | "token" | "hello" | "onMessage" | "onOpen">>;
}

export interface AgentOptions {
  nodeName: string;
  backend: Backend;
  mode?: Mode;
  heal?: HealPolicy;
  /** Where the last applied config is kept; no persistence when absent. */
  stateDir?: string;
  configFile?: string;
  fileCheckMs?: number;
  dashboard?: DashboardOptions;
  /** Serve /healthz and /metrics on this port (0: any free port). */
  metricsPort?: number;
  metricsHost?: string;
  logger?: Logger;
  metrics?: Metrics;
  /** A read older than this makes /healthz fail (default 60 s). */
  staleReadMs?: number;
}

/** The link to the dashboard; on every (re)connect the last read is sent, then a fresh one. */
function linkTo(
  d: DashboardOptions,
  c: Pick<LinkOptions, "hello" | "onMessage" | "onOpen"> & { log: Logger; metrics: Metrics },
): Link {
  return createLink({
    ...d.link,
    url: d.url,
    token: d.token,
    logger: c.log.child({ module: "link" }),
    hello: c.hello,
    onMessage: c.onMessage,
    onOpen: () => {
      c.metrics.connected.set(1);
      c.onOpen?.();
    },
    onClose: () => c.metrics.connected.set(0),
  });
}

function enforcerFor(
  opts: AgentOptions,
  log: Logger,
  metrics: Metrics,
  report: Pick<EnforcerOptions, "onResult" | "onSnapshots" | "onHeal">,
): Enforcer {
  return createEnforcer({
    backend: opts.backend,
    mode: opts.mode ?? "enforce",
    heal: opts.heal ?? "next-resync",
    store: opts.stateDir ? createStateStore(opts.stateDir) : undefined,
    configFile: opts.configFile,
    fileCheckMs: opts.fileCheckMs,
    logger: log.child({ module: "enforcer" }),
    metrics,
    ...report,
  });
}

/** A heal's handler: kept when the link exists but is not open (nobody heard its result). */
function keepUnheard(unheard: UnheardHeals, link: () => Link | undefined, log: Logger) {
  return (h: Heal) => {
    const l = link();
    if (!l || l.connected) return;
    unheard.add(h);
    log.info({ ...h, ...unheard.count() }, "healed drift while the dashboard link was down");
  };
}

/**
 * The state dir's copy of the unheard heals (none without a state dir): every change written,
 * a failed write logged (the heals stay in memory); what a start finds is restored.
 */
function keptHeals(stateDir: string | undefined, log: Logger) {
  const file: HealsFile | undefined = stateDir ? healsFile(stateDir) : undefined;
  let last: Promise<void> = Promise.resolve();
  const changed = (kept: KeptHeals) => {
    if (!file) return;
    last = file
      .save(kept)
      .catch((e: Error) =>
        log.warn({ err: e.message, path: file.path }, "could not keep the unheard heals"),
      );
  };
  const unheard = new UnheardHeals(undefined, changed);
  return {
    unheard,
    async restore() {
      const r = await file?.load();
      if (!r) return;
      if (!r.ok) log.warn({ reason: r.reason }, "unheard heals from before the restart refused");
      else if (r.kept) {
        unheard.restore(r.kept);
        log.info(unheard.count(), "heals no dashboard heard, kept from before the restart");
      }
    },
    written: () => last,
  };
}

/** What the dashboard asks: a desired config, a resync (answered with a fresh read), or news of an error. */
function handleMessage(
  msg: DashboardMessage,
  c: { enforcer: Enforcer; log: Logger; refresh: () => Promise<void>; resend: () => void },
): void {
  if (msg.type === "desired") void c.enforcer.receive(msg);
  else if (msg.type === "resync") {
    c.log.info({ requestId: msg.requestId }, "resync requested");
    void c.enforcer.resync("resync").then(() => {
      c.resend();
      return c.refresh();
    });
  } else if (msg.type === "error")
    c.log.warn({ reason: msg.reason }, "dashboard reported an error");
}

function statusOf(s: {
  started: boolean;
  link: Link | undefined;
  seq: number;
  last: Observed | undefined;
  lastReadAt: number | null;
  enforcer: Enforcer;
  info: BackendInfo | undefined;
  ops: OpsServer | undefined;
}): AgentStatus {
  const last = s.last;
  return {
    started: s.started,
    connected: s.link?.connected ?? false,
    seq: s.seq,
    snapshots:
      last && Array.isArray(last) ? last : last && isNftObserved(last) ? last.linux : undefined,
    nftables: last && isNftObserved(last) ? last.nftables : undefined,
    windows: last && isWindowsObserved(last) ? last : undefined,
    lastReadAt: s.lastReadAt,
    appliedRevision: s.enforcer.appliedRevision(),
    desired: s.enforcer.desired(),
    info: s.info,
    opsPort: s.ops?.port,
  };
}

export interface AgentStatus {
  started: boolean;
  connected: boolean;
  seq: number;
  /** Linux: the last family snapshots. */
  snapshots: FamilySnapshot[] | undefined;
  /** A native nftables node: the last nftables snapshot (its iptables part is `snapshots`). */
  nftables: NftSnapshot | undefined;
  /** Windows: the last snapshot of the CNI config. */
  windows: WindowsSnapshot | undefined;
  lastReadAt: number | null;
  appliedRevision: number | null;
  desired: DesiredConfig | undefined;
  info: BackendInfo | undefined;
  opsPort: number | undefined;
}

export interface Agent {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reads the node now and reports it if it changed. */
  refresh(): Promise<void>;
  status(): AgentStatus;
  healthy(): boolean;
  readonly metrics: Metrics;
  readonly enforcer: Enforcer;
}

export function createAgent(opts: AgentOptions): Agent {
  const log = opts.logger ?? silentLogger();
  const metrics = opts.metrics ?? createMetrics();
  const backend = opts.backend;
  const mode = opts.mode ?? "enforce";
  const windows = backend.os === "windows";
  let info: BackendInfo | undefined;
  let flags: AgentFlags | undefined;
  let watch: Watch | undefined;
  let link: Link | undefined;
  let ops: OpsServer | undefined;
  let started = false;
  let seq = 0;
  let last: { observed: Observed; key: string; at: number } | undefined;
  let lastReadAt: number | null = null;
  /** Heals made while the link was not open, for the next dashboard that can hear them. */
  const { unheard, ...healsKept } = keptHeals(opts.stateDir, log);

  const enforcer = enforcerFor(opts, log, metrics, {
    onResult: (r) => link?.send(r),
    onSnapshots: (snaps) => take(snaps),
    onHeal: keepUnheard(unheard, () => link, log),
  });

  const snapshot = (observed: Observed) => snapshotMessage(seq++, observed, enforcer);
  const reader = new NodeReader({ backend, metrics, log, onRead: (o) => take(o) });
  const refresh = () => reader.refresh();

  /** A fresh view of the node: report it when it changed, and let the enforcer judge it. */
  function take(observed: Observed) {
    lastReadAt = Date.now();
    metrics.lastRead.set(lastReadAt / 1000);
    // The revision is part of what is reported: the same rules read again after an apply
    // is news when they now belong to a newer revision.
    const key = `${enforcer.appliedRevision()}#${JSON.stringify(observed)}`;
    if (key !== last?.key) {
      last = { observed, key, at: lastReadAt };
      link?.send(snapshot(observed));
    }
    enforcer.observe(observed);
  }

  const hello = (): Hello =>
    helloMessage({
      nodeName: opts.nodeName,
      os: windows ? "windows" : "linux",
      mode,
      info,
      flags: flags!,
      appliedRevision: enforcer.appliedRevision(),
    });

  const onMessage = (msg: DashboardMessage) =>
    handleMessage(msg, { enforcer, log, refresh, resend });
  /** The last read again (a resync in observe mode, or with nothing to write, still answers). */
  const resend = () => {
    if (last) link?.send(snapshot(last.observed));
  };

  const onOpen = () => {
    // Right after hello, before any read: the link writes them only where granted.
    unheard.flush((m) => link?.send(m) ?? false);
    resend();
    void refresh();
  };

  async function startAll() {
    [info] = await Promise.all([backend.info(), healsKept.restore()]);
    flags = await backend.effectiveFlags();
    // The node name is bound into every line by the logger (cli/run.ts).
    log.info({ mode, ...info, flags }, "reporter starting");
    if (opts.metricsPort !== undefined) {
      ops = await serveOps({ port: opts.metricsPort, host: opts.metricsHost, metrics, healthy });
    }
    await enforcer.start();
    await refresh();
    watch = backend.watch(() => void refresh());
    if (opts.dashboard) link = linkTo(opts.dashboard, { log, metrics, hello, onMessage, onOpen });
    started = true;
  }

  async function stopAll() {
    watch?.close();
    await enforcer.stop();
    await Promise.all([link?.close(), healsKept.written()]);
    await reader.stop();
    await ops?.close();
    metrics.connected.set(0);
    started = false;
  }

  const healthy = () =>
    started && lastReadAt !== null && Date.now() - lastReadAt < (opts.staleReadMs ?? 60_000);

  return {
    metrics,
    enforcer,
    refresh,
    healthy,
    async start() {
      try {
        await startAll();
      } catch (e) {
        // Leave nothing running (ports, timers, children) so a failed start can exit.
        await stopAll().catch(() => {});
        throw e;
      }
    },
    stop: stopAll,
    status: () =>
      statusOf({ started, link, seq, last: last?.observed, lastReadAt, enforcer, info, ops }),
  };
}
