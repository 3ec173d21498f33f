// A change rolling out in waves (Argo Rollouts' canary steps). Each enforce-mode node's
// DESIRED revision follows its wave: released waves get the new revision, the others keep the
// previous one, and after an abort every node returns to it. Everything that judges a node
// (drift, status, resync) asks `desiredFor`, so a node not yet reached is never called drifted.
// A released node that fails to apply, goes offline right after applying, or drifts pauses the
// rollout with the reason. The state is persisted with the store and resumed after a restart.

import { randomUUID } from "node:crypto";
import {
  configsEqual,
  type DriftReport,
  inReaderNumbering,
  type NodeRolloutPlace,
  type NumberedConfig,
  placeByBounds,
  type Rollout,
  type RolloutAction,
  type RolloutEffect,
  type RolloutInput,
  type RolloutStrategy,
  remoteRulesJudged,
  type StagedRolloutView,
  startRollout,
  stepRollout,
  type WaveBounds,
  type WaveNode,
  type WavesStrategy,
} from "@masq/shared";
import type { Logger } from "pino";
import { revisionRefs } from "../config/desired-digest.js";
import type { Desired } from "../config/merged-desired.js";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { AtOnceRollout } from "./at-once-state.js";
import type { NodeRecord } from "./node.js";
import { rulesJudged } from "./rollout-done.js";
import { placeIn } from "./rollout-place.js";
import { offlineSince, offlineTransition, remoteOutcome } from "./rollout-remote.js";
import { cutWaves, describeStart, hasSelector, sameStrategy } from "./staged-cut.js";
import {
  begunHere,
  type Followed,
  followedOf,
  type Loaded,
  performedOf,
  primaryOf,
  type Said,
  said,
  saidOf,
  sameRollout,
} from "./staged-follow.js";
import { type HealedDriftReport, HealReports } from "./staged-heal-report.js";
import { type Intent, Intents } from "./staged-intents.js";
import { MissingNodes } from "./staged-missing.js";
import {
  heldElsewhere,
  type MoveAction,
  type MoveAnswer,
  type MoveInput,
  moveInput,
  notChecked,
  notHolder,
  notPerformed,
  notWritten,
  ownedElsewhereReason,
  type PlannedMove,
  planMove,
  REQUEST_CONFIRM_MS,
  type RequestAnswer,
  replacedMeanwhile,
  requestOutcome,
} from "./staged-move.js";
import { OfflineSuspects, REPORT_WAIT_MAX_MS } from "./staged-offline.js";
import type {
  ActionResult,
  Awaiting,
  HeldAtStart,
  PauseListener,
  ResumeListener,
  StagedOptions,
  StagingFleet,
} from "./staged-options.js";
import { PreexistingDrift } from "./staged-preexisting.js";
import {
  MAX_PERFORMED_IDS,
  type MoveRequest,
  pendingMessage,
  REQUEST_PENDING_MS,
  type ReplacedRequest,
  requesterOf,
  requestToPerform,
  SeenRequests,
} from "./staged-request.js";
import { PendingScan } from "./staged-scan.js";
import { actionRefused, heldMessage } from "./staged-scope.js";
import { rolloutStateBytes, sizeRefusalOf } from "./staged-size.js";
import {
  addAction,
  addRecorded,
  MAX_PAST_ROLLOUTS,
  type NodeOutcome,
  outcomeOf,
  type PastRollout,
  type Persisted,
  pastOf,
  persistedSchema,
  type RolloutPersistence,
  recordOf,
  type StagedRecord,
  type StagedState,
  StateWriter,
  stagedView,
  waveSize,
} from "./staged-state.js";
import {
  actionOf,
  inheritedReason,
  notAStateReason,
  unfollowedView,
  waveNames,
} from "./staged-words.js";
import { type Counted, setDigest, verifyMembers, withName } from "./wave-digest.js";

export type {
  ActionResult,
  HeldAtStart,
  LabelReader,
  PauseListener,
  RemoteNodes,
  ResumeListener,
  StagedOptions,
  StagingFleet,
  UpstreamRestart,
} from "./staged-options.js";

/** A failed read of a canary selector's node labels is tried again after these, then every 30 s. */
const LABEL_RETRIES_MS = [1_000, 2_000, 5_000, 10_000, 30_000];
/** A failed read of the persisted rollout is tried again after these delays (~7.5 s in all). */
const READ_RETRIES_MS = [250, 500, 1_000, 2_000, 4_000];
/**
 * Without leader election: a rollout another dashboard owns is claimed again only once it has
 * not renewed its record for this long (the singleton Lease's duration), and an owner renews
 * its record this often while its rollout runs.
 */
const HELD_RETRY_MS = 15_000;
const RENEW_MS = 5_000;

const DEFAULT_OFFLINE_WINDOW_MS = 60_000;
/** How often released waves are looked through for nodes offline before applying (ms). */
const OFFLINE_CHECK_MS = 3_000;
/** A rollout node's NodeMasquerade gone this long (not written again by a holder): dropped. */
const REMOTE_GONE_MS = 15_000;

interface RolloutSource {
  current: () => Desired | null;
  find: (resourceVersion: string) => Promise<Desired | null>;
}
/**
 * After a start, how long a node known from the roster (not reconnected yet) is not suspected
 * offline: reporters back off up to 30 s between tries, twice that (ui no-reporters.ts too).
 */
const RESTORED_GRACE_MS = 60_000;

export class StagedRollouts {
  private s: StagedState | null = null;
  /**
   * A staged revision whose waves are not cut yet (a canary selector's labels being read):
   * every enforce-mode node keeps `previous` until they are (late, never early).
   */
  private awaiting: Awaiting | null = null;
  /**
   * The newest revision begun here and its config's digest (persisted by the owner for the
   * others: staged-follow.ts begunHere; a merged revision's number alone may name another config).
   */
  private begun: Said | undefined;
  /**
   * The all-at-once rollout in progress, persisted so that a restart tracks it again on the
   * fleet bar (at-once-state.ts): by a dashboard holding every node it counts (no replica sync).
   */
  private readonly once = new AtOnceRollout();
  /** Its persisted record was read (at the first read of the state only). */
  private onceRead = false;
  /** The newest state read through the watch of the persisted state (a follower's). */
  private followed: unknown;
  private following: Promise<void> = Promise.resolve();
  /** The store's desired revision and its history (set by restore). */
  private source: RolloutSource | undefined;
  /** The ids of the last move requests performed, newest last (the owner persists them). */
  private performed: string[] = [];
  /** The newest move request read (performed once this replica owns the rollout). */
  private lastRequest: unknown;
  /** When each move request was first read here (its age is judged by this clock). */
  private readonly seenRequests: SeenRequests;
  /** Earlier rollouts' records (who promoted or aborted what), for History. */
  private past: PastRollout[] = [];
  /**
   * The last rollout aborted, kept after it was replaced while the primary save it was merged
   * from is current: the same merged config again under that save (an extra source that went
   * and came back) is that rollout, still aborted (keepAborted).
   */
  private aborted: { s: StagedState; previous: Desired } | null = null;
  /** Drift nodes had against the stable revision before the rollout reached them. */
  private readonly preexisting = new PreexistingDrift();
  /**
   * Leader election off: the dashboard recorded as the rollout's owner, which renewed it since
   * this one last looked (`at`: then, this clock). This one writes nothing and moves nothing
   * until that owner stops renewing for HELD_RETRY_MS (two owners took it from each other).
   */
  private heldBy: { owner: string; at: number } | null = null;
  /** The owner's renewal mark this replica last saw (a change: it still renews). */
  private seenRenewal: string | undefined;
  /** When this replica last asked for its state to be written (renewals: RENEW_MS). */
  private lastPersist = Number.NEGATIVE_INFINITY;
  /** Move requests asked here waiting for the owner's word (performed: `done`). */
  private readonly confirming = new Map<string, () => void>();
  /**
   * The rollout read from the persisted state as this dashboard started (its resourceVersion):
   * its waves' counted members are not known by name until their reporters reconnect (unseen).
   */
  private restored: string | undefined;
  private previous: Desired | null = null;
  private readonly appliedAt = new Map<string, number>();
  /**
   * Nodes held elsewhere seen applied and connected in this rollout: their apply is the first
   * such sight, not every later change of their status (a health or drift refresh).
   */
  private readonly remoteApplied = new Set<string>();
  /**
   * Nodes held elsewhere whose offline was suspected → that offline (its Connected condition's
   * transition): each offline is suspected once, however often its status changes meanwhile,
   * and a later one again (seen back, or a new transition), even after a fresh read cleared it.
   */
  private readonly remoteOff = new Map<string, string>();
  /** A finished rollout's outcomes (of its resourceVersion), fixed at the finish (outcome). */
  private frozen: { of: string; outcomes: Map<string, NodeOutcome> } | null = null;
  /** Whether the released nodes are settled (it resumes where it found one pending). */
  private readonly pending = new PendingScan();
  /** Released nodes that went offline soon after applying → since when, why (judgeSuspects). */
  private readonly suspects: OfflineSuspects;
  /** A settle skipped because the others' nodes were not listed yet (settled at a tick after). */
  private unlisted = false;
  /** Nodes of the rollout whose NodeMasquerade went (remoteOne), and their fresh reads. */
  private readonly missing = new MissingNodes();
  private readonly pauseListeners = new Set<PauseListener>();
  private readonly resumeListeners = new Set<ResumeListener>();
  private readonly atOnceOverListeners = new Set<(bar: Rollout) => void>();
  /** A follower's heals on released nodes held here, for the owner (staged-heal-report.ts). */
  private readonly heals = new HealReports();
  /** Why the last read of the nodes' labels for a canary selector failed (read again). */
  private labelRead: { of: Awaiting; error: string } | undefined;
  /** The last read of the persisted rollout failed (after its retries), and why. */
  private readError: string | undefined;
  /** Why the owner's newest state (followed) is not readable here; undefined: it is. */
  private followError: string | undefined;
  /** The rollout that was paused at the last change, to tell when it goes on or ends. */
  private pausedRef: { revision: number; resourceVersion: string } | null = null;
  private readonly intents: Intents;
  /** Moves run one at a time, each computed from the state the one before left. */
  private moves: Promise<unknown> = Promise.resolve();
  /**
   * A move's state is being written: nothing else is written, and no wave is settled or
   * failure taken, until it landed or was refused (taken after: `deferred`).
   */
  private moving = false;
  /** A state changed while a move's write ran: written after it. */
  private persistDeferred = false;
  /**
   * Failures reported while a move's write ran: taken after it, by the rollout (its
   * resourceVersion) they were reported in only, never one begun meanwhile; `node`'s failure
   * only while it is listed failed still (the move a retry of it: reported before, cleared).
   */
  private deferred: { input: RolloutInput; of: string; node?: string }[] = [];
  private readonly writer: StateWriter;
  /** Wall-clock ms: what is stored (actions, the state's times) and shown. */
  private readonly now: () => number;
  /** Monotonic ms: every local duration (StagedOptions.monotonic). */
  private readonly mono: () => number;
  /** The timed pause ending at `until` (wall) ends at `at` here (monotonic): pauseEnds. */
  private pauseEnd: { until: number; at: number } | null = null;
  private fleet: StagingFleet | undefined;
  /** Reads the persisted rollout again (set by restore; used when this replica takes over). */
  private reload: (() => Promise<boolean>) | undefined;
  /** Taking the Lease over, the persisted state not read yet: nothing is written or stepped. */
  private takingOver = false;
  /**
   * Owning a rollout read from the store (starting, or taking the Lease over): its released
   * nodes offline after applying are to be suspected anew (suspectInherited).
   */
  private inherited = false;
  private wasActive = true;
  /** A settled wave was held back by a refusal: settled again once it is lifted. */
  private heldBack = false;
  /** The refusal browsers were last shown with the rollout (its view says it is held). */
  private shownRefusal: string | null = null;
  /** Node → wave of the current rollout, built when first asked (placeOf runs per node). */
  private index: { of: StagedState; waves: Map<string, number> } | null = null;
  /** The places browsers were last told of: the rollout's shape, its nodes, its failed ones. */
  private shown = { key: "", names: new Set<string>(), failed: new Set<string>() };

  constructor(private readonly opts: StagedOptions) {
    const remote = opts.remote;
    this.suspects = new OfflineSuspects(
      remote?.connectedFresh && ((name) => remote.connectedFresh!(name)),
    );
    // Fenced (another replica wrote the state since this one read it): read it again at the
    // next tick, as when taking the Lease over, if this replica still holds it.
    this.writer = new StateWriter(
      opts.persistence,
      opts.log,
      () => this.isActive(),
      () => {
        this.wasActive = false;
      },
    );
    this.now = opts.now ?? Date.now;
    this.mono = opts.monotonic ?? opts.now ?? (() => performance.now());
    this.seenRequests = new SeenRequests(this.mono);
    this.intents = new Intents(this.mono); // a TTL: a wall-clock step must not drop a save's strategy
  }

  attach(fleet: StagingFleet): void {
    this.fleet = fleet;
  }

  /** Called where a rollout pauses (a failure, or a wave waiting for promotion). */
  onPause(fn: PauseListener): () => void {
    this.pauseListeners.add(fn);
    return () => this.pauseListeners.delete(fn);
  }

