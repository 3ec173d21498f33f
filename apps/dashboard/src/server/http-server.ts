// The dashboard server: one node:http server on one port for the JSON API, the probes and
// metrics, the reporter WebSocket gateway (/api/reporter) and, when enabled, Next.js for
// everything else. Next is optional so the API can be tested without a Next build.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import {
  type AgentFlags,
  ALL_AT_ONCE,
  type Capability,
  type FleetSummary,
  REPORTER_PATH,
  type ReporterPods,
  type Rollout,
  type RolloutStrategy,
} from "@masq/shared";
import type { Logger } from "pino";
import { authRoutes } from "./api/auth-routes.js";
import { configRoutes } from "./api/config-routes.js";
import type { ApiContext, ObserveResync, Readiness } from "./api/context.js";
import { historyRoutes } from "./api/history-routes.js";
import { kubectlRoutes } from "./api/kubectl-routes.js";
import { nodeRoutes } from "./api/node-routes.js";
import { nodeSummary, rowOf } from "./api/node-summary.js";
import { opsRoutes } from "./api/ops-routes.js";
import { sendError } from "./api/respond.js";
import { rolloutRoutes } from "./api/rollout-routes.js";
import { Router } from "./api/router.js";
import { sourceRoutes } from "./api/source-routes.js";
import { SseHub } from "./api/sse.js";
import { configEvent, fleetSummary, rolloutView } from "./api/views.js";
import { LoginThrottle, type ThrottleOptions } from "./auth/login-throttle.js";
import type { AuthGuard } from "./auth/request-auth.js";
import { type SessionLimits, SessionStore } from "./auth/sessions.js";
import type { PeopleAuthenticator, ReporterAuthenticator } from "./auth/types.js";
import { ConfigService, type ConfigState } from "./config/config-service.js";
import { ChangeFeed, type FleetChanges } from "./fleet/change-feed.js";
import { FleetState } from "./fleet/fleet-state.js";
import type { KeptFile } from "./fleet/kept-file.js";
import { type KeptEvents, nodeEventsKeeper } from "./fleet/node-events.js";
import { DEFAULT_MAX_OFFLINE, type ExpiryOptions, NodeExpiry } from "./fleet/node-expiry.js";
import { rosterOf, toRestore } from "./fleet/node-roster.js";
import { readNumberingSeed } from "./fleet/numbering-seed.js";
import { registerRolloutMetrics } from "./fleet/rollout-metrics.js";
import { RosterKeeper } from "./fleet/roster-keeper.js";
import { signalSink } from "./fleet/signal-metrics.js";
import type { FleetSignalSink, SignalRecorder } from "./fleet/signals.js";
import { StagedRollouts } from "./fleet/staged-rollout.js";
import type { RolloutPersistence } from "./fleet/staged-state.js";
import { ReporterGateway } from "./gateway/reporter-gateway.js";
import { silentLogger } from "./log.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { countByStatus, remoteOf, summaryOf } from "./replicas/fleet-view.js";
import { remoteNodesOf } from "./replicas/remote-nodes.js";
import { registerReplicaMetrics } from "./replicas/replica-metrics.js";
import type { ReplicaSync } from "./replicas/replica-sync.js";
import type { SourceSet } from "./store/sources.js";
import type { ConfigStore } from "./store/types.js";

/** What the server needs of a leader election (kube/lease.ts). */
export interface Election {
  isLeader(): boolean;
  status(): { leader: boolean; holder?: string; problem?: string };
}

export interface Timings {
  /** Heartbeat interval announced to reporters; 3 missed beats drop the connection. */
  heartbeatMs: number;
  helloTimeoutMs: number;
  /** A second connection for a node waits this long for the first to answer a ping. */
  claimProbeMs: number;
  /** Desired/resync without an apply-result after this long → node status `error`. */
  applyTimeoutMs: number;
  /** Browser updates are coalesced to at most one per this interval. */
  sseFlushMs: number;
  sseKeepaliveMs: number;
  /** Open event streams re-check their credentials this often (a revoked token ends them). */
  sseRecheckMs: number;
}

export const DEFAULT_TIMINGS: Timings = {
  heartbeatMs: 10_000,
  helloTimeoutMs: 10_000,
  claimProbeMs: 2_000,
  applyTimeoutMs: 30_000,
  sseFlushMs: 250,
  sseKeepaliveMs: 15_000,
  sseRecheckMs: 60_000,
};

