// Decides when the node is written (the chain on Linux, the CNI config's ExceptionList on
// Windows). enforce: apply the desired config on start, on receipt, every resyncInterval and on
// resync; drift seen between resyncs is reported at once and healed at the next resync (or at
// once with heal=immediate). observe: never writes. Every config, whatever its source, passes
// the same gate; a refused one leaves the node's rules alone.
import {
  type AgentFlags,
  type ApplyResult,
  type ApplyTrigger,
  type Desired,
  type DriftReport,
  type HealPolicy,
  type LongTimer,
  MAX_APPLY_DURATION_MS,
  MAX_APPLY_ERROR_CHARS,
  MIN_RESYNC_INTERVAL_MS,
  type Mode,
  PROTOCOL_VERSION,
  type ResyncSchedule,
  resyncIntervalMs,
  setLongInterval,
} from "@masq/shared";
import type { ApplyOutcome, Backend, Observed } from "./backend/types.js";
import { refusal } from "./config-check.js";
import { ApplyQueue } from "./enforce/apply-queue.js";
import { ConfigSources, type DesiredConfig, type SourceRead } from "./enforce/config-sources.js";
import { DriftJudge } from "./enforce/drift-judge.js";
import type { Heal, HealSpotter } from "./enforce/heal-spotter.js";
import { HealTimer } from "./enforce/heal-timer.js";
import { ResyncTimer } from "./enforce/resync-timer.js";
import { type Logger, silentLogger } from "./log.js";
import type { Metrics } from "./metrics.js";
import type { ConfigSource, StateStore } from "./state.js";

export interface EnforcerOptions {
  backend: Backend;
  mode: Mode;
  heal: HealPolicy;
  store?: StateStore;
  /** A mounted upstream ConfigMap file, adopted whenever its content changes. */
  configFile?: string;
  /** How often the config file is checked (default 10 s). */
  fileCheckMs?: number;
  /** Floor of the resync interval (default MIN_RESYNC_MS). */
  minResyncMs?: number;
  logger?: Logger;
  metrics?: Metrics;
  /** Every apply attempt and every refusal, as the protocol message. */
  onResult?: (result: ApplyResult) => void;
  /** What an apply left on the node (sent before the result): Linux snapshots or the Windows file. */
  onSnapshots?: (observed: Observed) => void;
  /** An apply on its own that changed back drifted rules of the config it ran (before its result). */
  onHeal?: (heal: Heal) => void;
}

export interface Enforcer {
  start(): Promise<void>;
  stop(): Promise<void>;
  desired(): DesiredConfig | undefined;
  appliedRevision(): number | null;
  /** A desired config from the dashboard. Resolves when applied (or refused). */
  receive(msg: Pick<Desired, "config" | "revision" | "resourceVersion">): Promise<void>;
  /** Apply now (enforce); nothing in observe mode. */
  resync(trigger?: ApplyTrigger): Promise<void>;
  /** Judges a fresh read (Linux snapshots or the Windows file); heals at once when the policy says so. */
  observe(observed: Observed): DriftReport | undefined;
  /** When it re-applies on its own next (sent with snapshots so the dashboard can say). */
  schedule(): ResyncSchedule;
  /**
   * Reads the mounted config now, as the periodic check does: adopted (and applied) when its
   * text changed, refused with a result when invalid. Resolves when that is done.
   */
  checkConfigFile(): Promise<void>;
}

export type { Heal };

/** Upstream accepts e.g. "1ns" and then loops; never resync more often than this (limits.ts). */
export const MIN_RESYNC_MS = MIN_RESYNC_INTERVAL_MS;

/** Metrics and the log line of one apply (a periodic apply that changed nothing is routine). */
function record(
  log: Logger,
  m: Metrics | undefined,
  d: DesiredConfig,
  trigger: ApplyTrigger,
  o: Omit<ApplyOutcome, "snapshots">,
) {
  m?.applies.inc({ result: o.ok ? "ok" : "error", trigger });
  m?.applyDuration.observe({ trigger }, o.durationMs / 1000);
  if (o.ok) m?.lastSync.set(Date.now() / 1000);
  const level = !o.ok ? "error" : o.changed ? "info" : "debug";
  const { ok, changed, error, rolledBack } = o;
  const durationMs = Math.round(o.durationMs);
  log[level](
    { trigger, revision: d.revision, ok, changed, durationMs, error, rolledBack },
    "apply",
  );
}