  /** Called when a paused rollout goes on (promoted, retried, resumed) or ends (aborted, replaced). */
  onResume(fn: ResumeListener): () => void {
    this.resumeListeners.add(fn);
    return () => this.resumeListeners.delete(fn);
  }

  /** The strategy of a save about to be made, found again by its text when the store reports it. */
  intend(text: string, strategy: RolloutStrategy, labels?: Intent["labels"]): void {
    this.intents.note(text, strategy, labels);
  }

  get active(): boolean {
    return this.awaiting !== null || (this.s !== null && !this.finished());
  }

  /**
   * How a revision saved now without a strategy of its own (a config source's save) rolls out,
   * by decide()'s rule: staged like the unfinished rollout, else `fallback`; waves this replica
   * cannot run now go at once. What a save's answer tells its editor.
   */
  strategyUnannounced(fallback: RolloutStrategy): RolloutStrategy {
    const s = this.running() ?? fallback;
    return s.kind === "waves" && !this.follows() && this.refusal() ? { kind: "all-at-once" } : s;
  }

  /** The strategy of the unfinished rollout (or of the one waiting for its waves); null: none. */
  private running(): RolloutStrategy | null {
    if (this.awaiting) return this.awaiting.strategy;
    return this.s && !this.finished() ? this.s.strategy : null;
  }

  view(): StagedRolloutView | null {
    const lost = this.follows() ? this.followError : undefined;
    if (lost && this.awaiting) return unfollowedView(this.awaiting, lost);
    const labels = this.labelError();
    if (labels && this.awaiting)
      return unfollowedView(
        this.awaiting,
        `the nodes' labels for the canary selector could not be read (${labels}); read again every few seconds, no wave is released until they are`,
      );
    if (!this.s || !this.fleet) return null;
    const s = this.s;
    const v = this.healedNoted(
      s,
      stagedView(
        s,
        (name) => this.outcome(s, name),
        (name) => this.fleet?.nodes.get(name)?.restored !== undefined,
      ),
    );
    if (lost) return { ...v, message: `${v.message}. Not followed here: ${lost}`, held: lost };
    const refused = this.refusal();
    if (refused && !this.finished())
      return { ...v, message: heldMessage(v.message, refused), held: refused };
    if (this.heldBy) {
      const why = ownedElsewhereReason(this.heldBy.owner);
      return { ...v, message: `${v.message}. ${why}`, held: why };
    }
    // The owner's to judge: kept by one that lost the Lease, unjudged, they say nothing here.
    // Their times are monotonic: shown as dates of the wall clock (to the second: the two
    // clocks' offset wavers by a fraction of a millisecond from one view to the next).
    const wallOf = (at: number) => Math.round((this.now() + at - this.mono()) / 1000) * 1000;
    const suspects =
      this.finished() || this.follows() ? null : this.suspects.message(!this.opts.remote, wallOf);
    return suspects ? { ...v, message: `${v.message}. ${suspects}` } : v;
  }

  /**
   * A failed node in sync on the revision now (a resync healed it) still counts failed until a
   * retry: its reason says so. The panel read "1 failed: drifted" beside the node in sync.
   */
  private healedNoted(s: StagedState, v: StagedRolloutView): StagedRolloutView {
    if (this.finished() || s.core.aborted) return v;
    const healed = (name: string) => {
      const n = this.fleet?.nodes.get(name);
      return n?.connected && n.status === "in-sync" && n.appliedRevision === s.revision;
    };
    if (!v.waves.some((w) => w.failedNodes.some((f) => healed(f.name)))) return v;
    const note = `; in sync on revision ${s.revision} now: Retry failed nodes counts it`;
    const waves = v.waves.map((w) => ({
      ...w,
      failedNodes: w.failedNodes.map((f) =>
        healed(f.name) ? { ...f, reason: f.reason + note } : f,
      ),
    }));
    return { ...v, waves };
  }

  /**
   * What is wrong with the unfinished rollout (for /readyz): a state that could not be written
   * (a restart would not resume it), a canary selector's labels not read, a state not followed;
   * an all-at-once rollout's persisted record not readable, or not written.
   */
  problems(): string[] {
    return [...this.stagedProblems(), ...this.once.problems(this.writer.lastError)];
  }

  /**
   * The fleet bar's rollout finished (FleetState onRolloutFinished): an all-at-once one is
   * persisted no more, so a restart neither tracks it again nor says its finish twice.
   */
  rolloutFinished(r: { revision: number; resumedAt?: number }): boolean {
    // Every replica active: this replica's bar finishing is not every node's (atOnceOver).
    if (this.opts.remote !== undefined) return this.toldByOwner(r);
    if (!this.s && this.once.finished(r.revision)) this.persist();
    return false;
  }

  /**
   * Every replica active: is this finish of the bar the one resumed at this start (held open
   * until the owner saw every node apply, heldOpen)? Then the owner tells it, over every node,
   * once (onAtOnceOver), and this replica does not again.
   */
  private toldByOwner(r: { revision: number; resumedAt?: number }): boolean {
    return r.resumedAt !== undefined && !this.s && this.once.resumedOf(r.revision);
  }

  /**
   * Every replica active: the bar resumed at this start for `revision` (an all-at-once rollout
   * the owner keeps) does not finish on this replica's nodes alone, only once the owner dropped
   * it, every node having applied it (atOnceOver).
   */
  heldOpen(revision: number): boolean {
    return this.opts.remote !== undefined && !this.s && this.once.heldOpen(revision);
  }

  /** Called once, by the owner, when an all-at-once rollout it kept finished over every node. */
  onAtOnceOver(fn: (bar: Rollout) => void): () => void {
    this.atOnceOverListeners.add(fn);
    return () => this.atOnceOverListeners.delete(fn);
  }

  /**
   * The owner, every replica active: the all-at-once rollout it keeps is over once nothing is
   * pending on the bar over every node (StagedOptions.fleetRollout: its nodes and the others'
   * by their NodeMasquerade); then it is dropped (every replica's resumed bar finishes) and its
   * finish told once. Looked at each tick while one is kept.
   */
  private atOnceOver(): void {
    const kept = this.once.inProgress();
    const remote = this.opts.remote;
    if (!kept || this.s || !remote || this.takingOver || remote.listed?.() === false) return;
    const bar = this.opts.fleetRollout?.();
    if (!bar || bar.revision !== kept.revision || bar.pending > 0) return;
    this.once.finished(kept.revision);
    this.persist();
    this.fleet?.rolloutChanged();
    for (const fn of this.atOnceOverListeners) fn(bar);
  }

  /** At start, before restore: the node roster listed the nodes known before (by name). */
  rosterListed(listed: boolean): void {
    this.once.rosterListed(listed);
  }

  private stagedProblems(): string[] {
    if (this.readError)
      return [
        `the persisted rollout state could not be read (${this.readError}): a staged rollout in progress is not resumed here, and its nodes get the current revision at once`,
      ];
    if (this.followError && this.follows())
      return [`${this.followError}: the nodes this replica holds stay on the previous revision`];
    const labels = this.labelError();
    if (labels && this.awaiting)
      return [
        `the nodes' labels for the canary selector of revision ${this.awaiting.revision} could not be read (${labels}): every node stays on revision ${this.awaiting.previous.revision} while they are read again`,
      ];
    const s = this.s;
    if (!s || this.finished() || !this.isActive()) return [];
    const out: string[] = [];
    if (this.writer.lastError)
      out.push(
        `the staged rollout of revision ${s.revision} could not be persisted (${this.writer.lastError}): a restart of this dashboard would not resume it`,
      );
    if (this.unlisted && this.opts.remote?.listed?.() === false)
      out.push(
        `the NodeMasquerades (the nodes other replicas hold) are not listed yet: no wave of the staged rollout of revision ${s.revision} is settled until they are`,
      );
    return out;
  }

  /** Why a staged rollout cannot be run correctly now; null when it can. */
  refusal(): string | null {
    return this.opts.refusal?.() ?? null;
  }

  /**
   * Why a new staged rollout would be refused (a save or rollback asking for waves): the
   * replicas' refusal, or a state over every node that could not be persisted and followed
   * (staged-size.ts; estimated with the current config as both revisions').
   */
  startRefusal(): string | null {
    return this.refusal() ?? this.sizeRefusal();
  }

  /**
   * Why the state of a rollout now could not be persisted and followed: its size does not grow
   * with the fleet, only with its configs (estimated with the current one as the previous, and
   * the text of the candidate, else the current one, as the new; the cut checks it exactly).
   */
  sizeRefusal(candidate?: string): string | null {
    const config = this.source?.current()?.config;
    return sizeRefusalOf(rolloutStateBytes([], [candidate ?? config, config]));
  }

  /** Resolves when the moves asked so far are made or refused, and the state is persisted. */
  async flush(): Promise<void> {
    await this.moves;
    await this.writer.flush();
  }

  /**
   * A new desired revision. Waves when the strategy says so and there is a previous revision
   * to keep; otherwise (all at once) any unfinished staged rollout ends here.
   */
  begin(
    next: Desired,
    prev: Desired | null,
    text: string,
    user: string,
    fallback: RolloutStrategy,
    announced?: RolloutStrategy,
  ): void {
    // Any new revision supersedes an all-at-once rollout (written with the state it leads to).
    this.once.drop();
    if (this.keepAborted(next, prev)) return;
    const { intent, strategy } = this.decide(next, text, fallback, announced);
    const { labels } = intent;
    // A rollout superseded before it finished, or aborted: the stable revision is still its
    // previous one (after an abort, what every node runs), never the superseded or aborted one.
    const stable = this.active || this.s?.core.aborted ? this.previous : prev;
    if (strategy.kind !== "waves" || !stable || stable.revision === next.revision) {
      // Asked for waves, yet at once: replicas holding their nodes for it learn so (`begun`).
      this.atOnce(next, this.opts.remote !== undefined && intent.strategy.kind === "waves", user);
      return;
    }
    const awaited = { revision: next.revision, previous: stable, strategy, next, user };
    if (this.follows()) this.awaitOwner(awaited);
    else if (hasSelector(strategy) && !labels && this.opts.labels) this.holdForLabels(awaited);
    else this.start(next, stable, strategy, labels, user);
  }

  /**
   * A merge numbered anew with the config of the rollout aborted under the same primary save
   * (an extra source flapped: nobody saved it): that rollout, aborted still, every node kept
   * on what it runs. Saved anew (another primary save), it is another rollout. True if kept.
   */
  private keepAborted(next: Desired, prev: Desired | null): boolean {
    const now =
      this.s?.core.aborted && this.previous ? { s: this.s, previous: this.previous } : null;
    const a = now ?? this.aborted;
    if (!a || primaryOf(a.s.resourceVersion) !== primaryOf(next.resourceVersion)) {
      this.aborted = null;
      return false;
    }
    const same = sameRollout(a.s, next);
    if (!same || this.follows()) return false;
    // What the nodes run since the abort (a flap back to the previous config numbered anew).
    const previous = prev && configsEqual(prev.config, a.previous.config) ? prev : a.previous;
    this.retire(next.revision);
    this.awaiting = null;
    this.s = {
      ...a.s,
      ...same,
      previous: { resourceVersion: previous.resourceVersion, revision: previous.revision },
      previousConfig: previous.config,
      actions: [...a.s.actions],
    };
    this.aborted = { s: this.s, previous };
    this.previous = previous;
    this.index = null;
    const detail = `revision ${next.revision} is the config of this aborted rollout again under the same save (an extra config source changed back): kept aborted, every node stays on revision ${previous.revision}; save it anew to roll it out`;
    addAction(this.s, "abort", "system", detail, this.now());
    this.opts.log.warn({ revision: next.revision }, detail);
    if (this.isActive()) this.begun = saidOf(next);
    this.changed();
    return true;
  }

  /** How a new revision rolls out: what it was saved with, else the default (or the running). */
  private decide(
    next: Desired,
    text: string,
    fallback: RolloutStrategy,
    announced: RolloutStrategy | undefined,
  ): { intent: Intent; strategy: RolloutStrategy } {
    // A revision that comes without a strategy of its own (an edit outside the dashboard, a
    // change to another config source) while a rollout runs is staged like it: it carries the
    // unpromoted change too, which must not reach the waves not yet released.
    const own = this.running() ?? fallback;
    const saved = announced && (this.opts.labels || !hasSelector(announced)) ? announced : null;
    // The strategy saved with the revision is every replica's word: an intent here for the same
    // text (a save of it that failed here, e.g. as stale) gives labels only when it agrees, and
    // with other replicas none applies to a revision saved without one (an edit outside).
    const taken = this.intents.take(text, saved ?? own);
    const agrees = announced
      ? sameStrategy(taken.strategy, announced)
      : this.opts.remote === undefined;
    const intent = agrees ? taken : { strategy: saved ?? own, at: taken.at };
    // A follower's refusal is its own (its list of the replica Leases not done or failing): the
    // owner decides, and the follower holds its nodes until it has read what (break5).
    const refused = intent.strategy.kind === "waves" && !this.follows() ? this.refusal() : null;
    // Every replica decides alike: waves here would not hold the change back from the nodes
    // other replicas hold, so it goes to every node at once (saves asking for waves are refused
    // before; this is a change made outside the dashboard, or a replica that just appeared).
    if (refused)
      this.opts.log.warn(
        { revision: next.revision, reason: refused },
        "a staged rollout cannot run now: the revision rolls out all at once",
      );
    return { intent, strategy: refused ? { kind: "all-at-once" } : intent.strategy };
  }