export interface DashboardOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  store: ConfigStore;
  /** Config sources merged with the store's config (several ConfigMaps or files); none: alone. */
  sources?: SourceSet;
  /** Fleet agent flags used to validate configs (reporters report their own in hello). */
  flags: AgentFlags;
  people: PeopleAuthenticator;
  reporters: ReporterAuthenticator;
  /** Observe-mode resync (deleting the upstream agent pod); null refuses it with 409. */
  observeResync?: ObserveResync | null;
  /** Serve the UI with Next.js from this app dir; false (default) serves only the API. */
  next?: false | { dir: string; dev?: boolean };
  /**
   * Leader election: the holder of the Lease does the singleton duties (staged rollout state);
   * without `replicas`, only the holder is ready.
   */
  election?: Election;
  /** Every replica active: NodeMasquerade status, the fleet held elsewhere, replica Leases. */
  replicas?: ReplicaSync;
  /** This dashboard's name (its pod): who claimed the rollout, told to a move refused elsewhere. */
  replicaName?: string;
  log?: Logger;
  /** Reporter upgrades whose token is checked at once; more are refused 503 (MAX_PENDING_AUTH). */
  maxPendingReporterAuth?: number;
  /**
   * Protocol capabilities granted to reporters that offer them (default every one this
   * release knows; [] answers as the previous release did, for compatibility tests).
   */
  reporterCapabilities?: readonly Capability[];
  timings?: Partial<Timings>;
  secureCookies?: boolean;
  defaultMetrics?: boolean;
  /** Browser session lifetime and caps. */
  sessions?: SessionLimits;
  /** When offline nodes are forgotten (default: after 24 h offline). */
  expiry?: Omit<ExpiryOptions, "log">;
  /** Backoff on wrong tokens per client (tests shorten it). */
  loginThrottle?: ThrottleOptions;
  /** How a change rolls out when the save does not say (default: all nodes at once). */
  rolloutStrategy?: RolloutStrategy;
  /** Node labels for canary selectors (Kubernetes mode); without it selectors are refused. */
  nodeLabels?: NodeLabels;
  /** A released node going offline this soon after applying pauses a rollout (default 60 s). */
  rolloutOfflineWindowMs?: number;
  /** Where the reporter pods run, for the node page's kubectl commands (Kubernetes mode). */
  reporterPods?: ReporterPods | null;
  /** Kubernetes Events of node changes (Kubernetes mode; none in file mode). */
  events?: SignalRecorder;
}

/** Labels of the named nodes (those without a Node object are left out). */
export type NodeLabels = (names: readonly string[]) => Promise<Map<string, Record<string, string>>>;

export interface DashboardServer {
  /** http://host:port of the listening server. */
  url: string;
  port: number;
  http: Server;
  config: ConfigService;
  fleet: FleetState;
  staged: StagedRollouts;
  metrics: Metrics;
  close(): Promise<void>;
}

