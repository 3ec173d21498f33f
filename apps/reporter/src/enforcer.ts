// Decides when the node is written (the chain on Linux, the CNI config's ExceptionList on
// Windows). enforce: apply the desired config on start, on receipt, every resyncInterval and on
// resync; drift seen between resyncs is reported at once and healed at the next resync (or at
// once with heal=immediate). observe: never writes. Every config, whatever its source, passes
// the same gate; a refused one leaves the node's rules alone.
import { readFile } from "node:fs/promises";
import { sha256 } from "@masq/node-util";
import {
  type AgentFlags,
  type ApplyResult,
  type ApplyTrigger,
  type BackoffPolicy,
  type Desired,
  type DriftReport,
  type HealPolicy,
  type LongTimer,
  MAX_APPLY_ERROR_CHARS,
  type MasqConfig,
  MIN_RESYNC_INTERVAL_MS,
  type Mode,
  PROTOCOL_VERSION,
  parseConfigText,
  type ResyncSchedule,
  resyncIntervalMs,
  retryDelay,
  setLongInterval,
  setLongTimeout,
} from "@masq/shared";
import { assessObserved } from "./assess.js";
import type { ApplyOutcome, Backend, Observed } from "./backend/types.js";
import { refusal } from "./config-check.js";
import { type Logger, silentLogger } from "./log.js";
import type { Metrics } from "./metrics.js";
import { type ConfigSource, type PersistedState, STATE_VERSION, type StateStore } from "./state.js";

export interface DesiredConfig {
  config: MasqConfig;
  generation: number | null;
  revision: string | null;
  source: ConfigSource;
}

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
}

export interface Enforcer {
  start(): Promise<void>;
  stop(): Promise<void>;
  desired(): DesiredConfig | undefined;
  appliedGeneration(): number | null;
  /** A desired config from the dashboard. Resolves when applied (or refused). */
  receive(msg: Pick<Desired, "config" | "generation" | "revision">): Promise<void>;
  /** Apply now (enforce); nothing in observe mode. */
  resync(trigger?: ApplyTrigger): Promise<void>;
  /** Judges a fresh read (Linux snapshots or the Windows file); heals at once when the policy says so. */
  observe(observed: Observed): DriftReport | undefined;
  /** When it re-applies on its own next (sent with snapshots so the dashboard can say). */
  schedule(): ResyncSchedule;
}

/** Upstream accepts e.g. "1ns" and then loops; never resync more often than this (limits.ts). */
export const MIN_RESYNC_MS = MIN_RESYNC_INTERVAL_MS;

/** Heals of drift that keeps coming back: at once, then 500 ms doubling to 30 s. */
const HEAL_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };
const sameConfig = (a: MasqConfig, b: MasqConfig) => JSON.stringify(a) === JSON.stringify(b);