  /**
   * Not the owner: every enforce-mode node held here keeps `stable` until the owner's state of
   * this revision is read (follow), never cut here: the owner cut it over every node.
   */
  private awaitOwner(a: Awaiting): void {
    this.s = null;
    this.previous = a.previous;
    this.awaiting = a;
    this.changed();
    this.refollow();
  }

  /** The owner's persisted state changed (the Kubernetes store's watch): followed if not ours. */
  follow(raw: unknown): void {
    this.followed = raw;
    if (this.follows()) this.performed = performedOf(raw) ?? this.performed;
    // The owner's all-at-once rollout: kept here too; gone, a bar resumed here may finish now.
    const atOnce = (raw as { atOnce?: unknown } | null | undefined)?.atOnce;
    if (this.follows() && this.once.followed(atOnce, this.source?.current() ?? null))
      this.fleet?.rolloutChanged();
    this.refollow();
    for (const [id, done] of this.confirming) if (this.performed.includes(id)) done();
  }

  private refollow(): void {
    if (!this.follows() || this.followed === undefined) return;
    this.following = this.following
      .then(() => this.adopt())
      .catch((e: unknown) => this.opts.log.warn({ err: e }, "could not follow the rollout state"));
  }

  /**
   * Takes the owner's state of the store's revision, then sends each node held here whose
   * revision changed its own (a wave released, the rollout aborted, the revision not staged).
   */
  private async adopt(): Promise<void> {
    const current = this.source?.current();
    if (!current || !this.fleet || !this.follows()) return;
    const f = followedOf(this.followed, current);
    this.noteReadable(f);
    if (f.kind === "not-yet") return;
    const previous =
      f.kind === "rollout"
        ? (f.previous ?? (await this.source!.find(f.state.previous!.resourceVersion)))
        : null;
    if (f.kind === "rollout" && !previous) return;
    if (this.source?.current()?.revision !== current.revision || !this.follows()) return;
    const before = this.localDesired(current);
    const rv = f.kind === "rollout" ? f.state.resourceVersion : "";
    const was = this.releasedStep(rv);
    const wasFailed = this.s?.resourceVersion === rv ? Object.keys(this.s.failed) : [];
    this.past = f.past;
    this.awaiting = null;
    this.s = f.kind === "rollout" ? this.placed(f.state) : null;
    this.previous = previous;
    this.changed();
    this.settleHeals();
    const moved = [...before].filter(([n, r]) => this.desiredFor(n, current)?.revision !== r);
    // A retry cleared failed nodes: those held here are sent the revision again.
    const retried = wasFailed.filter((n) => this.s?.failed[n] === undefined);
    this.noteFollowed(moved.map(([n]) => n));
    this.fleet.pushTo([...moved.map(([n]) => n), ...retried]);
    // Observe-mode nodes held here of the waves released since: their upstream pods, as the
    // owner recreates its own.
    const now = this.releasedStep(this.s?.resourceVersion ?? "");
    if (now > was) this.restartObserved(was, now, this.s!.actions.at(-1)?.user ?? "the owner");
  }

  /** Whether the owner's state could be read here (said in problems() and the view). */
  private noteReadable(f: Followed): void {
    const unreadable = f.kind === "not-yet" && f.unreadable ? f.reason : undefined;
    if (unreadable === this.followError) return;
    if (unreadable) this.opts.log.warn({ reason: unreadable }, "cannot follow the rollout");
    this.followError = unreadable;
    this.changed();
  }

  /**
   * The owner's state read: the heals it took (it counts those nodes failed), and those of
   * another rollout, are no longer written in their NodeMasquerade.
   */
  private settleHeals(): void {
    const s = this.s;
    const running = s && !this.finished() ? s.resourceVersion : null;
    for (const name of this.heals.settle(running, (n) => s?.failed[n] !== undefined))
      this.fleet?.nodeChanged?.(name);
  }

  /**
   * Taking the rollout over: the heals this replica reported and the previous owner did not
   * take are taken here, and those the others report (written before the Lease changed hands).
   */
  private takeHeals(reported: [string, HealedDriftReport][]): void {
    const s = this.s;
    if (!s || this.finished()) return;
    for (const [name, r] of reported) {
      this.fleet?.nodeChanged?.(name);
      if (r.rollout === s.resourceVersion && s.failed[name] === undefined)
        this.failDrifted(s, name, r.message, `${name}: ${r.message}`);
    }
    const remote = this.opts.remote;
    const waiting = [...(remote?.list() ?? [])].filter((n) => remote?.status(n.name)?.healedDrift);
    if (waiting.length > 0) this.remoteChanged(waiting.map((n) => n.name));
  }

  /** The timelines of nodes held here that the owner's move sent a revision (as the owner's). */
  private noteFollowed(names: readonly string[]): void {
    const s = this.s;
    if (!s || !this.previous) return;
    const by = s.actions.at(-1)?.user ?? s.startedBy;
    for (const name of names) {
      const wave = this.waveOf(name);
      if (s.core.aborted)
        this.fleet?.noteEvent(
          name,
          "rollout-aborted",
          `rollout aborted by ${by}: back to revision ${this.previous.revision}`,
        );
      else if (wave === 0 && s.core.step === 0)
        this.fleet?.noteEvent(
          name,
          "rollout-started",
          `canary of revision ${s.revision} (started by ${by})`,
        );
      else
        this.fleet?.noteEvent(
          name,
          "rollout-promoted",
          `${waveNames(wave, wave)} of revision ${s.revision} released by ${by}`,
        );
    }
  }

  /** The last released wave of the rollout of `resourceVersion` as held here; -1: none. */
  private releasedStep(resourceVersion: string): number {
    const s = this.s;
    return s && s.resourceVersion === resourceVersion && !s.core.aborted ? s.core.step : -1;
  }

  /** What each enforce-mode node held here is to run now. */
  /** Sends the nodes held here whose revision is no longer the one in `before` their own. */
  private pushMoved(before: Map<string, number | undefined>, current: Desired): void {
    const moved = [...before].filter(([n, r]) => this.desiredFor(n, current)?.revision !== r);
    if (moved.length > 0) this.fleet?.pushTo(moved.map(([n]) => n));
  }

  private localDesired(current: Desired): Map<string, number | undefined> {
    const out = new Map<string, number | undefined>();
    for (const n of this.fleetNodes())
      if (n.hello.mode === "enforce") out.set(n.name, this.desiredFor(n.name, current)?.revision);
    return out;
  }

  /**
   * With every replica active, a replica not holding the singleton Lease follows the owner's
   * rollout: it never cuts, steps or writes one.
   */
  private follows(): boolean {
    return this.opts.remote !== undefined && !this.isActive();
  }

  /**
   * Every enforce-mode node keeps `stable` while the nodes' labels are read for the canary
   * selector; then the waves are cut and the canary's nodes held here are sent the revision.
   * A label read that fails is tried again (LABEL_RETRIES_MS), the nodes held meanwhile and the
   * reason said (view, problems): a canary cut from no labels would be empty, and its wave
   * "settled" would release wave 1 with no canary.
   */
  private holdForLabels(a: Awaiting) {
    const { next, previous: stable } = a;
    this.retire(next.revision);
    this.s = null;
    this.previous = stable;
    this.awaiting = a;
    this.changed();
    void this.readLabels(a, 0);
  }

  /** Why the labels of the revision held now could not be read (its last read failed). */
  private labelError(): string | undefined {
    const r = this.labelRead;
    return r && r.of === this.awaiting ? r.error : undefined;
  }

  private async readLabels(a: Awaiting, attempt: number): Promise<void> {
    const names = [...this.cutNodes("enforce"), ...this.cutNodes("observe")].map((n) => n.name);
    let labels: Map<string, Record<string, string>>;
    try {
      labels = await this.opts.labels!(names);
    } catch (e) {
      if (this.awaiting !== a) return; // superseded meanwhile
      this.opts.log.warn({ err: e }, "cannot read the nodes' labels for the canary selector");
      this.labelRead = { of: a, error: e instanceof Error ? e.message : String(e) };
      this.changed();
      const delay = LABEL_RETRIES_MS[Math.min(attempt, LABEL_RETRIES_MS.length - 1)];
      await new Promise((r) => setTimeout(r, delay));
      // Still the one to cut it (the Lease not lost, not superseded): read again.
      if (this.awaiting === a && !this.follows() && this.isActive())
        return this.readLabels(a, attempt + 1);
      return;
    }
    if (this.awaiting !== a) return; // superseded meanwhile
    this.labelRead = undefined;
    this.awaiting = null;
    this.startAndSend(a.next, a.previous, a.strategy, labels, a.user);
  }

  /** Starts a rollout held until now: the canary is sent it, or every node when not staged. */
  private startAndSend(...a: Parameters<StagedRollouts["start"]>): void {
    const staged = this.start(...a);
    this.fleet?.pushTo(staged ? (this.s?.waves[0] ?? []) : [...(this.fleet?.nodes.keys() ?? [])]);
  }

  /**
   * Not staged after all (the state would not be persisted or followed): every node gets `next`
   * at once, and replicas holding their nodes for it learn so (`begun`). A merged revision's
   * number is written too (`begun`): merged numbers live in memory, and a restart seeds them
   * from this state (numbering-seed.ts); without it a restart after merges rolled out at once
   * numbered a merge anew below the numbers nodes ran.
   */
  private atOnce(next: Desired, persist: boolean, user: string): void {
    if (this.isActive()) this.begun = saidOf(next);
    this.clear(next.revision);
    // Tracked again after a restart (at-once-state.ts) by a dashboard counting every node; with
    // every replica active by the elected owner, for every replica (atOnceOver).
    const elected = this.opts.remote === undefined || this.opts.active !== undefined;
    const tracked = elected && this.isActive();
    if (tracked) this.once.begin(next, this.now(), user, this.cutNodes("enforce").length);
    if (tracked || persist || primaryOf(next.resourceVersion) !== next.resourceVersion)
      this.persist();
  }

  /**
   * Cuts the waves over every node (those other replicas hold too) and starts the rollout; true
   * if so. A cut whose state could not be persisted or followed (staged-size.ts: a save asking
   * for it is refused before, this is a change made outside the dashboard) goes at once.
   */
  private start(
    next: Desired,
    stable: Desired,
    strategy: WavesStrategy,
    labels: Intent["labels"],
    user: string,
  ): boolean {
    const inMode = (mode: "enforce" | "observe"): WaveNode[] =>
      this.cutNodes(mode).map((n) => ({ name: n.name, labels: labels?.get(n.name) }));
    const cut = cutWaves(inMode("enforce"), inMode("observe"), strategy, [
      next.config,
      stable.config,
    ]);
    if ("error" in cut) {
      this.opts.log.warn(
        { revision: next.revision, reason: cut.error },
        "a staged rollout cannot run: the revision rolls out all at once",
      );
      this.atOnce(next, this.opts.remote !== undefined, user);
      return false;
    }
    const { waves } = cut;
    const now = this.now();
    this.awaiting = null;
    // Said begun only once cut: a state written while a canary's labels are read must not
    // tell the other replicas the revision goes at once.
    if (this.isActive()) this.begun = saidOf(next);
    this.retire(next.revision);
    this.previous = stable;
    this.preexisting.reset();
    for (const n of this.fleet?.nodes.values() ?? []) this.preexisting.note(n, stable.revision);
    this.appliedAt.clear();
    this.remoteApplied.clear();
    this.remoteOff.clear();
    this.s = {
      version: 1,
      resourceVersion: next.resourceVersion,
      revision: next.revision,
      previous: { resourceVersion: stable.resourceVersion, revision: stable.revision },
      config: next.config,
      previousConfig: stable.config,
      strategy,
      ...cut,
      digests: waves.map(setDigest),
      verified: waves.map(() => true),
      core: startRollout(waves.length - 1),
      failed: {},
      actions: [],
      startedAt: now,
      startedBy: user,
    };
    addAction(this.s, "start", user, describeStart(this.s), now);
    this.noteWave(0, "rollout-started", `canary of revision ${next.revision} (started by ${user})`);
    this.restartObserved(-1, 0, user);
    this.changed();
    this.settle();
    return true;
  }

  /**
   * What the fleet runs when no wave is pending: the previous (stable) revision after the
   * rollout of `current` was aborted, else `current` (the store's desired revision).
   */
  fleetDesired(current: Desired | null): Desired | null {
    const s = this.s;
    if (!s || !current || current.revision !== s.revision || !this.previous) return current;
    return s.core.aborted ? this.previous : current;
  }

  /** The revision every node returned to when the rollout of `current` was aborted; else null. */
  abortedTo(current: Desired): Desired | null {
    const s = this.s;
    return s?.core.aborted && s.revision === current.revision ? this.previous : null;
  }