type NextHandlers = {
  request: (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
};

async function loadNext(o: { dir: string; dev?: boolean }): Promise<NextHandlers> {
  process.env.NEXT_TELEMETRY_DISABLED = "1";
  const mod = (await import("next")) as unknown as {
    default: (opts: { dev: boolean; dir: string }) => NextApp;
  };
  const app = mod.default({ dev: o.dev ?? false, dir: o.dir });
  await app.prepare();
  return { request: app.getRequestHandler(), upgrade: o.dev ? app.getUpgradeHandler() : undefined };
}

interface NextApp {
  prepare(): Promise<void>;
  getRequestHandler(): NextHandlers["request"];
  getUpgradeHandler(): NonNullable<NextHandlers["upgrade"]>;
}

/** Every route module; history's compare before config's `/api/history/:revision` routes. */
const ROUTES = [
  opsRoutes,
  authRoutes,
  historyRoutes,
  configRoutes,
  sourceRoutes,
  nodeRoutes,
  rolloutRoutes,
];

export async function createDashboardServer(o: DashboardOptions): Promise<DashboardServer> {
  const log = o.log ?? silentLogger();
  const t: Timings = { ...DEFAULT_TIMINGS, ...o.timings };
  const metrics = createMetrics({ defaultMetrics: o.defaultMetrics });
  const config = new ConfigService(o.store, o.flags, o.sources);
  const sse = new SseHub(t.sseKeepaliveMs, t.sseRecheckMs);
  const feed = new ChangeFeed(t.sseFlushMs);
  // An all-at-once rollout finished is persisted no more (staged-rollout.ts rolloutFinished);
  // true: the owner tells this finish over every node (every replica active).
  const finished = (r: Rollout) => staged.rolloutFinished(r);
  const fleet = createFleet(config, feed, metrics, log, t, o.events, o.replicas?.replica, finished);
  const staged = createStaging(o, fleet, log, metrics);
  if (o.replicas) countFleetWide(metrics, fleet, o.replicas);
  const served = {
    sse,
    config,
    fleet,
    staged,
    replicas: o.replicas,
    observeResync: o.observeResync ?? null,
    startedAt: Date.now(),
  };
  const roster = rosterKeeper(o, fleet, log);
  const kept = keptEvents(o, fleet, log);
  followFeed(feed, served, [roster, kept]);
  await config.start(await readNumberingSeed(o.store.loadRollout?.bind(o.store)));
  // Before the staged rollout resumes: the nodes it counts include those known before the start.
  staged.rosterListed(await restoreRoster({ roster, kept }, o, fleet, served.startedAt, log));
  const strategy = o.rolloutStrategy ?? ALL_AT_ONCE;
  await restoreStaging(staged, config, strategy, fleet);
  const follow = { fleet, feed, metrics, log, staged, strategy };
  config.onChange((state, prev) => followConfig(state, prev, follow));

  const nextHandlers = o.next ? await loadNext(o.next) : undefined;
  const sessions = new SessionStore(o.sessions);
  sessions.onEnd((id) => sse.endSession(id));
  const guard: AuthGuard = { throttle: new LoginThrottle(o.loginThrottle), metrics, log };
  const more = () => [...staged.problems(), ...[roster, kept].flatMap((k) => k?.problems() ?? [])];
  const readiness = (): Readiness => readinessOf(o, nextHandlers !== undefined, more());
  followStore(o, metrics);
  const ctx: ApiContext = {
    ...served,
    people: o.people,
    sessions,
    guard,
    metrics,
    readiness,
    secureCookies: o.secureCookies,
    log,
    rolloutStrategy: strategy,
    nodeLabels: o.nodeLabels,
    ...(roster ? { roster } : {}),
    ...(kept ? { nodeEvents: kept } : {}),
  };
  const routes = [
    ...ROUTES.flatMap((r) => r(ctx)),
    ...kubectlRoutes(ctx, {
      inCluster: o.store.kind === "kubernetes",
      pods: o.reporterPods ?? null,
    }),
  ];
  const router = new Router(routes, { people: o.people, sessions, log, guard });
  const gateway = createGateway(o, { fleet, log, metrics, t });
  const sweeper = startSweeper(o, { fleet, staged, sessions, kept: [roster, kept] }, log);
  const http = createHttp(router, gateway, nextHandlers, log);
  const { url, port } = await listen(http, o.port ?? 0, o.host ?? "127.0.0.1");
  log.info({ url, store: o.store.kind, next: Boolean(o.next) }, "dashboard listening");

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      // Before the last writes of the kept files: what a reporter connecting now would tell
      // (its unheard heals) would land after them and be lost.
      gateway.stopAccepting();
      clearInterval(sweeper);
      for (const k of [roster, kept]) await k?.flush();
      feed.close();
      sse.close();
      fleet.close();
      await staged.flush();
      await gateway.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      config.close();
      await o.sources?.close();
      await o.replicas?.close();
      await o.events?.close();
      await o.store.close();
    })();
    return closing;
  };
  return { url, port, http, config, fleet, staged, metrics, close };
}

/**
 * Ready = the store is reachable, Next is loaded and, without `replicas`, this replica is the
 * active one (with `replicas` every replica serves: the Lease is only for singleton duties). Problems
 * (a deleted ConfigMap, a watch that cannot be kept, history not recorded, a Lease that cannot
 * be created) are reported without making the replica unready: it still serves the last known
 * config, which is better than no dashboard.
 */