interface ApplyContext {
  backend: Backend;
  log: Logger;
  metrics?: Metrics;
  sources: ConfigSources;
  onSnapshots?: (observed: Observed) => void;
  result: (r: Omit<ApplyResult, "type" | "v">) => void;
  /** A successful apply of `d` (before it is persisted and reported). */
  applied: (d: DesiredConfig) => void;
  /** Tells the applies that heal the drift it judged. */
  drift?: { heals: HealSpotter };
}

/** One apply of `d`: metrics and log, persisted when it succeeded, snapshots, the result. */
async function applyOnce(c: ApplyContext, d: DesiredConfig, trigger: ApplyTrigger) {
  const healed = c.drift?.heals.before(d, trigger);
  try {
    const o = await c.backend.apply(d.config, trigger);
    record(c.log, c.metrics, d, trigger, o);
    if (o.ok) {
      c.applied(d);
      healed?.(o.changed);
      await c.sources.persist(d);
    }
    const after: Observed | undefined = o.snapshots;
    if (after !== undefined && (!Array.isArray(after) || after.length > 0)) c.onSnapshots?.(after);
    c.result({
      revision: d.revision,
      ok: o.ok,
      // A suspended node's clock can measure past the bound the dashboard holds results to.
      durationMs: Math.min(o.durationMs, MAX_APPLY_DURATION_MS),
      trigger,
      changed: o.changed,
      ...(o.error ? { error: o.error.slice(0, MAX_APPLY_ERROR_CHARS) } : {}),
    });
  } catch (e) {
    c.log.error({ err: (e as Error).message, trigger }, "apply crashed");
    const error = (e as Error).message.slice(0, MAX_APPLY_ERROR_CHARS);
    c.result({
      revision: d.revision,
      ok: false,
      error,
      durationMs: 0,
      trigger,
      changed: false,
    });
  }
}

/** Reports a refused config: metrics, an error log line and a failed apply result. */
function refuser(log: Logger, m: Metrics | undefined, result: ApplyContext["result"]) {
  return (reason: string, source: ConfigSource, revision: number | null) => {
    m?.refused.inc({ source });
    m?.applies.inc({ result: "refused", trigger: "desired" });
    log.error({ source, revision, reason }, "config refused; the node keeps its current rules");
    const trigger = "desired";
    result({ revision, ok: false, error: reason, durationMs: 0, trigger, changed: false });
  };
}

/** resyncInterval, never under the floor (MIN_RESYNC_MS unless told). */
const resyncDelay = (c: DesiredConfig, minMs = MIN_RESYNC_MS) =>
  Math.max(minMs, resyncIntervalMs(c.config));

const OBSERVE_ONLY = "observe mode: desired config recorded, not applied";

function warnIfOlder(log: Logger, current: DesiredConfig | undefined, d: DesiredConfig) {
  const gen = current?.revision;
  if (d.revision !== null && gen != null && d.revision < gen)
    log.warn(
      { revision: d.revision, current: gen },
      "dashboard sent an older revision; applying it",
    );
}

/** `run`, skipped while its previous call has not settled. */
function unstacked(run: () => Promise<void>): () => void {
  let running = false;
  return () => {
    if (running) return;
    running = true;
    void run().finally(() => {
      running = false;
    });
  };
}