  /** The revision a node should enforce now; `current` is the store's desired revision. */
  desiredFor(name: string, current: Desired | null): Desired | null {
    const held = this.awaiting;
    if (held && current?.revision === held.revision)
      return this.fleet?.nodes.get(name)?.hello.mode === "observe" ? current : held.previous;
    const s = this.s;
    if (!s || !current || current.revision !== s.revision || !this.previous) return current;
    if (s.core.aborted) return this.previous;
    const n = this.fleet?.nodes.get(name);
    if (n && n.hello.mode !== "enforce") return current;
    return this.waveOf(name) <= s.core.step ? current : this.previous;
  }

  /**
   * A node's wave; a node new to this rollout is placed by the boundaries fixed at the start
   * (as every replica places it) and keeps that wave.
   */
  private waveOf(name: string): number {
    const s = this.s!;
    const i = this.waveIndex(s).get(name);
    if (i !== undefined) return i;
    const w = placeByBounds(s.strategy as WavesStrategy, s.bounds)({ name });
    // Every replica places it alike; the owner's persisted sizes count it.
    s.waves[w]!.push(name);
    this.index?.waves.set(name, w);
    if (s.verified && s.digests) {
      // A wave whose members are all known: it joins them. Else it may be one of the counted
      // members not seen yet, or a joiner: told apart by the digest (wave-digest.ts).
      if (s.verified[w]) s.digests[w] = withName(s.digests[w]!, name, 1);
      else if (!this.verifyWave(s, w)) return w;
    } else if (s.floor && (s.floor[w] ?? 0) > 0 && s.waves[w]!.length <= s.floor[w]!) return w;
    this.persist();
    return w;
  }

  /**
   * Are the members the wave counted all among the nodes placed in it here (one more allowed:
   * a joiner, found by its hash)? If so they are taken as its members from now on. The owner
   * only: a follower settles nothing.
   */
  private verifyWave(s: StagedState, w: number, counted = this.counted(s, w)): boolean {
    if (!s.verified || !s.digests || !counted) return false;
    const v = verifyMembers(s.waves[w]!, counted);
    if (!v.ok) return false;
    s.verified[w] = true;
    s.digests[w] = v.joiner ? withName(counted.digest, v.joiner, 1) : counted.digest;
    return true;
  }

  /** What the persisted state counted in wave `w` (undefined: no digest, an older state). */
  private counted(s: StagedState, w: number): Counted | undefined {
    const digest = s.digests?.[w];
    return digest === undefined ? undefined : { size: s.floor?.[w] ?? 0, digest };
  }

  /** An apply-result (or its timeout) of a node. */
  applied(name: string, revision: number | null, ok: boolean, error?: string): void {
    const s = this.s;
    if (!s || this.follows() || this.finished() || revision !== s.revision || !this.released(name))
      return;
    if (ok) {
      this.appliedAt.set(name, this.mono());
      this.settle();
      return;
    }
    s.failed[name] = error ?? "no reason given";
    const reason = `${name} failed to apply: ${s.failed[name]}`;
    this.input({ type: "failure", reason }, "system", name);
  }

  /**
   * A node's reporter disconnected; `silentSince`: dropped for silence, its last frame (a hung
   * reporter stopped then, up to 30 s before it was given up on), on the monotonic clock.
   */
  offline(name: string, silentSince?: number): void {
    const at = this.appliedAt.get(name);
    const window = this.opts.offlineWindowMs ?? DEFAULT_OFFLINE_WINDOW_MS;
    const gone = silentSince ?? this.mono();
    if (!this.s || this.follows() || this.finished() || at === undefined || gone - at > window)
      return;
    const secs = Math.max(0, Math.round((gone - at) / 1000));
    const went = silentSince === undefined ? "went offline" : "went silent";
    this.suspect(name, `${name} ${went} ${secs} s after applying`);
  }

  /**
   * A released enforce-mode node connected nowhere that has not applied the revision cannot
   * apply it until it reconnects: it is suspected as one that went offline after applying is
   * (judged after the reconnect window, across replicas: staged-offline.ts), and the rollout
   * pauses saying so. It said "the canary is applying the revision" for as long as the node
   * stayed away (an offline node cut as the canary; a hung reporter dropped for silence before
   * its apply timed out). Looked at every few seconds: the released waves may hold many nodes.
   */
  private suspectOfflinePending(): void {
    const s = this.s;
    if (!s || this.follows() || this.finished() || s.core.aborted || s.core.pause) return;
    const now = this.mono();
    if (now - this.offlineCheckedAt < OFFLINE_CHECK_MS) return;
    this.offlineCheckedAt = now;
    // Once per node and rollout until it is seen connected: a pause resumed with the node still
    // away is not paused again for it.
    if (this.offlineSuspected.of !== s.resourceVersion)
      this.offlineSuspected = { of: s.resourceVersion, names: new Set() };
    const seen = this.offlineSuspected.names;
    for (let w = 0; w <= s.core.step; w++)
      for (const name of s.waves[w] ?? []) {
        if (s.failed[name] !== undefined) continue;
        if (!this.connectedNowhere(name)) {
          seen.delete(name);
          continue;
        }
        if (seen.has(name) || this.liveOutcome(s, name) === "applied") continue;
        seen.add(name);
        const holder = this.opts.remote?.status(name)?.replica;
        this.suspect(name, `${name} is offline and has not applied revision ${s.revision}`, holder);
      }
  }

  /** An enforce-mode node known here or to another replica, and connected to none. */
  private connectedNowhere(name: string): boolean {
    const n = this.fleet?.nodes.get(name);
    if (n?.connected) return false;
    // Known only from before this start (the node roster): its reporter may still be backing
    // off to reconnect (up to 30 s), so its absence is no sign yet that it went away.
    if (n?.restored && this.now() - n.restored.startedAt < RESTORED_GRACE_MS) return false;
    const st = this.opts.remote?.status(name);
    // Another replica's word on it, its mode included (it may observe there now).
    if (st) return !st.connected && st.mode === "enforce";
    return n !== undefined && n.hello.mode === "enforce";
  }

  private offlineCheckedAt = Number.NEGATIVE_INFINITY;
  /** The nodes suspectOfflinePending suspected in the rollout `of` (bounded by its waves). */
  private offlineSuspected = { of: "", names: new Set<string>() };

  /** A node's status changed: a released node that drifts from the new revision pauses. */
  judged(n: NodeRecord): void {
    const s = this.s;
    if (!s || this.follows() || this.finished() || n.status !== "drifted") return;
    // Observe mode: its drift is upstream's; placing it (released) put it back in its wave.
    if (n.hello.mode !== "enforce") return;
    if (!this.released(n.name) || n.appliedRevision !== s.revision) {
      if (this.previous) this.preexisting.note(n, this.previous.revision);
      return;
    }
    const excuse = this.preexisting.excuse(n, s.revision);
    if (excuse) {
      this.opts.log.info({ node: n.name, revision: s.revision }, excuse);
      this.fleet?.nodeChanged?.(n.name);
      return;
    }
    this.failDrifted(
      s,
      n.name,
      `drifted: ${n.summary}`,
      `${n.name} drifted from revision ${s.revision}: ${n.summary}`,
    );
  }

  /**
   * A released node whose rules an apply of the revision it already ran changed back: a drift
   * not judged live (the dashboard did not hear from it, or it came and went between two reads),
   * counted as `judged` counts one seen live. `what`: what is known of it (fleet-state.ts
   * healedDrift, its timeline's words); `seen`: its differences, when a read of them was
   * judged (excused as a live drift is, when the node showed them before the rollout reached it).
   */
  driftHealed(n: NodeRecord, what: string, seen?: DriftReport): void {
    const s = this.s;
    if (!s || this.finished() || n.hello.mode !== "enforce") return;
    if (!this.released(n.name) || n.appliedRevision !== s.revision) return;
    // Not the owner: told to it through the node's NodeMasquerade (staged-heal-report.ts).
    if (this.follows()) {
      this.reportHeal(s, n.name, what);
      return;
    }
    const excuse = seen && this.preexisting.excuse(n, s.revision, seen);
    if (excuse) {
      this.opts.log.info({ node: n.name, revision: s.revision }, excuse);
      return;
    }
    this.failDrifted(s, n.name, what, `${n.name}: ${what}`);
  }

  /**
   * A follower: a heal on a released node held here, written in its NodeMasquerade status for
   * the owner (heldStatus), until the owner's state counts it failed (adopt). Not excused as a
   * drift the node showed before the rollout reached it: that is the owner's record to read.
   */
  private reportHeal(s: StagedState, name: string, what: string): void {
    if (s.failed[name] !== undefined) return;
    this.heals.note(name, s.resourceVersion, what, this.now());
    this.opts.log.info(
      { node: name, revision: s.revision },
      "a drift healed on a released node: told to the rollout's owner through its NodeMasquerade",
    );
    this.fleet?.nodeChanged?.(name);
  }

  /** The heal of `name` (held here) waiting for the owner to take it; undefined: none. */
  healReport(name: string): HealedDriftReport | undefined {
    return this.heals.of(name);
  }

  /**
   * The owner: a released node held elsewhere whose holder reports a heal in this rollout
   * pauses it as one of its own nodes would, naming the node and its holder. True if so.
   */
  private remoteHeal(s: StagedState, name: string, st: NodeMasqueradeStatus): boolean {
    const h = st.healedDrift;
    if (!h || h.rollout !== s.resourceVersion || s.failed[name] !== undefined) return false;
    const by = `held by replica ${st.replica || "(none)"}`;
    this.failDrifted(s, name, `${h.message} (${by})`, `${name}: ${h.message} (${by})`);
    return true;
  }

  /** A released node drifted from the revision rolling out: failed, and the rollout pauses. */
  private failDrifted(s: StagedState, name: string, failed: string, reason: string): void {
    s.failed[name] = failed;
    this.input({ type: "failure", reason }, "system", name);
  }

  /**
   * A node's rules its wave waited for were judged (they had gone by a digest not held here,
   * or waited their turn): the wave its apply-result could not settle may settle now (break8).
   */
  rulesJudged(n: NodeRecord): void {
    const s = this.s;
    if (!s || this.follows() || this.finished() || !this.released(n.name)) return;
    if (n.appliedRevision === s.revision) this.settle();
  }

  /**
   * The rollout resumed at this dashboard's start, as the fleet bar tracks it again (null: none,
   * or finished): its revision, or after an abort the previous one every node returns to, from
   * the rollout's start (the abort's). Its nodes are counted as they reconnect (`unseen`).
   */
  resumedTracking(): { revision: number; resourceVersion: string; startedAt: number } | null {
    const s = this.s;
    const previous = this.previous;
    // None staged: the all-at-once rollout persisted before the start, if any (at-once-state.ts).
    if (!s) return this.once.tracking();
    if (!previous || s.resourceVersion !== this.restored || s.core.phase === "healthy") return null;
    if (!s.core.aborted)
      return { revision: s.revision, resourceVersion: s.resourceVersion, startedAt: s.startedAt };
    const abort = s.actions.findLast((a) => a.action === "abort");
    const at = abort ? Date.parse(abort.time) : Number.NaN;
    const { revision, resourceVersion } = previous;
    return { revision, resourceVersion, startedAt: Number.isNaN(at) ? s.startedAt : at };
  }

  /**
   * Of the nodes the rollout resumed at this dashboard's start counted in its waves when it was
   * last saved, those not placed here since (their reporters not reconnected, nor known through
   * another replica), counted as its waves' cards count them (staged-state.ts waveSize); after
   * an abort by number. For the fleet bar's tracking of `revision` (the rollout's, or after an
   * abort the previous one); 0 for any other rollout, or once it finished.
   */
  unseen(revision: number): number {
    const s = this.s;
    // An all-at-once one resumed with no node roster: its targets not back yet, by number.
    // With every replica active, once the NodeMasquerades are listed every node is known by name.
    if (!s)
      return this.once.unseen(
        revision,
        this.cutNodes("enforce").length,
        this.opts.remote !== undefined && this.opts.remote.listed?.() !== false,
      );
    if (s.resourceVersion !== this.restored || s.core.phase === "healthy") return 0;
    if ((s.core.aborted ? this.previous?.revision : s.revision) !== revision) return 0;
    if (s.core.aborted) {
      // No node is placed in a wave after an abort (all return): counted by number.
      let counted = 0;
      for (let w = 0; w < s.waves.length; w++)
        counted += Math.max(s.waves[w]!.length, s.floor?.[w] ?? 0);
      return Math.max(0, counted - this.cutNodes("enforce").length);
    }
    let n = 0;
    for (let w = 0; w < s.waves.length; w++) n += waveSize(s, w) - s.waves[w]!.length;
    return n;
  }

  /**
   * The nodes the rollout of `revision` counts failed now (failed to apply, drifted, offline
   * soon after applying; cleared by a retry); [] for another revision or none running.
   */
  failedNodes(revision: number): string[] {
    const s = this.s;
    return s && s.revision === revision && !s.core.aborted ? Object.keys(s.failed) : [];
  }

  /** A node forgotten (or now in observe mode): it is no longer waited for. */
  removed(name: string): void {
    const s = this.s;
    // Forgotten before or after a restart: not waited for by number either.
    if (!s && this.once.removed()) this.persist();
    // A finished rollout's waves keep their counts, as the fleet bar's do (rollout.ts).
    if (!s || this.follows() || this.finished()) return;
    s.waves.forEach((w, k) => {
      const i = w.indexOf(name);
      if (i < 0) return;
      w.splice(i, 1);
      if (s.verified && s.digests) this.unmember(s, k, name);
      // Counted in the persisted sizes too: no longer waited for there either.
      else if (s.floor?.[k]) s.floor[k]--;
    });
    this.index = null;
    delete s.failed[name];
    this.changed();
    this.settle();
  }