function readinessOf(o: DashboardOptions, nextLoaded: boolean, more: string[] = []): Readiness {
  const store = o.store.status?.();
  const lease = o.election?.status();
  const checks = {
    store: o.store.healthy(),
    next: o.next ? nextLoaded : true,
    active: o.election && !o.replicas ? o.election.isLeader() : true,
  };
  const problems = [
    ...(store?.problems ?? []),
    ...(o.replicas?.problems() ?? []),
    ...(o.sources?.status().problems ?? []),
    ...(lease?.problem ? [lease.problem] : []),
    ...more,
  ];
  return {
    ready: Object.values(checks).every(Boolean),
    checks,
    problems,
    detail: { ...(store ? { store } : {}), ...(lease ? { lease } : {}) },
  };
}

function createFleet(
  config: ConfigService,
  feed: ChangeFeed,
  metrics: Metrics,
  log: Logger,
  t: Timings,
  events: SignalRecorder | undefined,
  /** With every replica active: this replica, whose nodes its rollout counts. */
  replica?: string,
  /** True: the finish is told by the rollout's owner, over every node, not here. */
  finished?: (r: Rollout) => boolean,
): FleetState {
  events?.countResults((result) => metrics.kubeEvents.inc({ result }));
  events?.countWaits?.((ms) => metrics.kubeEventWaitSeconds.inc(ms / 1000));
  const queued = events?.queued?.bind(events);
  if (queued) metrics.setKubeEventsQueued(queued);
  const fleet = new FleetState({
    desired: () => config.current().desired,
    feed,
    log,
    heartbeatMs: t.heartbeatMs,
    applyTimeoutMs: t.applyTimeoutMs,
    intake: { onCoalesced: () => metrics.snapshotsCoalesced.inc() },
    perReplicaNumbers: replica !== undefined,
    onRolloutFinished: (r) => {
      // A rollout resumed after a restart: its time spans the restart, not a rollout's work.
      if (r.finishedAt !== null && r.resumedAt === undefined)
        metrics.rolloutDuration.observe((r.finishedAt - r.startedAt) / 1000);
      if (finished?.(r)) return;
      // Each replica counts the nodes it holds: the Event says so rather than "2 of 2 nodes".
      events?.rolloutFinished(replica ? { ...r, heldBy: replica } : r);
    },
    onSignal: signalSink(metrics, events),
  });
  metrics.setNodeCounter(() => fleet.countByStatus());
  metrics.setFleetGauges(() => fleet.gauges());
  return fleet;
}

/** A new revision: tell browsers, and roll out a new desired config when there is one. */
function followConfig(
  state: ConfigState,
  prev: ConfigState | undefined,
  d: {
    fleet: FleetState;
    feed: ChangeFeed;
    metrics: Metrics;
    log: Logger;
    staged: StagedRollouts;
    strategy: RolloutStrategy;
  },
): void {
  const { rev, result } = state;
  d.metrics.configChanges.inc({ valid: String(result.ok) });
  if (!result.ok)
    d.log.warn(
      { resourceVersion: rev.resourceVersion, errors: result.errors },
      "stored config is invalid; nodes keep the last valid one",
    );
  else
    d.log.info(
      { resourceVersion: rev.resourceVersion, revision: rev.revision, author: rev.author },
      "new config",
    );
  d.feed.configChanged();
  if (state.desired && state.desired.revision !== prev?.desired?.revision) {
    // The waves are decided before anything is pushed: nodes not reached keep the previous one.
    // The strategy saved with the revision (every replica reads it alike) before the default.
    d.staged.begin(
      state.desired,
      prev?.desired ?? null,
      rev.text,
      rev.author,
      d.strategy,
      rev.strategy,
    );
    d.fleet.desiredChanged(state.desired);
  }
}

/**
 * The persisted rollout resumed, and tracked again on the fleet bar (empty until the next save,
 * it was); a follower starting on an unbegun staged revision holds it. From then on a source
 * change after an abort is held (config-service heldMerge).
 */
async function restoreStaging(
  staged: StagedRollouts,
  config: ConfigService,
  strategy: RolloutStrategy,
  fleet: FleetState,
): Promise<void> {
  config.holdAfterAbort((d) => staged.abortedTo(d));
  await staged.restore(
    () => config.current().desired,
    (r) => config.desiredOfRevision(r),
    {
      strategy: () => config.current().rev.strategy,
      fallback: strategy,
      before: (revision) => config.desiredBefore(revision),
      holdMerge: (aborted, stable) => config.holdAtStart(aborted, stable),
      numberAbove: (revision) => config.numberAbove(revision),
    },
  );
  fleet.resumeRollout(staged.resumedTracking());
}

