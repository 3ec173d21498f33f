// The reporter daemon: wires the backend (rules), its watcher (changes), the enforcer (writes)
// and the dashboard link. Reads are serialized and coalesced; a snapshot goes to the dashboard
// on connect and whenever what the node has changes. Linux backends report family snapshots
// (`linux`), the Windows CNI backend one snapshot of its file (`windows`).
import {
  type AgentFlags,
  type DashboardMessage,
  type FamilySnapshot,
  type HealPolicy,
  type Hello,
  type Mode,
  PROTOCOL_VERSION,
  type Snapshot,
  type WindowsSnapshot,
} from "@masq/shared";
import {
  type Backend,
  type BackendInfo,
  isWindowsObserved,
  type Observed,
  type Watch,
} from "./backend/types.js";
import type { DesiredConfig } from "./enforce/config-sources.js";
import { createEnforcer, type Enforcer } from "./enforcer.js";
import { createLink, type Link, type LinkOptions, type TokenSource } from "./link.js";
import { type Logger, silentLogger } from "./log.js";
import { createMetrics, type Metrics, type OpsServer, serveOps } from "./metrics.js";
import { createStateStore } from "./state.js";
import { REPORTER_VERSION } from "./version.js";

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

export interface AgentStatus {
  started: boolean;
  connected: boolean;
  seq: number;
  /** Linux: the last family snapshots. */
  snapshots: FamilySnapshot[] | undefined;
  /** Windows: the last snapshot of the CNI config. */
  windows: WindowsSnapshot | undefined;
  lastReadAt: number | null;
  appliedGeneration: number | null;
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
  let stopped = false;
  let seq = 0;
  let last: { observed: Observed; key: string; at: number } | undefined;
  let lastReadAt: number | null = null;
  let reading: Promise<void> | undefined;
  let again = false;

  const enforcer = createEnforcer({
    backend,
    mode,
    heal: opts.heal ?? "next-resync",
    store: opts.stateDir ? createStateStore(opts.stateDir) : undefined,
    configFile: opts.configFile,
    fileCheckMs: opts.fileCheckMs,
    logger: log.child({ module: "enforcer" }),
    metrics,
    onResult: (r) => link?.send(r),
    onSnapshots: (snaps) => take(snaps),
  });

  const snapshotMessage = (observed: Observed): Snapshot => ({
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: seq++,
    takenAt: Date.now(),
    ...(isWindowsObserved(observed) ? { windows: observed } : { linux: observed }),
    appliedGeneration: enforcer.appliedGeneration(),
    schedule: enforcer.schedule(),
  });

  const readFailed = (o: Observed) =>
    isWindowsObserved(o) ? o.readError !== undefined : o.some((s) => s.readError);

  /** A fresh view of the node: report it when it changed, and let the enforcer judge it. */
  function take(observed: Observed) {
    lastReadAt = Date.now();
    metrics.lastRead.set(lastReadAt / 1000);
    // The generation is part of what is reported: the same rules read again after an apply
    // is news when they now belong to a newer generation.
    const key = `${enforcer.appliedGeneration()}#${JSON.stringify(observed)}`;
    if (key !== last?.key) {
      last = { observed, key, at: lastReadAt };
      link?.send(snapshotMessage(observed));
    }
    enforcer.observe(observed);
  }

  async function readOnce() {
    try {
      const observed: Observed = await backend.read();
      metrics.reads.inc({ result: readFailed(observed) ? "error" : "ok" });
      if (!stopped) take(observed);
    } catch (e) {
      metrics.reads.inc({ result: "error" });
      log.error(
        { err: (e as Error).message },
        windows ? "reading the CNI config failed" : "reading the chains failed",
      );
    }
  }

  /** At most one read at a time; requests during a read cause exactly one more. */
  function refresh(): Promise<void> {
    if (reading) {
      again = true;
      return reading;
    }
    reading = (async () => {
      do {
        again = false;
        await readOnce();
      } while (again && !stopped);
      reading = undefined;
    })();
    return reading;
  }

  const hello = (): Hello => ({
    type: "hello",
    v: PROTOCOL_VERSION,
    node: opts.nodeName,
    os: windows ? "windows" : "linux",
    kernel: info?.kernel ?? "",
    iptablesVersion: info?.iptablesVersion ?? "",
    backend: info?.backend ?? (windows ? "cni" : "nf_tables"),
    ...(info?.ruleBackends ? { ruleBackends: info.ruleBackends } : {}),
    randomFullySupported: info?.randomFullySupported ?? false,
    mode,
    flags: flags!,
    reporterVersion: REPORTER_VERSION,
    appliedGeneration: enforcer.appliedGeneration(),
  });

  function onMessage(msg: DashboardMessage) {
    if (msg.type === "desired") void enforcer.receive(msg);
    else if (msg.type === "resync") {
      log.info({ requestId: msg.requestId }, "resync requested");
      void enforcer.resync("resync").then(() => {
        // observe mode (or nothing to write): still answer with what the node has now.
        if (last) link?.send(snapshotMessage(last.observed));
        return refresh();
      });
    } else if (msg.type === "error")
      log.warn({ reason: msg.reason }, "dashboard reported an error");
  }

  function connect(d: DashboardOptions) {
    link = createLink({
      ...d.link,
      url: d.url,
      token: d.token,
      logger: log.child({ module: "link" }),
      hello,
      onMessage,
      onOpen: () => {
        metrics.connected.set(1);
        if (last) link?.send(snapshotMessage(last.observed));
        void refresh();
      },
      onClose: () => metrics.connected.set(0),
    });
  }

  async function startAll() {
    info = await backend.info();
    flags = await backend.effectiveFlags();
    log.info({ node: opts.nodeName, mode, ...info, flags }, "reporter starting");
    if (opts.metricsPort !== undefined) {
      ops = await serveOps({ port: opts.metricsPort, host: opts.metricsHost, metrics, healthy });
    }
    await enforcer.start();
    await refresh();
    watch = backend.watch(() => void refresh());
    if (opts.dashboard) connect(opts.dashboard);
    started = true;
  }

  async function stopAll() {
    stopped = true;
    watch?.close();
    await enforcer.stop();
    await link?.close();
    await reading;
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
    status: () => ({
      started,
      connected: link?.connected ?? false,
      seq,
      snapshots: last && !isWindowsObserved(last.observed) ? last.observed : undefined,
      windows: last && isWindowsObserved(last.observed) ? last.observed : undefined,
      lastReadAt,
      appliedGeneration: enforcer.appliedGeneration(),
      desired: enforcer.desired(),
      info,
      opsPort: ops?.port,
    }),
  };
}