export function createEnforcer(opts: EnforcerOptions): Enforcer {
  const log = opts.logger ?? silentLogger();
  const sources = new ConfigSources({ store: opts.store, configFile: opts.configFile, log });
  const queue = new ApplyQueue((trigger) => applyCurrent(trigger));
  const healer = new HealTimer(() => void queue.request("heal"));
  let flags: AgentFlags | undefined;
  let current: DesiredConfig | undefined;
  let appliedRevision: number | null = null;
  let stopped = false;
  let fileTimer: LongTimer | undefined; // any interval (timers.ts)
  const resyncTimer = new ResyncTimer(() => queue.request("periodic").finally(scheduleResync));
  const drift = new DriftJudge(log, opts);

  const result = (r: Omit<ApplyResult, "type" | "v">) =>
    opts.onResult?.({ type: "apply-result", v: PROTOCOL_VERSION, ...r });
  const refuse = refuser(log, opts.metrics, result);

  function setApplied(a: DesiredConfig) {
    appliedRevision = a.revision;
  }
  async function applyCurrent(trigger: ApplyTrigger): Promise<void> {
    const d = current;
    if (!d || opts.mode !== "enforce" || stopped) return;
    await applyOnce({ ...opts, log, sources, result, applied: setApplied, drift }, d, trigger);
  }

  const resyncMs = (c: DesiredConfig) => resyncDelay(c, opts.minResyncMs);

  function scheduleResync() {
    resyncTimer.arm(current && opts.mode === "enforce" && !stopped ? resyncMs(current) : null);
  }

  function adopt(d: DesiredConfig, trigger: ApplyTrigger): Promise<void> {
    warnIfOlder(log, current, d);
    current = d;
    scheduleResync();
    return opts.mode === "enforce" ? queue.request(trigger) : Promise.resolve();
  }

  /** The config of a read of the state file or the config file; a refused one is reported. */
  function accept(r: SourceRead): DesiredConfig | undefined {
    if (r.kind === "refused") refuse(r.reason, r.source, r.revision);
    return r.kind === "config" ? r.desired : undefined;
  }

  /** Adopts the mounted ConfigMap when its text changed since it was last seen (not over a newer push). */
  async function checkFile(apply: boolean): Promise<void> {
    const before = current;
    const d = flags && accept(await sources.readFile(flags, current));
    if (d && current !== before) return sources.markSeen();
    if (d && apply) await adopt(d, "desired");
    else if (d) current = d;
  }

  async function loadState(): Promise<void> {
    const d = flags && accept(await sources.loadState(flags));
    if (!d) return;
    current = d;
    appliedRevision = d.revision;
  }

  return {
    async start() {
      flags = await opts.backend.effectiveFlags();
      await loadState();
      await checkFile(false);
      if (current && opts.mode === "enforce") await queue.request("startup");
      scheduleResync();
      // A check waits SETTLE_MS on a changed file: ticks meanwhile are skipped, not stacked.
      const check = unstacked(() => checkFile(true));
      if (opts.configFile) fileTimer = setLongInterval(check, opts.fileCheckMs ?? 10_000);
    },
    async stop() {
      stopped = true;
      resyncTimer.clear();
      healer.stop();
      fileTimer?.clear();
      await queue.idle();
    },
    desired: () => current,
    appliedRevision: () => appliedRevision,
    schedule: () => ({
      heal: opts.heal,
      resyncMs: current && opts.mode === "enforce" ? resyncMs(current) : null,
      nextResyncAt: resyncTimer.nextAt(),
    }),
    async receive(msg) {
      if (!flags) flags = await opts.backend.effectiveFlags();
      const reason = refusal(msg.config, flags);
      if (reason) return refuse(reason, "dashboard", msg.revision);
      const { config, revision, resourceVersion } = msg;
      if (opts.mode === "observe") log.info({ revision }, OBSERVE_ONLY);
      await adopt({ config, revision, resourceVersion, source: "dashboard" }, "desired");
    },
    resync(trigger = "resync") {
      return opts.mode === "enforce" ? queue.request(trigger) : Promise.resolve();
    },
    checkConfigFile: () => (stopped ? Promise.resolve() : checkFile(true)),
    observe(observed) {
      if (!current || !flags) return void drift.unknown();
      const { report, healable } = drift.judge(current.config, flags, observed);
      if (report.status === "in-sync") healer.reset();
      const canHeal = opts.mode === "enforce" && opts.heal === "immediate" && !stopped;
      if (healable && canHeal && !queue.busy()) healer.later();
      return report;
    },
  };
}