function createStaging(
  o: DashboardOptions,
  fleet: FleetState,
  log: Logger,
  metrics: Metrics,
): StagedRollouts {
  const restarter = o.observeResync;
  const staged = new StagedRollouts({
    log,
    persistence: persistenceOf(o.store),
    offlineWindowMs: o.rolloutOfflineWindowMs,
    active: o.election ? () => o.election!.isLeader() : undefined,
    refusal: o.replicas ? () => o.replicas!.stagedRefusal(o.election !== undefined) : undefined,
    remote: o.replicas
      ? remoteNodesOf(
          () => o.replicas!.sources(),
          () => o.replicas!.listed(),
          (since) => o.replicas!.leases.unreportedSince(since),
          {
            connectedFresh: (name) => o.replicas!.connectedElsewhere(name),
            existsFresh: (name) => o.replicas!.existsFresh(name),
            holderUnknown: (replica) => o.replicas!.leases.unknownState(replica),
          },
        )
      : undefined,
    labels: o.nodeLabels,
    replica: o.replicas?.replica,
    fleetRollout: o.replicas ? () => rolloutView({ fleet, replicas: o.replicas }) : undefined,
    claimAs: o.replicas?.replica ?? o.replicaName,
    restartUpstream: restarter
      ? (names, why) => void restartInTurn(restarter, fleet, names, why)
      : undefined,
  });
  fleet.attachStaging(staged);
  // Every replica active: those not holding the singleton Lease follow the owner's rollout.
  if (o.replicas)
    o.store.watchRollout?.({
      state: (raw) => staged.follow(raw),
      request: (raw) => staged.requested(raw),
    });
  o.replicas?.onObjects((names) => staged.remoteChanged(names));
  registerRolloutMetrics(metrics.registry, staged, () => o.election?.isLeader() ?? true);
  signalPauses(staged, fleet.signalSink());
  // Every replica active: an all-at-once rollout the owner kept, over on every node, told once.
  staged.onAtOnceOver((bar) => o.events?.rolloutFinished(bar));
  return staged;
}

/**
 * A pause and its end are signals (a RolloutPaused Event on the ConfigMap and on the nodes that
 * caused it), taken on by the fleet's signal sink. The gauges read the rollout itself.
 */
function signalPauses(staged: StagedRollouts, sink: FleetSignalSink | undefined): void {
  if (!sink) return;
  staged.onPause((view, reason) =>
    sink({
      kind: "rollout-paused",
      rollout: { revision: view.revision, resourceVersion: view.resourceVersion },
      reason,
      message: view.message,
      nodes: view.waves.flatMap((w) => w.failedNodes.map((f) => f.name)).slice(0, 16),
    }),
  );
  staged.onResume((rollout) => sink({ kind: "rollout-resumed", rollout }));
}

/** One upstream agent pod at a time; each outcome goes to the node's timeline. */
async function restartInTurn(
  restarter: ObserveResync,
  fleet: FleetState,
  names: readonly string[],
  why: string,
): Promise<void> {
  for (const name of names) {
    try {
      const pods = await restarter.restart(name);
      fleet.noteEvent(
        name,
        "resync-requested",
        `deleted upstream agent pod ${pods.join(", ")} (${why})`,
      );
    } catch (e) {
      fleet.noteEvent(
        name,
        "resync-failed",
        `${e instanceof Error ? e.message : String(e)} (${why})`,
      );
    }
  }
}

/** The store's place for rollout state, when it has one. */
function persistenceOf(store: ConfigStore): RolloutPersistence | undefined {
  if (!store.loadRollout || !store.saveRollout) return undefined;
  return {
    loadRollout: (claim) => store.loadRollout!(claim),
    saveRollout: (state) => store.saveRollout!(state),
    ...(store.checkRollout ? { checkRollout: () => store.checkRollout!() } : {}),
    ...(store.saveRolloutRequest
      ? { saveRequest: (r: unknown) => store.saveRolloutRequest!(r) }
      : {}),
  };
}

/** The reporter gateway, followed by the metrics (and the replicas' reconnect counts). */
function createGateway(
  o: DashboardOptions,
  d: { fleet: FleetState; log: Logger; metrics: Metrics; t: Timings },
): ReporterGateway {
  const gateway = new ReporterGateway({
    fleet: d.fleet,
    auth: o.reporters,
    log: d.log,
    metrics: d.metrics,
    helloTimeoutMs: d.t.helloTimeoutMs,
    heartbeatMs: d.t.heartbeatMs,
    claimProbeMs: d.t.claimProbeMs,
    ...(o.maxPendingReporterAuth ? { maxPendingAuth: o.maxPendingReporterAuth } : {}),
    ...(o.reporterCapabilities ? { capabilities: o.reporterCapabilities } : {}),
  });
  followGateway(gateway, d.metrics, o.replicas);
  return gateway;
}