export function createEnforcer(opts: EnforcerOptions): Enforcer {
  const log = opts.logger ?? silentLogger();
  const m = opts.metrics;
  let flags: AgentFlags | undefined;
  let current: DesiredConfig | undefined;
  let appliedGeneration: number | null = null;
  let fileHash: string | null = null;
  let persistedKey = "";
  let stopped = false;
  // resyncInterval and the file check come from configs and flags: any length (timers.ts).
  let resyncTimer: LongTimer | undefined;
  let nextResyncAt: number | null = null;
  let fileTimer: LongTimer | undefined;
  let healTimer: NodeJS.Timeout | undefined;
  let tail: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  let queuedTrigger: ApplyTrigger = "periodic";
  let busy = false;
  let healStreak = 0;
  let lastSummary = "";

  const result = (r: Omit<ApplyResult, "type" | "v">) =>
    opts.onResult?.({ type: "apply-result", v: PROTOCOL_VERSION, ...r });

  const refuse = (reason: string, source: ConfigSource, generation: number | null) => {
    m?.refused.inc({ source });
    m?.applies.inc({ result: "refused", trigger: "desired" });
    log.error({ source, generation, reason }, "config refused; the node keeps its current rules");
    result({
      generation,
      ok: false,
      error: reason,
      durationMs: 0,
      trigger: "desired",
      changed: false,
    });
  };

  async function persist(d: DesiredConfig): Promise<void> {
    if (!opts.store) return;
    const state: PersistedState = {
      v: STATE_VERSION,
      config: d.config,
      generation: d.generation,
      revision: d.revision,
      source: d.source,
      appliedAt: Date.now(),
      fileHash,
    };
    const key = JSON.stringify({ ...state, appliedAt: 0 });
    if (key === persistedKey) return;
    try {
      await opts.store.save(state);
      persistedKey = key;
    } catch (e) {
      log.error(
        { err: (e as Error).message, path: opts.store.path },
        "cannot persist the applied config",
      );
    }
  }

  function record(d: DesiredConfig, trigger: ApplyTrigger, o: Omit<ApplyOutcome, "snapshots">) {
    m?.applies.inc({ result: o.ok ? "ok" : "error", trigger });
    m?.applyDuration.observe({ trigger }, o.durationMs / 1000);
    if (o.ok) m?.lastSync.set(Date.now() / 1000);
    // A periodic apply that found nothing to change is routine.
    const level = !o.ok ? "error" : o.changed ? "info" : "debug";
    log[level](
      {
        trigger,
        generation: d.generation,
        ok: o.ok,
        changed: o.changed,
        durationMs: Math.round(o.durationMs),
        error: o.error,
        rolledBack: o.rolledBack,
      },
      "apply",
    );
  }

  async function applyCurrent(trigger: ApplyTrigger): Promise<void> {
    const d = current;
    if (!d || opts.mode !== "enforce" || stopped) return;
    busy = true;
    try {
      const o = await opts.backend.apply(d.config, trigger);
      record(d, trigger, o);
      if (o.ok) {
        appliedGeneration = d.generation;
        await persist(d);
      }
      const after: Observed | undefined = o.snapshots;
      if (after !== undefined && (!Array.isArray(after) || after.length > 0))
        opts.onSnapshots?.(after);
      result({
        generation: d.generation,
        ok: o.ok,
        durationMs: o.durationMs,
        trigger,
        changed: o.changed,
        ...(o.error ? { error: o.error.slice(0, MAX_APPLY_ERROR_CHARS) } : {}),
      });
    } catch (e) {
      log.error({ err: (e as Error).message, trigger }, "apply crashed");
      result({
        generation: d.generation,
        ok: false,
        error: (e as Error).message.slice(0, MAX_APPLY_ERROR_CHARS),
        durationMs: 0,
        trigger,
        changed: false,
      });
    } finally {
      busy = false;
    }
  }

  /** Serialized; requests made while one waits are folded into it (it applies the newest config). */
  function requestApply(trigger: ApplyTrigger): Promise<void> {
    queuedTrigger = trigger;
    if (queued) return queued;
    const p = tail.then(() => {
      queued = undefined;
      return applyCurrent(queuedTrigger);
    });
    queued = p;
    tail = p.catch(() => {});
    return p;
  }

  const resyncMs = (c: DesiredConfig) =>
    Math.max(opts.minResyncMs ?? MIN_RESYNC_MS, resyncIntervalMs(c.config));

  function scheduleResync() {
    resyncTimer?.clear();
    nextResyncAt = null;
    if (!current || opts.mode !== "enforce" || stopped) return;
    const delay = resyncMs(current);
    nextResyncAt = Date.now() + delay;
    resyncTimer = setLongTimeout(() => {
      nextResyncAt = null;
      void requestApply("periodic").finally(scheduleResync);
    }, delay);
  }

  function adopt(d: DesiredConfig, trigger: ApplyTrigger): Promise<void> {
    const gen = current?.generation;
    if (d.generation !== null && gen != null && d.generation < gen)
      log.warn(
        { generation: d.generation, current: gen },
        "dashboard sent an older generation; applying it",
      );
    current = d;
    scheduleResync();
    return opts.mode === "enforce" ? requestApply(trigger) : Promise.resolve();
  }

  /** Adopts the mounted ConfigMap when its text changed since it was last seen. */
  async function checkFile(apply: boolean): Promise<void> {
    if (!opts.configFile || !flags) return;
    let text: string;
    try {
      text = await readFile(opts.configFile, "utf8");
    } catch (e) {
      log.debug({ err: (e as Error).message, path: opts.configFile }, "config file not readable");
      return;
    }
    const hash = sha256(text);
    if (hash === fileHash) return;
    fileHash = hash;
    const parsed = parseConfigText(text, flags);
    if (!parsed.ok)
      return refuse(
        `config refused (${opts.configFile}): ${parsed.errors.map((e) => e.message).join("; ")}`,
        "file",
        null,
      );
    if (current && sameConfig(current.config, parsed.config)) {
      if (current.source !== "file") await persist(current);
      return;
    }
    log.info({ path: opts.configFile }, "config file changed; adopting it");
    const d: DesiredConfig = {
      config: parsed.config,
      generation: null,
      revision: null,
      source: "file",
    };
    if (apply) await adopt(d, "desired");
    else current = d;
  }

  async function loadState(): Promise<void> {
    if (!opts.store || !flags) return;
    const r = await opts.store.load();
    if (!r.ok)
      return void log.error(
        { path: opts.store.path, reason: r.reason },
        "ignoring an unreadable state file",
      );
    if (!r.state) return;
    const reason = refusal(r.state.config, flags);
    if (reason) return refuse(`persisted ${reason}`, r.state.source, r.state.generation);
    const s = r.state;
    current = {
      config: s.config,
      generation: s.generation,
      revision: s.revision,
      source: s.source,
    };
    appliedGeneration = s.generation;
    fileHash = s.fileHash;
    persistedKey = JSON.stringify({ ...s, appliedAt: 0 });
    log.info({ generation: s.generation, source: s.source }, "loaded the last applied config");
  }

  function healLater() {
    if (healTimer || busy || queued || stopped) return;
    const delay = healStreak === 0 ? 0 : retryDelay(healStreak, HEAL_BACKOFF);
    healStreak++;
    healTimer = setTimeout(() => {
      healTimer = undefined;
      void requestApply("heal");
    }, delay);
  }

  return {
    async start() {
      flags = await opts.backend.effectiveFlags();
      await loadState();
      await checkFile(false);
      if (current && opts.mode === "enforce") await requestApply("startup");
      scheduleResync();
      if (opts.configFile) {
        fileTimer = setLongInterval(() => void checkFile(true), opts.fileCheckMs ?? 10_000);
      }
    },
    async stop() {
      stopped = true;
      resyncTimer?.clear();
      nextResyncAt = null;
      clearTimeout(healTimer);
      fileTimer?.clear();
      await tail;
    },
    desired: () => current,
    appliedGeneration: () => appliedGeneration,
    schedule: () => ({
      heal: opts.heal,
      resyncMs: current && opts.mode === "enforce" ? resyncMs(current) : null,
      nextResyncAt,
    }),
    async receive(msg) {
      if (!flags) flags = await opts.backend.effectiveFlags();
      const reason = refusal(msg.config, flags);
      if (reason) return refuse(reason, "dashboard", msg.generation);
      if (opts.mode === "observe")
        log.info(
          { generation: msg.generation },
          "observe mode: desired config recorded, not applied",
        );
      await adopt(
        {
          config: msg.config,
          generation: msg.generation,
          revision: msg.revision,
          source: "dashboard",
        },
        "desired",
      );
    },
    resync(trigger = "resync") {
      return opts.mode === "enforce" ? requestApply(trigger) : Promise.resolve();
    },
    observe(observed) {
      if (!current || !flags) {
        m?.drifted.set(-1);
        return undefined;
      }
      const { report, healable } = assessObserved(current.config, flags, observed);
      for (const s of ["critical", "warning", "info"] as const)
        m?.differences.set(
          { severity: s },
          report.differences.filter((d) => d.severity === s).length,
        );
      m?.drifted.set(report.status === "drifted" ? 1 : 0);
      if (report.status === "in-sync") {
        healStreak = 0;
        m?.lastSync.set(Date.now() / 1000);
      } else if (report.summary !== lastSummary) {
        log.warn(
          {
            summary: report.summary,
            heal: opts.mode === "enforce" ? opts.heal : "never (observe)",
          },
          "drift detected",
        );
      }
      lastSummary = report.status === "in-sync" ? "" : report.summary;
      if (healable && opts.mode === "enforce" && opts.heal === "immediate") healLater();
      return report;
    },
  };
}