  /**
   * A node forgotten from wave `k`: no longer a member. Of a wave whose members are not all
   * known, only when the nodes left are then exactly the members counted less it (otherwise
   * it may have been a joiner: the count is kept, late never early).
   */
  private unmember(s: StagedState, k: number, name: string): void {
    if (s.verified![k]) {
      s.digests![k] = withName(s.digests![k]!, name, -1);
      return;
    }
    const c = this.counted(s, k);
    if (!c || c.size === 0) return;
    const less = { size: c.size - 1, digest: withName(c.digest, name, -1) };
    if (this.verifyWave(s, k, less)) s.floor![k] = less.size;
  }

  promote(user: string, full: boolean): ActionResult {
    return this.waiting() ?? this.operate({ type: "promote", full }, user);
  }

  retry(user: string): ActionResult {
    return this.waiting() ?? this.operate({ type: "retry" }, user);
  }

  abort(user: string): ActionResult {
    return this.waiting() ?? this.operate({ type: "abort" }, user);
  }

  /**
   * A move made here by the rollout's owner, answered once its state is written (issue 17): the
   * store is checked first (another replica's claim: refused, nothing changed), then the state
   * after the move is written, and only once that write landed is the move made (a wave
   * released, nodes sent the revision). A write refused changes nothing here: no node was sent
   * anything. No store: made at once.
   */
  async move(action: MoveAction, user: string, full = false): Promise<MoveAnswer> {
    const run = this.moves.then(() => this.moveOnce(action, user, full));
    this.moves = run.catch(() => {});
    return run;
  }

  private async moveOnce(action: MoveAction, user: string, full: boolean): Promise<MoveAnswer> {
    const early = this.waiting();
    if (early && !early.ok) return { ...early, status: 409 };
    // Not the Lease holder, and not following one (no replica sync): nothing here is persisted,
    // so a move made here would be answered and never stored.
    if (this.heldBy)
      return { ok: false, status: 409, error: heldElsewhere(action, this.heldBy.owner) };
    if (this.opts.persistence && !this.isActive() && !this.follows())
      return { ok: false, status: 409, error: notHolder(action) };
    const check = this.opts.persistence?.checkRollout;
    if (check && this.s && !this.follows()) {
      await this.writer.flush(); // the state this replica wrote last is the one checked
      try {
        await check();
      } catch (e) {
        return notChecked(action, e);
      }
    }
    const r = await this.storeThenMake(moveInput(action, full), user);
    if (!r.ok) return "status" in r ? r : { ...r, status: 409 };
    return { ok: true, view: this.view()! };
  }

  /**
   * Plans the move on the state now, writes the state after it, and makes it once the write
   * landed (`performed`: a request's id, stored with it). Refused (409/503) with nothing made.
   */
  private async storeThenMake(
    input: MoveInput,
    user: string,
    performed?: string,
  ): Promise<ActionResult | MoveAnswer> {
    const planned = this.plan(input, user);
    if (!planned.ok) return planned;
    const { plan } = planned;
    const ids = performed ? [...this.performed, performed].slice(-MAX_PERFORMED_IDS) : undefined;
    this.moving = true;
    this.writer.write(this.persisted(plan.state, ids));
    try {
      await this.writer.landed();
    } catch (e) {
      this.moved(null);
      return notWritten(input.type, e);
    }
    // Nothing stepped the rollout meanwhile (moving holds it); replaced, the move is moot.
    if (this.s !== plan.of || this.s.core !== plan.before) {
      this.moved(null);
      return { ok: false, status: 409, error: replacedMeanwhile(input.type, this.s) };
    }
    if (ids) this.performed = ids;
    this.moved(plan);
    return { ok: true, view: this.view()! };
  }

  /**
   * A move's write is over: the move (if it landed) is made, then what waited for it — the
   * state changed meanwhile written, failures reported meanwhile taken, the wave settled.
   */
  private moved(plan: PlannedMove | null): void {
    const dirty = this.persistDeferred;
    if (plan) this.take(plan, true);
    this.moving = false;
    this.persistDeferred = false;
    if (dirty) this.persist();
    const deferred = this.deferred;
    this.deferred = [];
    for (const { input, of, node } of deferred)
      if (this.s?.resourceVersion === of && (node === undefined || this.s.failed[node]))
        this.input(input, "system", node);
    if (this.s) this.settle();
  }

  /** A move asked here while one asked on another replica waits to be performed: refused. */
  private waiting(): ActionResult | null {
    const r = requestToPerform(this.lastRequest, this.s, this.performed);
    if (!r.ok || this.seenRequests.age(r.request.id) > REQUEST_PENDING_MS) return null;
    return { ok: false, error: pendingMessage(r.request) };
  }

  /** Does another replica own the rollout (moves asked here are requests: `request`)? */
  get ownedElsewhere(): boolean {
    return this.follows();
  }

  /**
   * A move asked on a replica that does not own the rollout: written beside the state for the
   * owner, which performs it once. Resolves once written; refused as the owner would refuse it
   * when nothing can move (no rollout, or refused fleet-wide).
   */
  async request(action: MoveRequest["action"], user: string, full = false): Promise<RequestAnswer> {
    const s = this.s;
    const save = this.opts.persistence?.saveRequest;
    if (!s) return { ok: false, error: "no staged rollout" };
    const refused = this.finished() ? null : this.refusal();
    if (refused) return { ok: false, error: actionRefused(action, refused, s.previous?.revision) };
    // What the owner would answer (e.g. nothing to promote), said here rather than requested.
    const input =
      action === "promote" ? ({ type: action, full } as const) : ({ type: action } as const);
    const check = stepRollout(s.core, input, (s.strategy as WavesStrategy).pause);
    if (!check.ok) return check;
    if (!save) return { ok: false, error: `${action}: this store cannot pass requests on` };
    const via = this.opts.replica ?? "unknown";
    const id = randomUUID();
    const at = this.now();
    const performed = this.performedWithin(id, this.opts.confirmWaitMs ?? REQUEST_CONFIRM_MS);
    try {
      await save({
        id,
        action,
        ...(full ? { full } : {}),
        user,
        via,
        resourceVersion: s.resourceVersion,
        at,
        step: s.core.step,
      });
    } catch (e) {
      this.confirming.delete(id);
      // Another move waits for the owner (kube-rollout.ts): said, not lost behind it.
      if ((e as { pending?: boolean }).pending) return { ok: false, error: (e as Error).message };
      throw e;
    }
    if (!(await performed)) return { ok: true, view: this.view()!, confirmed: false };
    await this.following; // the owner's state taken here: the view says the move
    return requestOutcome(this.s?.actions ?? [], action, requesterOf({ user, via }), this.view());
  }