/**
 * The gateway's digest cache in the metrics; with replicas, the reporters still connecting
 * count with the reconnects on this replica's Lease (replicas/reconnects-pending.ts).
 */
function followGateway(gateway: ReporterGateway, metrics: Metrics, replicas?: ReplicaSync): void {
  metrics.setDigestCache(() => gateway.digests.stats());
  replicas?.countConnecting(() => gateway.connectingCount());
}

/** API and probes first, the reporter gateway on upgrade, everything else to Next. */
function createHttp(
  router: Router,
  gateway: ReporterGateway,
  next: NextHandlers | undefined,
  log: Logger,
): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (await router.handle(req, res, url)) return;
    if (url.pathname === "/api" || url.pathname.startsWith("/api/") || !next) {
      req.resume();
      return sendError(res, 404, `no route for ${req.method} ${url.pathname}`);
    }
    await next.request(req, res);
  };
  const http = createServer((req, res) => {
    handle(req, res).catch((e) => {
      log.error({ err: e, url: req.url }, "request failed");
      if (!res.headersSent) sendError(res, 500, "internal error");
      else res.destroy();
    });
  });
  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    let path: string;
    try {
      path = new URL(req.url ?? "/", "http://localhost").pathname;
    } catch {
      return socket.destroy();
    }
    if (path === REPORTER_PATH) return gateway.handleUpgrade(req, socket, head);
    if (next?.upgrade) return void next.upgrade(req, socket, head).catch(() => socket.destroy());
    socket.destroy();
  });
  // Bounds on receiving a request (not on answering it: SSE streams stay open; upgraded
  // reporter sockets leave the HTTP server's timeouts behind).
  http.requestTimeout = 60_000;
  http.headersTimeout = 30_000;
  return http;
}

async function listen(
  http: Server,
  port: number,
  host: string,
): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(port, host, () => resolve());
  });
  const addr = http.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  const local = shown === "0.0.0.0" || shown === "[::]" ? "127.0.0.1" : shown;
  return { url: `http://${local}:${addr.port}`, port: addr.port };
}

/** The node roster, where the store keeps one (the file store's data dir). */
function rosterKeeper(
  o: DashboardOptions,
  fleet: FleetState,
  log: Logger,
): RosterKeeper | undefined {
  const file = o.store.nodeRoster?.();
  if (!file) return undefined;
  const maxOffline = o.expiry?.maxOffline ?? DEFAULT_MAX_OFFLINE;
  return new RosterKeeper({
    file,
    log,
    entries: (step) => rosterOf(fleet.nodes.values(), maxOffline, step),
  });
}

/** The nodes' newest events, where the store keeps them (the file store's data dir). */
function keptEvents(
  o: DashboardOptions,
  fleet: FleetState,
  log: Logger,
): KeptFile<KeptEvents> | undefined {
  const file = o.store.nodeEvents?.();
  if (!file) return undefined;
  return nodeEventsKeeper({ file, log, nodes: () => fleet.nodes.values() });
}

/**
 * Nodes known before this start listed again, offline until their reporters reconnect, each
 * with its events kept from before; true when the roster named them (a rollout resumed then
 * counts its targets by name).
 */
async function restoreRoster(
  k: { roster: RosterKeeper | undefined; kept: KeptFile<KeptEvents> | undefined },
  o: DashboardOptions,
  fleet: FleetState,
  startedAt: number,
  log: Logger,
): Promise<boolean> {
  const { roster, kept } = k;
  if (!roster) return false;
  const loaded = await roster.load();
  const events = await kept?.load();
  const entries = toRestore(loaded, o.expiry?.maxOffline ?? DEFAULT_MAX_OFFLINE);
  fleet.restore(entries, startedAt, events);
  if (entries.length > 0)
    log.info({ nodes: entries.length }, "nodes known before the restart listed as offline");
  // A roster read names the nodes known before; none (no file, refused) names none.
  return loaded.length > 0 && roster.problems().length === 0;
}

