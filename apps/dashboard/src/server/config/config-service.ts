// The desired config as the rest of the server sees it: the store's current text, parsed
// with upstream semantics under the fleet's agent flags, plus the last *valid* revision,
// which is the only thing ever pushed to nodes.
import {
  type AgentFlags,
  type ConfigResult,
  configsEqual,
  type Issue,
  type MasqConfig,
  parseConfigText,
  retryDelay,
  serializeConfig,
  validateConfig,
} from "@masq/shared";
import { primaryOf } from "../fleet/staged-follow.js";
import type { SourceSet } from "../store/sources.js";
import type { ConfigRevision, ConfigStore } from "../store/types.js";
import {
  type Desired,
  MergedNumbering,
  type MergeView,
  mergeWith,
  type NumberingSeed,
} from "./merged-desired.js";
import { RevisionCache } from "./revision-cache.js";
import { SourceHistory } from "./source-history.js";
import { WorkQueue } from "./work-queue.js";

/** Config checks that may wait behind the running one before requests are refused (503). */
const MAX_WAITING_CHECKS = 16;

export interface ConfigState {
  rev: ConfigRevision;
  result: ConfigResult;
  /**
   * The config nodes enforce: the current one when valid, else the last valid revision. With
   * several sources: the merge when it has no conflict, else the last good merge.
   */
  desired: Desired | null;
  /** The merge, while sources besides the primary one exist (null: the primary alone). */
  merge?: MergeView | null;
}

/** The revision every node returned to when `desired`'s staged rollout was aborted; else null. */
export type AbortedTo = (desired: Desired) => Desired | null;

/** A candidate config from an API body: YAML text or a config object. */
export type ConfigInput = { yaml: string } | { config: MasqConfig };

export type Candidate =
  | { ok: true; text: string; config: MasqConfig; warnings: Issue[] }
  | { ok: false; errors: Issue[]; warnings: Issue[] };

export type ConfigListener = (state: ConfigState, previous: ConfigState | undefined) => void;

/** A change the state has not taken yet: a new primary revision, or the sources changed. */
type Step = { kind: "store"; rev: ConfigRevision } | { kind: "sources" };

/** Why a merge waits for its number (ConfigStore.reserveRevision failed; the store says why). */
const NOT_RESERVED =
  "its revision number could not be reserved (see the problems): a number not reserved could name another config on another replica, so nodes keep the config they have until one is";

export class ConfigService {
  private state: ConfigState | undefined;
  private readonly listeners = new Set<ConfigListener>();
  /** Every stored revision's parse, computed once. */
  readonly revisions: RevisionCache;
  /** Where requests run their config checks: one at a time, bounded (work-queue.ts). */
  readonly work = new WorkQueue(MAX_WAITING_CHECKS);

  private numbering: MergedNumbering | undefined;
  /**
   * Changes waiting, in order, while a merge's number is reserved (ConfigStore.reserveRevision:
   * the state takes a merge only with a number reserved for it), and the number reserved and
   * not used yet. Without reservations (the file store) every change is taken at once.
   */
  private readonly steps: Step[] = [];
  private draining = false;
  private started_ = false;
  private inHand: number | undefined;
  private retry: { timer: NodeJS.Timeout; attempt: number } | undefined;
  private readonly settledWaiters = new Set<() => void>();
  /** Which source besides the primary one changed, and how (GET /api/history/sources). */
  readonly sourceHistory: SourceHistory;
  /** Set by the server once the staged rollouts exist (holdAfterAbort). */
  private abortedTo: AbortedTo = () => null;

  constructor(
    readonly store: ConfigStore,
    readonly flags: AgentFlags,
    /** Config sources merged with the store's config (config-merge), if any. */
    readonly sources?: SourceSet,
  ) {
    this.revisions = new RevisionCache((text) => parseConfigText(text, flags));
    this.sourceHistory = new SourceHistory((text) => parseConfigText(text, flags));
  }