  /** Resolves true once the owner stored request `id` as performed, false after `ms`. */
  private performedWithin(id: string, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.confirming.delete(id);
        resolve(false);
      }, ms);
      this.confirming.set(id, () => {
        clearTimeout(timer);
        this.confirming.delete(id);
        resolve(true);
      });
    });
  }

  /** A move request read beside the state: the owner performs it once. */
  requested(raw: unknown): void {
    this.seenRequests.note(raw);
    this.lastRequest = raw;
    this.performRequest();
  }

  private performRequest(): void {
    if (this.lastRequest === undefined || this.follows() || !this.isActive()) return;
    const r = requestToPerform(this.lastRequest, this.s, this.performed);
    const q = r.ok ? r.request : r.superseded;
    if (q?.replaces && this.s) this.notPerformed(this.s, q.replaces, q);
    if (!r.ok && r.superseded && this.s) this.supersede(this.s, r.superseded);
    if (!r.ok) return;
    const { request } = r;
    // Performed as a move made here: stored (with its id) first, made once stored.
    this.moves = this.moves.then(() => this.performRequested(request));
  }

  private async performRequested(request: MoveRequest): Promise<void> {
    if (this.performed.includes(request.id) || this.follows() || !this.isActive()) return;
    const refused = this.refusedHere(request.action);
    const out = refused
      ? { ok: false as const, error: refused }
      : await this.storeThenMake(
          moveInput(request.action, request.full ?? false),
          requesterOf(request),
          request.id,
        );
    if (out.ok) return;
    this.opts.log.warn({ request, error: out.error }, "a move asked on another replica failed");
    // Refused by the store: asked again at its next read. Refused as things stand: done.
    if ("status" in out) return;
    this.performed = [...this.performed, request.id].slice(-MAX_PERFORMED_IDS);
    // Said where its asker looks for it (the rollout's actions: RequestAnswer).
    const s = this.s;
    if (s) addAction(s, request.action, requesterOf(request), notPerformed(out.error), this.now());
    this.changed();
  }

  /**
   * A request asked before another move was made: not performed, recorded as done so that it
   * no longer waits (a later request may be written), and said in the rollout's actions, where
   * its asker (told "requested") looks for it.
   */
  private supersede(s: StagedState, q: MoveRequest): void {
    this.opts.log.warn({ request: q }, "a move asked on another replica was superseded");
    this.performed = [...this.performed, q.id].slice(-MAX_PERFORMED_IDS);
    const asked = q.step === undefined ? "" : ` (asked at ${waveNames(q.step, q.step)})`;
    const now = s.core.aborted
      ? "it was aborted"
      : `it is at ${waveNames(s.core.step, s.core.step)}`;
    const detail = `not performed${asked}: another move came first, ${now}`;
    addAction(s, q.action, requesterOf(q), detail, this.now());
    this.changed();
  }

  /**
   * A request written over before any owner performed it (none for 30 s): recorded as not
   * performed, once, where its asker (told "requested") looks for it.
   */
  private notPerformed(s: StagedState, old: ReplacedRequest, by: MoveRequest): void {
    if (this.performed.includes(old.id)) return;
    this.performed = [...this.performed, old.id].slice(-MAX_PERFORMED_IDS);
    const asked = old.step === undefined ? "" : ` (asked at ${waveNames(old.step, old.step)})`;
    const detail = `not performed${asked}: no owner performed it within ${REQUEST_PENDING_MS / 1000} s, and ${by.action} by ${requesterOf(by)} was asked after it`;
    addAction(s, old.action, requesterOf(old), detail, this.now());
    this.changed();
  }

  /** Timed pauses end here (the server's 1 s sweep). */
  tick(): void {
    const refusal = this.s ? this.refusal() : null;
    if (refusal !== this.shownRefusal) {
      this.shownRefusal = refusal;
      this.fleet?.rolloutChanged();
    }
    // Leader election off, another dashboard renewing the rollout: looked at again each Lease
    // duration (claimed if it stopped renewing).
    if (this.heldBy && this.mono() - this.heldBy.at >= HELD_RETRY_MS) {
      this.heldBy = null;
      this.fleet?.rolloutChanged(); // the view no longer names that owner (claimed again: it does)
    }
    const active = this.isActive();
    if (active && this.wasActive) this.renew();
    if (active && !this.wasActive && this.reload) this.takeOver(this.reload);
    this.wasActive = active;
    if (!active) return;
    this.dropMissing();
    this.suspectInherited();
    this.judgeSuspects();
    if (this.unlisted && this.opts.remote?.listed?.() !== false) this.settle();
    if (this.heldBack && this.refusal() === null && this.suspects.size === 0) {
      this.heldBack = false;
      this.settle();
    }
    this.suspectOfflinePending();
    this.atOnceOver();
    const pause = this.s?.core.pause;
    // Over when the pause's length has passed on the monotonic clock: `until` is the wall's.
    if (pause?.kind === "duration" && this.mono() >= this.pauseEnds(pause.until))
      this.input({ type: "tick", now: pause.until }, "system");
  }

  /**
   * When a timed pause ending at `until` (wall ms, stored and shown) ends on the monotonic
   * clock, fixed when first seen: a wall clock stepped forward had released the next wave at
   * once, with no soak time; one stepped back held it as much longer.
   */
  private pauseEnds(until: number): number {
    if (this.pauseEnd?.until !== until)
      this.pauseEnd = { until, at: this.mono() + (until - this.now()) };
    return this.pauseEnd.at;
  }

  /**
   * Taking over: the persisted rollout is read again, then the one now held is persisted (a
   * rollout started before this replica held the Lease was never written, and a replica
   * starting now would not find it: it would send its nodes the new revision at once).
   */
  private takeOver(reload: () => Promise<boolean>): void {
    this.takingOver = true;
    const current = this.source?.current();
    const before = current ? this.localDesired(current) : new Map<string, number | undefined>();
    void reload().then((read) => {
      // Not read (the API server not answering): nothing is written or stepped from the state
      // followed so far, which may be older than the one persisted (an abort not seen yet);
      // read again at the next tick.
      if (!read) {
        this.wasActive = false;
        return;
      }
      this.takingOver = false;
      this.inherited = true;
      this.takeHeals(this.heals.clear());
      // A move not stored (fenced, or its write failed) was sent to nodes here: they get
      // what the stored state says.
      if (current) this.pushMoved(before, current);
      this.performRequest(); // one asked while no replica owned the rollout
      if (this.takeAwaited()) return;
      if (!this.s) return;
      this.persist();
      // A wave the previous holder saw settle (or none saw: its nodes applied before) is
      // settled here now, not at the next apply that may never come.
      this.settle();
    });
  }

  /**
   * Taking the Lease over while holding nodes for a staged revision the previous owner never
   * persisted (it died first): this replica cuts and starts it now, as the owner. True if so.
   */
  private takeAwaited(): boolean {
    const a = this.awaiting;
    if (!a) return false;
    if (this.s?.revision === a.revision) {
      this.awaiting = null;
      return false;
    }
    if (hasSelector(a.strategy) && this.opts.labels) this.holdForLabels(a);
    else this.startAndSend(a.next, a.previous, a.strategy, undefined, a.user);
    return true;
  }

  /**
   * After a restart: resumes the persisted rollout of the current revision. `find` looks a
   * revision up in the store's history (the previous one's config).
   */
  async restore(
    current: () => Desired | null,
    find: (resourceVersion: string) => Promise<Desired | null>,
    held?: HeldAtStart,
  ): Promise<void> {
    this.source = { current, find };
    this.atStart = held;
    this.reload = async () => {
      const loaded = await this.load(current(), find);
      this.sayBegun(loaded);
      return loaded.read;
    };
    this.wasActive = this.isActive();
    const loaded = await this.load(current(), find);
    this.restored = this.s?.resourceVersion;
    this.atStart = undefined;
    if (held && this.follows() && !this.s && !this.awaiting) await this.holdUnbegun(held, loaded);
    this.sayBegun(loaded);
    this.inherited = this.isActive();
    this.refollow(); // a state read through the watch before
  }

  /**
   * The owner (starting, or taking the Lease over) with no rollout of the current revision runs
   * it at once: it says so (`begun`), or followers that started holding it (holdUnbegun) would
   * hold it for good when no replica ever persisted it (its owner died before, the others
   * restarted since). Not when the state could not be read: that would overwrite it.
   */
  private sayBegun(loaded: Loaded): void {
    const current = this.source?.current();
    if (!this.opts.remote || !this.isActive() || !loaded.read || !current) return;
    if (this.s?.revision === current.revision || this.awaiting) return;
    if (begunHere(loaded, current)) return;
    this.begun = saidOf(current);
    this.persist();
  }

  /**
   * A follower starting (scaled up, restarted) on a revision saved with waves that the owner has
   * neither persisted a rollout of nor said it began (its labels still read, or it died between
   * the cut and the write): every enforce-mode node held here keeps the revision before it
   * until the owner's state is read, as a replica that saw the save does (late, never early).
   */
  private async holdUnbegun(held: HeldAtStart, said: Partial<Said>): Promise<void> {
    const next = this.source?.current();
    if (!next || begunHere(said, next)) return;
    const announced = held.strategy();
    const saved = announced && (this.opts.labels || !hasSelector(announced)) ? announced : null;
    const strategy = saved ?? held.fallback;
    if (strategy.kind !== "waves") return;
    const previous = await held.before(next.revision);
    if (!previous || this.s || this.source?.current()?.revision !== next.revision) return;
    this.awaiting = {
      revision: next.revision,
      previous,
      strategy,
      next,
      user: next.author ?? "unknown",
    };
    this.previous = previous;
    this.changed();
  }

  private isActive(): boolean {
    return (this.opts.active?.() ?? true) && this.heldBy === null;
  }

  /** No leader election and no replica sync: every dashboard acts as the rollout's owner. */
  private unelected(): boolean {
    return this.opts.active === undefined && this.opts.remote === undefined;
  }

  /** Set during restore's first read only (HeldAtStart's holdMerge and numberAbove). */
  private atStart: HeldAtStart | undefined;

  /**
   * The persisted rollout, its read tried again for a while when it fails (the API server
   * restarting): read as "none", a rollout in progress would not be resumed, and its waves not
   * yet released would get the new revision from this replica at once. undefined: not read.
   */
  private async readPersisted(): Promise<unknown | null | undefined> {
    const persistence = this.opts.persistence;
    if (!persistence) return null;
    for (let attempt = 0; ; attempt++) {
      try {
        // The owner claims it first (a new owner epoch): no earlier owner's write lands after.
        const raw = await this.claimAndLoad(persistence);
        this.readError = undefined;
        return raw;
      } catch (e) {
        this.readError = (e as Error).message;
        if (attempt >= READ_RETRIES_MS.length) {
          this.opts.log.error({ err: e }, "could not read the persisted rollout state");
          return undefined;
        }
        this.opts.log.warn({ err: e }, "could not read the persisted rollout state; retrying");
        await new Promise((r) => setTimeout(r, READ_RETRIES_MS[attempt]));
      }
    }
  }

  /**
   * Reads the persisted rollout, claiming it first when this replica is to own it; leader
   * election off, not while another dashboard recorded as owner renews that (heldBy): then
   * read only, and said (log, view).
   */
  private async claimAndLoad(persistence: RolloutPersistence): Promise<unknown | null> {
    if (!this.isActive()) return persistence.loadRollout();
    const owner = this.opts.claimAs ?? this.opts.replica ?? "dashboard";
    const yieldTo = this.persistsUnelected() ? { yieldTo: { seen: this.seenRenewal } } : {};
    try {
      const raw = await persistence.loadRollout({ owner, ...yieldTo });
      if (this.heldBy) this.opts.log.info({ owner }, "this dashboard owns the rollout now");
      return raw;
    } catch (e) {
      const held = e as { held?: boolean; holder?: string; renewed?: string };
      if (!held.held || !held.holder) throw e;
      this.seenRenewal = held.renewed;
      this.heldBy = { owner: held.holder, at: this.mono() };
      this.opts.log.warn(
        { owner: held.holder },
        "another dashboard owns the staged rollout and renews it: this one (no leader election) does not take it over; enable leader election",
      );
      this.changed();
      return persistence.loadRollout();
    }
  }

  /**
   * Leader election off, owning a running rollout: its record is written again every RENEW_MS
   * (the renewal another dashboard waits out before it claims the rollout).
   */
  private renew(): void {
    if (!this.persistsUnelected() || !this.s || this.finished()) return;
    if (this.mono() - this.lastPersist >= RENEW_MS) this.persist();
  }

  private persistsUnelected(): boolean {
    return this.unelected() && this.opts.persistence !== undefined;
  }

  /**
   * Reads the persisted rollout. `read`: the read and its parse succeeded (none persisted is
   * read too); `begun`, `begunConfig`: the revision the owner said it began and its config.
   */
  private async load(
    current: Desired | null,
    find: (resourceVersion: string) => Promise<Desired | null>,
  ): Promise<Loaded> {
    const raw = await this.readPersisted();
    if (raw === undefined) return { read: false };
    if (raw === null) return { read: true };
    const parsed = persistedSchema.safeParse(raw);
    if (!parsed.success) return this.notAState(parsed.error);
    this.takeBeside(parsed.data, current);
    const old = parsed.data.current;
    if (old) this.atStart?.numberAbove?.(Math.max(old.revision, old.previous?.revision ?? 0));
    const s = old && current ? sameRollout(old, current) : null;
    if (old && current && !s && (await this.resumeHeld(old, current, find)))
      return { read: true, ...said(parsed.data) };
    if (!s || !current || !s.previous) {
      if (old) this.past = [...this.past, pastOf(old)].slice(-MAX_PAST_ROLLOUTS);
      return { read: true, ...said(parsed.data) };
    }
    const previous = await previousOf(s, find, this.opts.log);
    if (!previous) return { read: true, ...said(parsed.data) };
    this.resume(s, previous);
    return { read: true, ...said(parsed.data) };
  }

  /**
   * The persisted rollout was aborted and the primary's text is still its own (not saved since),
   * but the merge differs from its config: config sources changed while this dashboard was
   * down. Merged with that text they would bring the aborted change to every node at once, so
   * the rollout is resumed as it was and the merge held (config-service holdAtStart), as a
   * change made while running is. Only at the start (restore's `holdAtStart`).
   */
  private async resumeHeld(
    old: StagedRecord,
    current: Desired,
    find: (resourceVersion: string) => Promise<Desired | null>,
  ): Promise<boolean> {
    const hold = this.atStart?.holdMerge;
    if (!hold || !old.core.aborted || !old.config || !old.previous) return false;
    if (primaryOf(old.resourceVersion) !== primaryOf(current.resourceVersion)) return false;
    const previous = await previousOf(old, find, this.opts.log);
    const aborted = { revision: old.revision, resourceVersion: old.resourceVersion };
    if (!previous || !hold({ ...aborted, config: old.config }, previous)) return false;
    this.opts.log.warn(
      { revision: old.revision, stable: previous.revision },
      "config sources changed while the dashboard was down, after an abort: the merge is held",
    );
    this.resume(old, previous);
    return true;
  }

  /** What the state keeps beside its rollout: History, moves performed, an all-at-once rollout. */
  private takeBeside(p: Persisted, current: Desired | null): void {
    this.restoreOnce(p.atOnce, current);
    this.past = p.past;
    if (p.performed !== undefined) this.performed = [...(p.performedBefore ?? []), p.performed];
  }

  /**
   * At the first read: the all-at-once rollout persisted before the start, tracked again when it
   * is the current revision's, by the owner counting every node (not a standby, nor replicas).
   */
  private restoreOnce(raw: unknown, current: Desired | null): void {
    if (this.onceRead) return;
    this.onceRead = true;
    // A standby does not track it; with every replica active each one does (the owner keeps it).
    if (this.opts.remote === undefined && !this.isActive()) return;
    const read = this.once.restore(raw, current);
    const log = this.opts.log;
    if (read.kind === "bad")
      log.error(
        { reason: read.error },
        "the persisted all-at-once rollout is not readable: the fleet bar does not track it again",
      );
    else if (read.kind === "resumed") {
      const { revision, startedAt, startedBy } = read.record;
      const at = new Date(startedAt).toISOString();
      log.info({ revision, startedAt: at, startedBy }, "all-at-once rollout resumed");
    } else if (read.kind === "other")
      log.info(
        { revision: read.record.revision, current: current?.revision },
        "the persisted all-at-once rollout is not of the current revision: not tracked again",
      );
  }

  /** `s` (read from the persisted state) becomes the rollout followed here. */
  private resume(s: StagedRecord, previous: Desired): void {
    // An older dashboard's state named its waves: the schema read their boundaries (fromWaveLists).
    this.s = this.placed(s);
    this.previous = previous;
    // A Lease taken over reads the holder's rollout in place of the one followed: browsers are
    // sent it (no other change need follow: the holder may have left nothing to settle).
    this.fleet?.rolloutChanged();
    this.notePlaces();
    this.opts.log.info(
      { resourceVersion: s.resourceVersion, phase: s.core.phase },
      "rollout resumed",
    );
  }

  /**
   * Read, but not a state (a hand edit): the replica goes on with the state it followed (and,
   * owning the rollout, writes it over the edit). Having followed none (it just started), it is
   * a read that failed (problems() says so) and nothing is written over it: taken as "no
   * rollout" (break6), an owner restarting said the revision begun at once, overwriting the
   * state, and every replica sent every wave the revision unreleased.
   */
  private notAState(error: { issues: { path: PropertyKey[]; message: string }[] }): {
    read: boolean;
  } {
    this.opts.log.warn({ err: error }, "the persisted rollout state is not readable");
    if (this.s) return { read: true };
    this.readError = notAStateReason(error.issues[0]);
    return { read: false };
  }

  /** A move made at once (no store to wait for: tests, the in-memory path). */
  private operate(input: MoveInput, user: string): ActionResult {
    const planned = this.plan(input, user);
    if (!planned.ok) return planned;
    this.take(planned.plan, false);
    return { ok: true, view: this.view()! };
  }

  /** Why a move cannot be made here now; null when it can be planned. */
  private refusedHere(type: MoveInput["type"]): string | null {
    if (!this.s) return "no staged rollout";
    const refused = this.finished() ? null : this.refusal();
    if (refused) return actionRefused(type, refused, this.s.previous?.revision);
    if (this.follows())
      return `${type} is asked of the rollout's owner: this replica does not hold the singleton Lease (use request)`;
    if (this.takingOver)
      return `${type}: this replica is taking the rollout over and has not read its state yet; try again in a moment`;
    return null;
  }

  /** The move on the state now, not made (planMove), or why not. */
  private plan(
    input: MoveInput,
    user: string,
  ): { ok: true; plan: PlannedMove } | { ok: false; error: string } {
    const refused = this.refusedHere(input.type);
    if (refused) return { ok: false, error: refused };
    return planMove(this.s!, input, user, this.now());
  }

  /** Makes a planned move: its state taken, its effect performed (`stored`: already written). */
  private take(plan: PlannedMove, stored: boolean): void {
    const s = this.s!;
    s.core = plan.core;
    addRecorded(s, plan.recorded);
    // A retry sends the revision again to the failed nodes it was asked for, and (failures the
    // persisted state did not list) to every released node not applied.
    const retried = plan.effect === "retry" ? [...plan.retried, ...this.unlistedFailures(s)] : [];
    for (const name of plan.retried) delete s.failed[name];
    if (plan.effect === "retry") delete s.failedMore;
    if (plan.effect) this.perform(plan.effect, plan.before.step, plan.user, retried);
    this.changed(!stored);
    if (s.core.phase === "paused" && plan.before.phase !== "paused") this.paused();
    if (plan.effect) this.settle();
  }

  /** Runs the state machine; undefined when it took the input (`node`: a failure's node). */
  private input(
    input: RolloutInput,
    user: string,
    node?: string,
  ): { ok: false; error: string } | undefined {
    const s = this.s!;
    if (this.follows() || this.takingOver || this.holds(input, node)) return;
    const before = s.core;
    const r = stepRollout(before, input, (s.strategy as WavesStrategy).pause);
    if (!r.ok) return r;
    // Nothing happened (a tick before the pause ends): nothing to record. A second failure
    // leaves the pause as it is, but its node is listed as failed now.
    if (r.core === before && !r.effect) {
      if (input.type === "failure") this.changed();
      return undefined;
    }
    s.core = r.core;
    if (user !== "system" || input.type === "tick" || input.type === "failure")
      this.record(input, user, before.step);
    else if (input.type === "wave-settled") this.noteSettled(input.sizes ?? [], before);
    if (r.effect) this.perform(r.effect, before.step, user, Object.keys(s.failed));
    this.changed();
    if (s.core.phase === "paused" && before.phase !== "paused") this.paused();
    if (r.effect) this.settle();
    return undefined;
  }

  /**
   * While refused, a wave released or finished here would count and reach only this replica's
   * nodes; while a node is suspected offline, it might yet pause the rollout: time and settled
   * waves are held back (settled again once the refusal is lifted and no node is suspected).
   * While a move's state is written, failures wait for it (taken after: moved).
   */
  private holds(input: RolloutInput, node?: string): boolean {
    if (this.moving && input.type === "failure") {
      this.deferred.push({ input, of: this.s!.resourceVersion, node });
      return true;
    }
    if (input.type !== "tick" && input.type !== "wave-settled") return false;
    if (!this.moving && this.refusal() === null && this.suspects.size === 0) return false;
    this.heldBack = true;
    return true;
  }

  private record(input: RolloutInput, user: string, fromStep: number): void {
    const a = actionOf(input, this.s!, fromStep);
    if (a) addAction(this.s!, a.action, user, a.detail, this.now());
  }

  private perform(effect: RolloutEffect, fromStep: number, user: string, retried: string[]): void {
    const s = this.s!;
    const fleet = this.fleet;
    if (!fleet) return;
    if (effect === "release") {
      const names: string[] = [];
      for (let w = fromStep + 1; w <= s.core.step; w++) {
        names.push(...s.waves[w]!);
        this.noteWave(
          w,
          "rollout-promoted",
          `${waveNames(w, w)} of revision ${s.revision} released by ${user}`,
        );
      }
      fleet.pushTo(names);
      this.restartObserved(fromStep, s.core.step, user);
    } else if (effect === "retry") {
      const names = retried;
      for (const name of names)
        fleet.noteEvent(name, "rollout-retry", `revision ${s.revision} sent again by ${user}`);
      fleet.pushTo(names);
    } else if (this.previous) {
      for (let w = 0; w <= s.core.step; w++)
        this.noteWave(
          w,
          "rollout-aborted",
          `rollout aborted by ${user}: back to revision ${this.previous.revision}`,
        );
      fleet.revert(this.previous);
    }
  }

  /**
   * With failures the persisted state did not list (beyond the first MAX_PERSISTED_FAILED, read
   * back after a restart): every released node not applied, to be sent again by a retry.
   */
  private unlistedFailures(s: StagedState): string[] {
    if (!s.failedMore) return [];
    const out: string[] = [];
    for (let w = 0; w <= s.core.step; w++)
      for (const n of s.waves[w] ?? [])
        if (s.failed[n] === undefined && this.outcome(s, n) !== "applied") out.push(n);
    return out;
  }

  /**
   * Observe-mode nodes of the waves after `fromStep` up to `toStep` (split among themselves at
   * the start): their upstream agent pods are recreated, connected ones only.
   */
  private restartObserved(fromStep: number, toStep: number, user: string): void {
    const s = this.s;
    const restart = this.opts.restartUpstream;
    if (!s?.observe || !restart) return;
    const names = s.observe
      .slice(fromStep + 1, toStep + 1)
      .flat()
      .filter((name) => this.fleet?.nodes.get(name)?.connected);
    if (names.length > 0)
      restart(
        names,
        `rollout of revision ${s.revision}, ${waveNames(fromStep + 1, toStep)}, by ${user}`,
      );
  }

  /**
   * Every released node applied or failed: the wave is settled (then paused, or healthy). Waves
   * without nodes (observe-mode ones count) are not paused after nor waited for (noteSettled).
   */
  private settle(): void {
    const s = this.s;
    if (s?.core.phase !== "progressing") return;
    // Before the others' nodes are listed, the ones counted are not known (an older state's
    // sizes count nodes, not names: one joined since could stand in); settled again once
    // listed (tick).
    this.unlisted = this.opts.remote?.listed?.() === false;
    if (this.unlisted) return;
    // Nodes the persisted sizes count that are not known here yet (an owner taking over
    // before it read every NodeMasquerade) are pending: the wave is not settled without them.
    // With digests, nodes known as many as counted are not enough: they must be the ones
    // counted (a node joined since does not stand in for one whose record is gone: break7).
    for (let w = 0; w <= s.core.step; w++)
      if (s.verified ? !s.verified[w] : (s.floor?.[w] ?? 0) > s.waves[w]!.length) return;
    const failed = this.pending.countFailed(s, (name) => this.outcome(s, name));
    if (failed === null) return;
    const sizes = s.waves.map((w, i) => w.length + (s.observe?.[i]?.length ?? 0));
    this.input({ type: "wave-settled", now: this.now(), failed, sizes }, "system");
  }

  /** A settled wave finished the rollout, or released waves past ones without nodes: said. */
  private noteSettled(sizes: readonly number[], before: StagedState["core"]): void {
    const s = this.s!;
    const from = before.step;
    const to = s.core.step;
    const none = to > from ? ` (${waveNames(from + 1, to)}: no nodes)` : "";
    if (s.core.phase === "healthy")
      addAction(s, "finish", "system", `every wave applied the revision${none}`, this.now());
    else if (to > from && sizes[from] === 0)
      addAction(
        s,
        "promote",
        "system",
        `${waveNames(from, from)} has no nodes: released ${waveNames(from + 1, to)} without a pause`,
        this.now(),
      );
  }

  /**
   * Where a released node stands: a node another replica holds by its NodeMasquerade (its
   * holder's word), one held here by its record; observe-mode nodes have nothing to apply.
   */
  private outcome(s: StagedState, name: string): NodeOutcome {
    if (!this.finished()) {
      this.frozen = null; // a retry reopened it: counted live until it finishes again
      return this.liveOutcome(s, name);
    }
    // Finished: counted as at the finish, as the fleet bar's counts are (rollout.ts).
    if (this.frozen?.of !== s.resourceVersion) {
      const outcomes = new Map<string, NodeOutcome>();
      for (const w of s.waves) for (const n of w) outcomes.set(n, this.liveOutcome(s, n));
      this.frozen = { of: s.resourceVersion, outcomes };
    }
    return this.frozen.outcomes.get(name) ?? this.liveOutcome(s, name);
  }

  private liveOutcome(s: StagedState, name: string): NodeOutcome {
    if (s.failed[name] !== undefined) return "failed";
    const st = this.opts.remote?.status(name);
    if (st) return remoteOutcome(name, st, s.revision, this.known()).outcome;
    const n = this.fleet?.nodes.get(name);
    // A member cut in enforce mode now observing applies nothing: the owner drops it (removed).
    if (n?.hello.mode === "observe") return "pending";
    return outcomeOf(s, n, name, this.follows(), this.fleet?.counted?.(name, s.revision));
  }

  /**
   * NodeMasquerades changed (replica sync): the owner pauses on a released node another replica
   * holds that failed to apply, drifted, or went offline soon after applying, as on its own,
   * and settles the wave when they applied.
   */
  remoteChanged(names: readonly string[]): void {
    const s = this.s;
    if (!s || !this.opts.remote || this.follows() || this.finished()) return;
    for (const name of names) if (!this.leftForObserve(s, name)) this.remoteOne(s, name);
    this.settle();
  }

  /** A member held elsewhere switched to observe mode: out of its wave, as of the bar (fleet-view.ts). */
  private leftForObserve(s: StagedState, name: string): boolean {
    if (this.opts.remote?.status(name)?.mode !== "observe" || !this.waveIndex(s).has(name))
      return false;
    this.removed(name);
    return true;
  }

  private remoteOne(s: StagedState, name: string): void {
    const st = this.opts.remote?.status(name);
    // Its object deleted: no longer waited for once it stays gone (tick). A person's delete is
    // written again by the node's holder at once; until then the node is pending, never dropped
    // (a canary node dropped so would let its wave settle, and the next be released, unapplied).
    if (st) this.missing.delete(name);
    else if (this.waveIndex(s).has(name) && !this.fleet?.nodes.has(name))
      this.missing.add(name, this.mono());
    // released() places a node new to the rollout (joined on another replica).
    if (!st || st.mode === "observe" || !this.released(name)) return;
    if (this.remoteHeal(s, name, st)) return;
    const o = remoteOutcome(name, st, s.revision, this.known());
    if (o.outcome === "failed") {
      if (s.failed[name] !== undefined) return;
      s.failed[name] = o.failed;
      this.input({ type: "failure", reason: o.pause }, "system");
    } else if (o.outcome === "applied") {
      if (!st.connected) this.remoteOffline(name, st);
      else {
        this.remoteOff.delete(name); // back: its next offline is a new one
        if (!this.remoteApplied.has(name)) {
          this.remoteApplied.add(name);
          this.appliedAt.set(name, this.mono());
        }
      }
    }
  }

  /**
   * Nodes whose NodeMasquerade stayed gone (not held here): no longer waited for. A holder
   * writes a deleted object again first among its writes, counted with its reconnects
   * (status-writer.ts), which may take a while behind a mass delete (65,000 objects at 50/s per
   * replica): gone only once every replica has written those since REMOTE_GONE_MS after it
   * went, or after REPORT_WAIT_MAX_MS (a fixed 15 s dropped nodes whose rewrite was queued).
   */
  private dropMissing(): void {
    const s = this.s;
    if (this.missing.size === 0) return;
    if (!s || this.follows() || this.finished()) {
      this.missing.clear();
      return;
    }
    const behind = (since: number) =>
      (this.opts.remote?.unreportedSince?.(since + REMOTE_GONE_MS).length ?? 0) > 0;
    for (const [name, since] of this.missing.entries()) {
      const waited = this.mono() - since;
      if (waited < REMOTE_GONE_MS || (waited < REPORT_WAIT_MAX_MS && behind(since))) continue;
      const gone = !this.opts.remote?.status(name) && !this.fleet?.nodes.has(name);
      // The watch may lag the holder's rewrite: the API server is asked first (issue 17).
      const fresh = this.opts.remote?.existsFresh;
      if (gone && waited < REPORT_WAIT_MAX_MS && !this.missing.absentFresh(name, fresh)) continue;
      this.missing.delete(name);
      if (gone) this.removed(name);
    }
  }

  /** A node held elsewhere that applied went offline: too soon after applying pauses. */
  private remoteOffline(name: string, st: NodeMasqueradeStatus): void {
    const applied = this.appliedAt.get(name);
    // Both on this replica's clock: the holder's lastTransitionTime is another clock (a skew
    // between replicas moved it against the apply: break7); seen now, a watch's lag later.
    const off = offlineSince(st) === undefined ? undefined : this.mono();
    const window = this.opts.offlineWindowMs ?? DEFAULT_OFFLINE_WINDOW_MS;
    if (applied === undefined || off === undefined || off - applied > window) return;
    // Once per offline: the same transition is the same offline (status refreshes meanwhile).
    const episode = offlineTransition(st) ?? "";
    if (this.remoteOff.get(name) === episode) return;
    this.remoteOff.set(name, episode);
    const secs = Math.max(0, Math.round((off - applied) / 1000));
    const by = `held by replica ${st.replica || "(none)"}`;
    const reason = `${name} went offline ${secs} s after applying (${by})`;
    this.suspect(name, reason, st.replica || undefined);
  }

  /**
   * A node gone offline soon after applying: judged on evidence (tick, staged-offline.ts);
   * `holder`: the other replica whose word that is.
   */
  private suspect(name: string, reason: string, holder?: string): void {
    if (this.s) this.suspects.add(name, reason, this.s.resourceVersion, this.mono(), holder);
  }

  /**
   * An owner that read the rollout from the store (starting, or taking the Lease over) has none
   * of the previous owner's suspects: they were in its memory. Each released node that applied
   * the revision and is connected nowhere is suspected anew — when it went offline is not known
   * on this clock, so it is judged on the same evidence, never counted applied: that let its
   * wave settle and the next go on for a canary that may have lost its network to the new rules
   * (issue 17). Once the other replicas' nodes are listed (before, they are not known).
   */
  private suspectInherited(): void {
    const s = this.s;
    if (!this.inherited) return;
    // None read (or it is over): a rollout started here later has no one else's suspects.
    if (!s || this.follows() || this.finished()) {
      this.inherited = false;
      return;
    }
    if (this.opts.remote?.listed?.() === false) return;
    this.inherited = false;
    const by = this.opts.replica ? `replica ${this.opts.replica}` : "this dashboard";
    for (const [name, holder] of this.offlineApplied(s))
      if (s.failed[name] === undefined && this.released(name))
        this.suspect(name, inheritedReason(name, by, holder), holder || undefined);
  }

  /**
   * Enforce-mode nodes that applied `s`'s revision and are connected nowhere, each with the
   * replica that held it (undefined: held here).
   */
  private *offlineApplied(s: StagedState): Generator<[string, string | undefined]> {
    for (const n of this.fleetNodes())
      if (!n.connected && n.hello.mode === "enforce" && n.appliedRevision === s.revision)
        yield [n.name, undefined];
    const remote = this.opts.remote;
    for (const { name, mode } of remote?.list() ?? []) {
      const st = remote?.status(name);
      if (!st || st.connected || mode !== "enforce") continue;
      // The holder's number, read as this replica numbers revisions (merged sources).
      if (inReaderNumbering(st, this.known()).appliedRevision === s.revision)
        yield [name, st.replica];
    }
  }

  /**
   * One connected nowhere once every replica has written its reconnects, or not reported
   * connected within the bound, pauses the rollout (staged-offline.ts).
   */
  private judgeSuspects(): void {
    const s = this.s;
    const of = s && !this.finished() && !this.follows() ? s.resourceVersion : null;
    const connected = (name: string) =>
      this.fleet?.nodes.get(name)?.connected === true ||
      this.opts.remote?.status(name)?.connected === true;
    const remote = this.opts.remote;
    const unreported = remote && ((since: number) => remote.unreportedSince?.(since) ?? []);
    const holder = (replica: string) => remote?.holderUnknown?.(replica);
    const said = this.suspects.message(!remote);
    const verdicts = this.suspects.judge(of, this.mono(), connected, unreported, holder);
    for (const reason of verdicts) this.input({ type: "failure", reason }, "system");
    // A suspect cleared (connected after all) or now waiting for other replicas' writes changes
    // the view's sentence with no input: browsers are sent it, or keep the old one.
    if (verdicts.length === 0 && this.suspects.message(!remote) !== said)
      this.fleet?.rolloutChanged();
  }

  private paused(): void {
    const v = this.view();
    const p = this.s?.core.pause;
    // A timed pause begun here: its end fixed now, while `until` is this moment's wall time.
    if (p?.kind === "duration") this.pauseEnds(p.until);
    if (!v || !p) return;
    const reason = p.kind === "failure" ? p.reason : v.message;
    for (const fn of this.pauseListeners) fn(v, reason);
  }

  private released(name: string): boolean {
    const s = this.s!;
    return !s.core.aborted && this.waveOf(name) <= s.core.step;
  }

  private finished(): boolean {
    const p = this.s?.core.phase;
    return p === "healthy" || p === "degraded";
  }

  private noteWave(w: number, kind: string, message: string): void {
    for (const name of this.s?.waves[w] ?? []) this.fleet?.noteEvent(name, kind, message);
  }

  private fleetNodes(): Iterable<NodeRecord> {
    return this.fleet?.nodes.values() ?? [];
  }

  /**
   * The nodes a rollout is cut over, in one agent mode: those this replica holds, and those
   * other replicas hold (their NodeMasquerade; this replica's record wins for a node in both).
   */
  private cutNodes(mode: "enforce" | "observe"): { name: string }[] {
    const out: { name: string }[] = [...this.fleetNodes()].filter((n) => n.hello.mode === mode);
    const here = new Set(this.fleet?.nodes.keys() ?? []);
    for (const n of this.opts.remote?.list() ?? [])
      if (n.mode === mode && !here.has(n.name)) out.push(n);
    return out;
  }

  /** Ends the current rollout; `by`: the revision that replaces it. */
  private clear(by?: number): void {
    const held = this.awaiting !== null;
    this.awaiting = null;
    if (this.s === null) {
      if (held) this.changed();
      return;
    }
    this.retire(by);
    this.s = null;
    this.previous = null;
    this.changed();
  }

  private persist(): void {
    // Nothing while a staged revision waits for its cut (a selector canary's labels read): the
    // state would say no rollout runs and the previous revision was begun, and a follower not
    // yet told of the new revision would take that as its rollout going at once (break5).
    if (!this.isActive() || this.awaiting || this.takingOver) return;
    if (this.moving) {
      this.persistDeferred = true; // after the move's own write, not merged into it
      return;
    }
    this.lastPersist = this.mono();
    this.writer.write(this.persisted());
  }

  /** The persisted form of `current` (a move's state before it is made), `ids` performed. */
  private persisted(current = this.s, ids = this.performed): Persisted {
    const begun = this.begun ?? {};
    const last = ids.at(-1);
    const performed =
      last !== undefined ? { performed: last, performedBefore: ids.slice(0, -1) } : {};
    const record = current ? recordOf(current) : null;
    const once = this.once.persisted;
    const atOnce = once === undefined ? {} : { atOnce: once };
    return { version: 2, ...begun, ...atOnce, ...performed, current: record, past: this.past };
  }

  /**
   * The current rollout leaves: its record stays for History, saying which revision superseded
   * it when it had not finished (`by`, Argo Rollouts' word for a rollout replaced mid-way).
   */
  private retire(by?: number): void {
    const s = this.s;
    if (!s) return;
    const superseded = by !== undefined && by !== s.revision && !this.finished();
    if (s.core.aborted && this.previous) this.aborted = { s, previous: this.previous };
    this.past = [
      ...this.past.filter((p) => p.resourceVersion !== s.resourceVersion),
      { ...pastOf(s), ...(superseded ? { supersededBy: by } : {}) },
    ];
    this.past = this.past.slice(-MAX_PAST_ROLLOUTS);
  }

  /** Where a node stands in an unfinished (or aborted) rollout; null otherwise. */
  placeOf(name: string): NodeRolloutPlace | null {
    const s = this.s;
    if (!s || !this.previous || s.core.phase === "healthy") return null;
    const remote = this.opts.remote?.status(name);
    // A node another replica holds, not placed yet (it joined there): placed as the owner does.
    const other = remote && remote.mode !== "observe";
    const wave = this.waveIndex(s).get(name) ?? (other ? this.waveOf(name) : undefined);
    if (wave === undefined) return null;
    const local = this.fleet?.nodes.get(name);
    // Another replica's revision numbers read in this one's (merged revisions: each its own).
    const applied = remote
      ? inReaderNumbering(remote, this.known()).appliedRevision
      : (local?.appliedRevision ?? null);
    // Its post-apply rules judged (rollout-done.ts): the row says so as its wave counts it.
    const judged = remote
      ? applied === null || remoteRulesJudged(remote)
      : local === undefined || this.judgedHere(local, s.revision);
    const place = placeIn(s, this.previous.revision, wave, name, applied, judged);
    const drifted = place.released && !place.failure && local?.status === "drifted";
    const before = drifted ? this.preexisting.of(name) : undefined;
    return before ? { ...place, driftedBefore: before } : place;
  }

  /** The rollout's revision and the one before, with their configs (remote statuses are read by them). */
  known(): NumberedConfig[] {
    return revisionRefs(this.source?.current(), this.previous);
  }

  /** A node held here, running `revision`: judged as its wave counts it (rollout-agree.test.ts). */
  private judgedHere(n: NodeRecord, revision: number): boolean {
    const counted =
      n.appliedRevision === revision ? this.fleet?.counted?.(n.name, revision) : undefined;
    return counted === undefined ? rulesJudged(n) : counted === "done";
  }

  /**
   * A persisted rollout as run here: every node this replica knows (its own, and those others
   * hold by their NodeMasquerade) placed by the boundaries, as every replica places them.
   */
  private placed(r: StagedRecord, owner = !this.follows()): StagedState {
    const strategy = r.strategy as WavesStrategy;
    const lists = (bounds: WaveBounds | undefined, mode: "enforce" | "observe") => {
      const out: string[][] = r.bounds.last.map(() => []);
      if (!bounds) return out;
      const place = placeByBounds(strategy, bounds);
      for (const n of this.cutNodes(mode)) out[place(n)]!.push(n.name);
      return out;
    };
    const waves = lists(r.bounds, "enforce");
    const observe = lists(r.observeBounds, "observe");
    const s: StagedState = { ...r, waves, observe, ...(r.sizes ? { floor: [...r.sizes] } : {}) };
    // The owner tells the members counted from as many others (wave-digest.ts).
    if (owner && r.sizes && r.digests) {
      s.digests = [...r.digests];
      s.verified = waves.map(() => false);
      for (let w = 0; w < waves.length; w++) this.verifyWave(s, w);
    }
    return s;
  }

  private waveIndex(s: StagedState): Map<string, number> {
    if (this.index?.of !== s) {
      const waves = new Map<string, number>();
      s.waves.forEach((w, i) => {
        for (const name of w) waves.set(name, i);
      });
      this.index = { of: s, waves };
    }
    return this.index.waves;
  }

  /**
   * Tells the fleet which nodes' places changed since last told: every node of the rollout when
   * a wave is released, it is aborted, finishes or is replaced; else the ones failed or retried.
   * A node's own apply changes its record, which is sent anyway.
   */
  private notePlaces(): void {
    const fleet = this.fleet;
    if (!fleet?.nodeChanged) return;
    const tell = (name: string) => fleet.nodeChanged?.(name);
    const s = this.s;
    const on = s !== null && this.previous !== null && s.core.phase !== "healthy";
    const key = on ? `${s.resourceVersion}:${s.core.step}:${s.core.aborted}` : "";
    const failed = new Set(on ? Object.keys(s.failed) : []);
    const was = this.shown;
    if (key === was.key) {
      tellDifference(failed, was.failed, tell);
      was.failed = failed;
      return;
    }
    const names = new Set(on ? s.waves.flat() : []);
    for (const name of was.names) if (!names.has(name)) tell(name);
    for (const name of names) tell(name);
    this.shown = { key, names, failed };
  }

  /**
   * Who did what in the rollouts of a stored revision (current or earlier), newest first, for
   * History: with other config sources those are rollouts of the merges made from it, recorded
   * under their merged resourceVersions (`<primary>+<n>@r<revision>`, primaryOf).
   */
  /** The newest action of the rollout already in the log (logActions). */
  private logged: { resourceVersion: string; action: RolloutAction } | undefined;

  /**
   * Each action recorded since the last change (start, promote, retry, abort, pause, resume,
   * finish) as an info line of the dashboard's log: a person reading it after the fact saw no
   * rollout move at all. A rollout read back at a start logs its newest action only.
   */
  private logActions(): void {
    const s = this.s;
    const newest = s?.actions.at(-1);
    if (!s || !newest) return;
    const at =
      this.logged?.resourceVersion === s.resourceVersion
        ? s.actions.lastIndexOf(this.logged.action)
        : -1;
    for (const a of s.actions.slice(at >= 0 ? at + 1 : -1))
      this.opts.log.info(
        { revision: s.revision, action: a.action, user: a.user, time: a.time },
        `rollout of revision ${s.revision}: ${a.action} by ${a.user}: ${a.detail}`,
      );
    this.logged = { resourceVersion: s.resourceVersion, action: newest };
  }

  recordsFrom(primary: string): PastRollout[] {
    const from = (rv: string) => primaryOf(rv) === primary;
    const past = this.past.filter(
      (p) => from(p.resourceVersion) && p.resourceVersion !== this.s?.resourceVersion,
    );
    return [...(this.s && from(this.s.resourceVersion) ? [pastOf(this.s)] : []), ...past.reverse()];
  }

  /** `persist`: false when the state is what was just written (a move stored first). */
  private changed(persist = true): void {
    if (persist) this.persist();
    this.logActions();
    this.fleet?.rolloutChanged();
    this.notePlaces();
    const v = this.view();
    const paused =
      v?.phase === "paused" ? { revision: v.revision, resourceVersion: v.resourceVersion } : null;
    const was = this.pausedRef;
    this.pausedRef = paused;
    if (was && (!paused || paused.revision !== was.revision))
      for (const fn of this.resumeListeners) fn(was);
  }
}

/** Tells each name in exactly one of `a` and `b`. */
function tellDifference(
  a: ReadonlySet<string>,
  b: ReadonlySet<string>,
  tell: (name: string) => void,
): void {
  for (const name of a) if (!b.has(name)) tell(name);
  for (const name of b) if (!a.has(name)) tell(name);
}

/** The revision `s` rolls back to: from the history, else the config the state kept. */
async function previousOf(
  s: StagedRecord,
  find: (resourceVersion: string) => Promise<Desired | null>,
  log: Logger,
): Promise<Desired | null> {
  if (!s.previous) return null;
  const kept = s.previousConfig;
  const previous =
    (await find(s.previous.resourceVersion)) ?? (kept ? { ...s.previous, config: kept } : null);
  if (!previous)
    log.warn(
      { resourceVersion: s.previous.resourceVersion },
      "the rollout's previous revision is no longer in the history: not resumed",
    );
  return previous;
}