/** Once a second: silent nodes, the rollout's clock, offline expiry, replicas, sessions. */
function startSweeper(
  o: DashboardOptions,
  d: {
    fleet: FleetState;
    staged: StagedRollouts;
    sessions: SessionStore;
    kept: (KeptFile<unknown> | undefined)[];
  },
  log: Logger,
): NodeJS.Timeout {
  const expiry = new NodeExpiry(d.fleet, { offlineTtlMs: 24 * 3600_000, ...o.expiry, log });
  const sweeper = setInterval(() => {
    d.fleet.sweep();
    d.staged.tick();
    expiry.sweep();
    for (const k of d.kept) k?.tick();
    o.replicas?.sweep(o.election?.isLeader() ?? true);
    d.sessions.sweep();
  }, 1000);
  sweeper.unref();
  return sweeper;
}

/**
 * With every replica active, each one's metrics (ipmasq_nodes) count the whole fleet as it
 * shows it (nodes held elsewhere by their NodeMasquerade), and its own replica metrics, so the
 * alerts' max() across replicas never counts a node offline that only moved to another replica.
 */
function countFleetWide(metrics: Metrics, fleet: FleetState, replicas: ReplicaSync): void {
  registerReplicaMetrics(metrics.registry, replicas);
  metrics.setNodeCounter(() => {
    const sources = replicas.sources();
    return sources ? countByStatus(sources).byStatus : fleet.countByStatus();
  });
}

/** The store's status and whether this replica serves, as metrics. */
function followStore(o: DashboardOptions, metrics: Metrics): void {
  if (o.store.status) metrics.setStoreStatus(o.store.status.bind(o.store));
  // With every replica active each one serves the fleet; otherwise only the Lease holder does.
  metrics.setActive(() => (o.replicas ? true : (o.election?.isLeader() ?? true)));
}

/** What the change feed's followers read (a part of ApiContext). */
type Served = Pick<
  ApiContext,
  "sse" | "config" | "fleet" | "staged" | "replicas" | "observeResync" | "startedAt"
>;

/** Browsers (and, with replicas, the NodeMasquerade status writer) follow the change feed. */
function followFeed(
  feed: ChangeFeed,
  ctx: Served,
  kept: ({ changed(): void } | undefined)[],
): void {
  ctx.replicas?.attach(ctx.fleet, feed);
  feed.onFlush((c) => {
    if (c.changed.length > 0 || c.removed.length > 0) for (const k of kept) k?.changed();
    // Other replicas' nodes can arrive before the config is read: no browser is served yet, and
    // each one's hello carries the whole state.
    if (ctx.config.started()) publish(ctx, c);
    ctx.replicas?.fleetChanged(c);
  });
  ctx.replicas?.start();
}

/** The last config event sent on each stream (an abort changes it without a config change). */
const lastConfigEvent = new WeakMap<object, string>();

/** Sends coalesced changes to browsers: config first, then nodes, then the rollout. */
function publish(ctx: Served, c: FleetChanges): void {
  // The fleet-wide summary is a pass over every node (every replica's, with replicas): none
  // for a feed flush no browser follows. A browser that connects gets the whole state.
  if (ctx.sse.size === 0) return;
  const config = JSON.stringify(configEvent(ctx.config.current(), ctx.staged));
  if (c.config || (c.rollout && lastConfigEvent.get(ctx.sse) !== config)) {
    lastConfigEvent.set(ctx.sse, config);
    ctx.sse.send("config", JSON.parse(config));
  }
  let summary: FleetSummary | undefined;
  if (c.changed.length > 0 || c.removed.length > 0) {
    const view = ctx.replicas?.sources();
    const nodes = c.changed.flatMap((name) => {
      // Another replica's node as its NodeMasquerade says; one held here, with its place.
      const remote = view ? remoteOf(view, name) : undefined;
      if (remote) return [rowOf(remote, ctx)];
      const n = ctx.fleet.nodes.get(name);
      if (n) return [nodeSummary(n, ctx)];
      const gone = view ? summaryOf(view, name) : undefined;
      return gone ? [gone] : [];
    });
    summary = fleetSummary(ctx);
    ctx.sse.send("fleet", { nodes, removed: c.removed, summary });
  }
  if (c.rollout) {
    ctx.sse.send("rollout", summary ? summary.rollout : rolloutView(ctx));
    ctx.sse.send("staged-rollout", ctx.staged.view());
  }
}