  /**
   * `seed`: the merged revisions a persisted rollout recorded (StagedRollouts' state read
   * before the start: numberingSeed), so a merge keeps its number across a restart.
   */
  async start(seed?: NumberingSeed): Promise<void> {
    this.store.onChange((rev) => this.update(rev));
    await this.store.start();
    if (this.sources) {
      this.sources.onChange(() => this.sourcesChanged());
      await this.sources.start();
    }
    const recorded = (await this.store.history()).map((r) => r.revision);
    // Above the merged numbers other replicas handed out too (read by history() just now).
    const shared = this.store.mergedUpTo?.() ?? 0;
    const first = this.store.current().revision;
    this.numbering = new MergedNumbering(Math.max(first, ...recorded), shared);
    if (seed && this.sources) this.numbering.seed(seed);
    // The first merge's number, reserved before the state is composed (once tried; on failure
    // the merge is held and tried again below).
    const want = this.wanted(this.store.current());
    if (want !== undefined) await this.reserve(want, false);
    // Started on an invalid config (edited while we were down): enforce the last valid one.
    // Started on a merge with a conflict: nothing (nodes keep what they enforce).
    const alone = (this.sources?.list().length ?? 0) === 0;
    const invalid = !this.revisions.get(this.store.current()).ok;
    const fallback = alone && invalid ? await this.lastValid() : null;
    // After the last await: the state is composed from what is current, so changes seen during
    // the start are in it already.
    const rev = this.store.current();
    this.state = this.compose(rev, this.revisions.get(rev), fallback);
    this.steps.length = 0;
    this.started_ = true;
    if (this.state.merge?.held === NOT_RESERVED) this.enqueue({ kind: "sources" });
  }

  /** Resolves once every change seen so far is in the state (or after `timeoutMs`). */
  settled(timeoutMs = 2000): Promise<void> {
    if (this.steps.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.settledWaiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, timeoutMs);
      this.settledWaiters.add(done);
    });
  }

  /** Stops retrying a reservation (the server closes). */
  close(): void {
    if (this.retry) clearTimeout(this.retry.timer);
    this.retry = undefined;
  }

  /**
   * Queues a change and takes what it can now. Each primary revision is taken in turn (listeners
   * see every one, as without reservations); source changes in a row are one (merged as they are
   * when taken).
   */
  private enqueue(step: Step): void {
    if (step.kind === "store" || this.steps.at(-1)?.kind !== "sources") this.steps.push(step);
    if (this.started_ && !this.draining) void this.drain();
  }

  /**
   * Takes the queued changes in order; one whose merge needs a new number waits for it to be
   * reserved (a failure retried with a backoff of 1 s to 30 s). Synchronous until then.
   */
  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let step = this.steps[0]; step; step = this.steps[0]) {
        const want = this.wantedFor(step);
        if (want !== undefined && !(this.inHand !== undefined && this.inHand >= want)) {
          if (!(await this.reserve(want, true))) return;
          continue; // the inputs may have changed meanwhile: decided again
        }
        this.steps.shift();
        if (step.kind === "store") this.takeRevision(step.rev);
        else this.takeSources();
      }
    } finally {
      this.draining = false;
      if (this.steps.length === 0) for (const done of [...this.settledWaiters]) done();
    }
  }

  /** Reserves a number of at least `want`; false when it failed (`retry`: drain again later). */
  private async reserve(want: number, retry: boolean): Promise<boolean> {
    try {
      this.inHand = await this.store.reserveRevision!(want);
      if (this.retry) clearTimeout(this.retry.timer);
      this.retry = undefined;
      return true;
    } catch {
      if (!retry) return false;
      const attempt = (this.retry?.attempt ?? 0) + 1;
      const timer = setTimeout(
        () => {
          if (!this.draining) void this.drain();
        },
        retryDelay(attempt - 1, { initialMs: 1000, maxMs: 30_000 }),
      );
      timer.unref();
      this.retry = { timer, attempt };
      return false;
    }
  }

  /** The number a step's merge must have reserved first; undefined: none needed. */
  private wantedFor(step: Step): number | undefined {
    const previous = this.state;
    if (!previous) return undefined;
    if (step.kind === "store")
      return step.rev.resourceVersion === previous.rev.resourceVersion
        ? undefined
        : this.wanted(step.rev);
    return this.heldMerge(previous) ? undefined : this.wanted(previous.rev);
  }

  /** The number the merge with `rev` needs reserved (only where the store reserves numbers). */
  private wanted(rev: ConfigRevision): number | undefined {
    const numbering = this.numbering;
    if (!this.store.reserveRevision || !this.sources || !numbering) return undefined;
    const extras = this.sources.list();
    if (extras.length === 0 && !numbering.used) return undefined;
    const merged = mergeWith(this.sources.primary, rev.text, extras, this.flags);
    return merged.ok ? numbering.wants(rev, merged.config) : undefined;
  }

  /** The state for a primary revision: alone, or merged with the other sources. */
  private compose(
    rev: ConfigRevision,
    result: ConfigResult,
    previous: Desired | null,
  ): ConfigState {
    const extras = this.sources?.list() ?? [];
    const numbering = this.numbering;
    if (!this.sources || !numbering || (extras.length === 0 && !numbering.used)) {
      numbering?.track(rev, extras);
      return { rev, result, desired: result.ok ? toDesired(rev, result.config) : previous };
    }
    const merged = mergeWith(this.sources.primary, rev.text, extras, this.flags);
    const want = merged.ok ? this.wanted(rev) : undefined;
    // Never a number not reserved: the merge waits for one (drain reserves it).
    if (want !== undefined && !(this.inHand !== undefined && this.inHand >= want))
      return {
        rev,
        result,
        desired: previous,
        merge: { result: merged, extras, held: NOT_RESERVED },
      };
    const reserved = want === undefined ? undefined : this.inHand;
    const desired = merged.ok ? numbering.desired(rev, merged.config, extras, reserved) : previous;
    if (reserved !== undefined && desired?.revision === reserved) this.inHand = undefined;
    this.store.numberAbove?.(numbering.highest);
    return { rev, result, desired, merge: extras.length > 0 ? { result: merged, extras } : null };
  }

  /** Holds merges of source changes while the primary's save is aborted (heldMerge). */
  holdAfterAbort(fn: AbortedTo): void {
    this.abortedTo = fn;
  }

  /** A source besides the primary one changed: merge again (takeSources). */
  private sourcesChanged(): void {
    this.enqueue({ kind: "sources" });
  }

  /** Merges the sources as they are now, tells listeners. */
  private takeSources(): void {
    const previous = this.state;
    if (!previous) return; // start() composes once the sources are read
    this.state =
      this.heldMerge(previous) ?? this.compose(previous.rev, previous.result, previous.desired);
    const merge = this.state.merge;
    const pushed = merge && (!merge.result.ok || merge.held) ? null : this.state.desired;
    this.sourceHistory.note(
      previous.merge?.extras ?? [],
      this.state.merge?.extras ?? [],
      pushed?.revision ?? null,
    );
    for (const fn of this.listeners) fn(this.state, previous);
  }

  /**
   * After an abort every node runs the stable revision, yet the primary's text still holds the
   * aborted change: merging that text with a changed (added, edited, removed) source would send
   * the aborted change to every node, unreviewed. So the merge is held, shown with why, and
   * nodes keep what they run, until an admin saves the primary again (or rolls back): that save
   * rolls out with its own strategy, the source change with it. Null when nothing is held.
   */
  private heldMerge(previous: ConfigState): ConfigState | null {
    const desired = previous.desired;
    const stable = desired && this.abortedTo(desired);
    return stable ? this.holdFor(previous, desired, stable) : null;
  }

  /**
   * `state` with the sources' merge held: `aborted` stays desired (nodes run `stable`, the
   * staged rollout's abort says so). Null when the merge is `aborted`'s config (nothing new).
   */
  private holdFor(state: ConfigState, aborted: Desired, stable: Desired): ConfigState | null {
    if (!this.sources) return null;
    const extras = this.sources.list();
    const result = mergeWith(this.sources.primary, state.rev.text, extras, this.flags);
    if (result.ok && configsEqual(result.config, aborted.config)) return null; // nothing new
    return {
      ...state,
      desired: aborted,
      merge: { result, extras, held: heldText(aborted, stable) },
    };
  }

  /**
   * Why a merge to `merged` made by saving a source other than the primary would be held now
   * (heldMerge: the primary's rollout was aborted); undefined when it would go out.
   */
  wouldHold(merged: MasqConfig): string | undefined {
    const desired = this.state?.desired;
    const stable = desired && this.abortedTo(desired);
    if (!desired || !stable) return undefined;
    // The aborted config itself: its rollout stays aborted (StagedRollouts keepAborted).
    if (configsEqual(merged, desired.config))
      return `this merge is the config of revision ${desired.revision}, whose staged rollout was aborted: it stays aborted, and every node stays on revision ${stable.revision}`;
    return heldText(desired, stable);
  }

  /**
   * Started on sources changed while this dashboard was down, the primary's text still the one
   * whose staged rollout was aborted (StagedRollouts.restore finds it in the persisted state):
   * the merge is held as a change made while running is (heldMerge), `aborted` desired and
   * nodes on `stable`. Called before anything is pushed, so listeners are not told. False when
   * there is nothing to hold.
   */
  /**
   * Merged revisions are numbered in memory from the store's highest revision at the start, so
   * numbers handed out before a restart came again for other configs: a staged rollout's
   * persisted revision (an aborted one, too) then named a new save. Numbers from here on are
   * above `revision` (the persisted rollout's, StagedRollouts.restore).
   */
  numberAbove(revision: number): void {
    this.numbering?.above(revision);
    if (this.numbering?.used) this.store.numberAbove?.(this.numbering.highest);
  }

  holdAtStart(aborted: Desired, stable: Desired): boolean {
    // The primary saved since restore read it (a kubectl edit, another replica): not held.
    if (this.state?.rev.resourceVersion !== primaryOf(aborted.resourceVersion)) return false;
    const held = this.state && this.holdFor(this.state, aborted, stable);
    if (held) this.state = held;
    return Boolean(held);
  }

  /** True once start() has composed the first state (current() may be called). */
  started(): boolean {
    return this.state !== undefined;
  }

  current(): ConfigState {
    if (!this.state) throw new Error("config service not started");
    return this.state;
  }

  onChange(fn: ConfigListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Parses and validates a candidate without saving it. */
  check(input: ConfigInput): Candidate {
    if ("yaml" in input) {
      const r = parseConfigText(input.yaml, this.flags);
      return r.ok ? { ok: true, text: input.yaml, config: r.config, warnings: r.warnings } : r;
    }
    const { errors, warnings } = validateConfig(input.config, this.flags);
    if (errors.length > 0) return { ok: false, errors, warnings };
    return { ok: true, text: serializeConfig(input.config), config: input.config, warnings };
  }

  /** A new primary revision (takeRevision). */
  private update(rev: ConfigRevision): void {
    // While the store starts: taken at once, as before. Once numbering exists the start composes
    // the first state from what is current (after its reservation), so nothing is taken here.
    if (this.started_) this.enqueue({ kind: "store", rev });
    else if (!this.numbering) this.takeRevision(rev);
  }

  private takeRevision(rev: ConfigRevision): void {
    const previous = this.state;
    if (previous && previous.rev.resourceVersion === rev.resourceVersion) return;
    const result = this.revisions.get(rev);
    this.state = this.compose(rev, result, previous?.desired ?? null);
    for (const fn of this.listeners) fn(this.state, previous);
  }

  /** A stored revision as nodes would enforce it; null when gone from the history or invalid. */
  async desiredOfRevision(resourceVersion: string): Promise<Desired | null> {
    const rev = (await this.store.history()).find((r) => r.resourceVersion === resourceVersion);
    const r = rev && this.revisions.get(rev);
    return rev && r?.ok ? toDesired(rev, r.config) : null;
  }

  /** The newest valid stored revision older than `revision` (null: none kept). */
  async desiredBefore(revision: number): Promise<Desired | null> {
    for (const rev of await this.store.history()) {
      if (rev.revision >= revision) continue;
      const r = this.revisions.get(rev);
      if (r.ok) return toDesired(rev, r.config);
    }
    return null;
  }

  private async lastValid(): Promise<Desired | null> {
    for (const rev of await this.store.history()) {
      const r = this.revisions.get(rev);
      if (r.ok) return toDesired(rev, r.config);
    }
    return null;
  }
}

function toDesired(rev: ConfigRevision, config: MasqConfig): Desired {
  return {
    revision: rev.revision,
    resourceVersion: rev.resourceVersion,
    config,
    author: rev.author,
  };
}

/** Why a merge is held after the abort of `aborted`'s staged rollout (every node on `stable`). */
function heldText(aborted: Desired, stable: Desired): string {
  return `revision ${aborted.revision} was aborted: every node runs revision ${stable.revision}, and a merge of the changed config sources with the ip-masq-agent config would bring the aborted change back to every node at once. The merge is held until the ip-masq-agent config is saved again (review it, then save or roll back).`;
}
