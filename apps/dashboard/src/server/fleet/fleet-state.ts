// Every node's truth in one place: hello info, last snapshot, drift against the desired
// config, status, applied revision, events; plus the rollout of the current revision.
// The gateway feeds it reporter messages; the API reads it; the change feed tells browsers.
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  type ApplyResult,
  type DriftReport,
  encodeMessage,
  type Hello,
  mergedRevisionOf,
  NODE_STATUSES,
  type NodeEvent,
  type NodeStatus,
  type NumberedConfig,
  PROTOCOL_VERSION,
  type Rollout,
  SILENT_AFTER_HEARTBEATS,
  type Snapshot,
  type UnheardHeals,
} from "@masq/shared";
import type { Logger } from "pino";
import { revisionRefs } from "../config/desired-digest.js";
import type { Desired } from "../config/merged-desired.js";
import { Assessor } from "./assess-node.js";
import type { ChangeFeed } from "./change-feed.js";
import {
  appliedText,
  applyWhat,
  driftChangedText,
  driftHealedText,
  driftOrOtherMergeText,
  statusChangeText,
  unheardHealText,
} from "./event-texts.js";
import {
  addEvent,
  assessmentOf,
  deriveStatus,
  livenessOf,
  type NodeAssessment,
  type NodeRecord,
  newRecord,
  type Pending,
} from "./node.js";
import type { RosterEntry } from "./node-roster.js";
import { restoredRecord } from "./restored-node.js";
import { type RolloutTarget, RolloutTracker } from "./rollout.js";
import { localOutcome, rulesJudged } from "./rollout-done.js";
import { sharedHello } from "./shared-hello.js";
import type { FleetSignalSink } from "./signals.js";
import { type IntakeOptions, SnapshotIntake } from "./snapshot-intake.js";
import type { HealedDriftReport } from "./staged-heal-report.js";
import type { StagedRollouts } from "./staged-rollout.js";

/** The gateway's side of one reporter connection. */
export interface ReporterLink {
  /** Sends an encoded (text) frame; a Buffer is sent as is to many links without re-encoding. */
  send(frame: string | Buffer): void;
  close(code: number, reason: string): void;
}

export interface FleetOptions {
  desired: () => Desired | null;
  feed: ChangeFeed;
  log: Logger;
  heartbeatMs: number;
  /** A desired/resync without an apply-result after this long turns the node to `error`. */
  applyTimeoutMs: number;
  assessor?: Assessor;
  /** How snapshots are paced per node (see SnapshotIntake). */
  intake?: IntakeOptions;
  onRolloutFinished?: (r: Rollout) => void;
  /**
   * Every replica active: each numbers merged revisions itself, so a merged number a reporter
   * names at hello may be another replica's (healedHere).
   */
  perReplicaNumbers?: boolean;
  /** Applies, failures, status changes (and the rollout code's pause/resume), for Events and metrics. */
  onSignal?: FleetSignalSink;
  /** The wall clock (ms since the epoch): times stored and shown (default Date.now). */
  now?: () => number;
  /**
   * The clock silence and apply timeouts are measured on (default performance.now; `now` when
   * only that is given, as tests step one clock). A wall clock stepped forward made every
   * connected reporter "silent" (status unknown) and timed out every apply in flight.
   */
  monotonic?: () => number;
}

/** Desired frames sent per event-loop turn when a config changes. */
const PUSH_SLICE = 500;

/** Longest event-loop stretch of re-judging nodes after a config change. */
const REASSESS_SLICE_MS = 8;

/** Revisions remembered per node as sent to it (an apply-result may name one of them). */
const SENT_KEPT = 16;

/** How long a changed-rules apply waits for the snapshot that shows it. */
const VERIFY_GRACE_MS = 2000;

export type ResyncOutcome =
  | { ok: true; requestId: string }
  | { ok: false; status: 404 | 409; error: string };

export class FleetState {
  readonly nodes = new Map<string, NodeRecord>();
  private readonly links = new Map<string, ReporterLink>();
  readonly rollout: RolloutTracker;
  private readonly assessor: Assessor;
  private readonly intake: SnapshotIntake;
  private readonly now: () => number;
  /** Monotonic ms: silence, apply timeouts and the wait for a changed apply's rules. */
  private readonly mono: () => number;
  /** Per node, its last frame (monotonic ms; lastSeenAt is the same on the wall clock, shown). */
  private readonly heardAt = new Map<string, number>();
  /** Per pending desired/resync, when it was sent (monotonic ms; sentAt is the wall's). */
  private readonly pendingSince = new WeakMap<object, number>();
  /** Per node, when the snapshot it holds was received (monotonic ms; snapshotReceivedAt is the wall's). */
  private readonly snapshotSince = new WeakMap<NodeRecord, number>();
  private reassessRun = 0;
  private pushRun = 0;
  /** What browsers last saw of each node, to send only real changes. */
  private readonly shown = new Map<string, Shown>();
  /** A rollout in waves: each node's desired revision follows its wave (staged-rollout.ts). */
  private staging: StagedRollouts | undefined;
  /** Per node, the revisions last sent to it here (newest last, SENT_KEPT at most). */
  private readonly sent = new Map<string, number[]>();

  constructor(private readonly opts: FleetOptions) {
    this.assessor = opts.assessor ?? new Assessor();
    this.intake = new SnapshotIntake((name, snap) => this.takeSnapshot(name, snap), opts.intake);
    this.now = opts.now ?? Date.now;
    this.mono = opts.monotonic ?? opts.now ?? (() => performance.now());
    this.rollout = new RolloutTracker(
      (r) => opts.onRolloutFinished?.(r),
      () => this.stagedFailedHere(),
      // A staged rollout resumed at this start: the nodes its waves counted, not back yet.
      (revision) => this.staging?.unseen(revision) ?? 0,
      // Known from the roster kept before this start, not reconnected since (restored-node.ts).
      (name) => this.nodes.get(name)?.restored !== undefined,
      // Every replica active: resumed at this start, over only once every node applied it.
      (revision) => this.staging?.heldOpen(revision) ?? false,
    );
  }

  /** Lets a staged rollout decide each node's desired revision and hear what nodes do. */
  /** Where signals about nodes and rollouts go (metrics, Kubernetes Events), if anywhere. */
  signalSink(): FleetSignalSink | undefined {
    return this.opts.onSignal;
  }

  attachStaging(staging: StagedRollouts): void {
    this.staging = staging;
    staging.attach({
      nodes: this.nodes,
      pushTo: (names) => this.pushTo(names),
      revert: (previous) => this.desiredChanged(previous),
      noteEvent: (name, kind, message) => this.noteEvent(name, kind, message),
      rolloutChanged: () => {
        // Its count of nodes not seen since the start may have dropped to none (a node removed).
        this.rollout.recheck(this.now());
        this.opts.feed.rolloutChanged();
      },
      nodeChanged: (name) => this.opts.feed.node(name),
      counted: (name, revision) =>
        this.rollout.revision === revision ? this.rollout.countedAs(name).target : undefined,
    });
  }

  /**
   * This replica's current revision (and a staged rollout's previous one) with their configs:
   * another replica's NodeMasquerade numbers are read by them (shared inReaderNumbering).
   */
  knownRevisions(): NumberedConfig[] {
    const current = revisionRefs(this.opts.desired());
    return this.staging ? [...current, ...this.staging.known()] : current;
  }

  /** The revision this node should enforce: the store's, or its wave's in a staged rollout. */
  desiredOf(name: string, current: Desired | null = this.opts.desired()): Desired | null {
    return this.staging ? this.staging.desiredFor(name, current) : current;
  }

  /**
   * The rollout's counts; with a staged rollout, the targets its waves hold back, and those it
   * counts failed (a drift after applying: the wave's card says failed, so does the bar).
   * Only nodes connected here: one held elsewhere is counted by its holder's word (fleet-view).
   */
  rolloutView(): Rollout | null {
    const gen = this.rollout.revision;
    if (!this.staging?.active || gen === null) return this.rollout.view();
    return this.rollout.view(
      (name) => this.desiredOf(name)?.revision !== gen,
      this.stagedFailedHere(),
    );
  }

  /**
   * A drift healed on this released node that the staged rollout's owner (another replica) has
   * not taken yet: written in its NodeMasquerade status (staged-heal-report.ts).
   */
  healedDriftOf(name: string): HealedDriftReport | undefined {
    return this.staging?.healReport(name);
  }

  /** The staged failures among the nodes connected here (others count by their holder). */
  private stagedFailedHere(): string[] {
    return this.stagedFailed().filter((name) => this.links.has(name));
  }

  /** Nodes the running staged rollout of the tracked revision counts failed ([]: none). */
  stagedFailed(): string[] {
    const gen = this.rollout.revision;
    return this.staging?.active && gen !== null ? this.staging.failedNodes(gen) : [];
  }

  connectedCount(): number {
    return this.links.size;
  }

  /** A reporter said hello: (re)register it, welcome it, send it the desired config. */
  connect(said: Hello, link: ReporterLink): void {
    const now = this.now();
    const hello = sharedHello(said);
    const old = this.links.get(hello.node);
    this.links.set(hello.node, link);
    old?.close(1000, "replaced by a newer connection from the same node");
    const n = this.nodes.get(hello.node) ?? newRecord(hello);
    const wasEnforcing = n.hello.mode === "enforce";
    this.heardAt.set(hello.node, this.mono());
    Object.assign(n, {
      hello,
      connected: true,
      lastSeenAt: now,
      silent: false,
      appliedRevision: hello.appliedRevision,
      pending: null,
      verifyUntil: null,
      lastApply: null,
      schedule: null,
      // What it runs by its word now; a drift judged on an earlier connection is not this one's.
      ran:
        hello.appliedRevision === null
          ? undefined
          : { revision: hello.appliedRevision, atHello: true },
      driftSeen: undefined,
      // Heard from now: no longer only known from before the restart (restored-node.ts).
      restored: undefined,
    });
    this.nodes.set(n.name, n);
    const { mode, backend, reporterVersion } = hello;
    this.opts.log.info({ node: n.name, mode, backend, reporterVersion }, "reporter connected");
    addEvent(
      n,
      "connected",
      `reporter ${hello.reporterVersion} connected (${hello.mode} mode, ${hello.backend})`,
      now,
    );
    link.send(
      encodeMessage({
        type: "welcome",
        v: PROTOCOL_VERSION,
        serverTime: now,
        heartbeatMs: this.opts.heartbeatMs,
      }),
    );
    const desired = this.desiredOf(n.name);
    if (desired && hello.mode === "enforce") {
      this.sendDesired(n, link, encodeDesired(desired), desired, now);
      // A target even held back (not sent it yet), as every enforce-mode node at the start:
      // the bar finished while a joiner's wave still waited for it (rollout-agree.test.ts).
      this.markRollout(n, now, this.rollout.revision);
    } else if (hello.mode === "observe") {
      // Now in observe mode: it will never be sent this rollout's config. Out of its wave too,
      // as the bar drops it (rollout-agree.test.ts): its card called it applied.
      if (this.rollout.remove(n.name, now)) this.opts.feed.rolloutChanged();
      if (wasEnforcing) this.staging?.removed(n.name);
    }
    this.reassess(n);
    this.refresh(n, true);
  }

  disconnect(name: string, link: ReporterLink, reason: string): void {
    if (this.links.get(name) !== link) return; // a newer connection took over
    this.links.delete(name);
    const n = this.nodes.get(name);
    if (!n) return;
    const now = this.now();
    // A hung reporter stopped at its last frame, not when its silence was given up on.
    // Its last frame on the monotonic clock, the one StagedRollouts measures on too.
    const silentSince = n.silent ? this.heardAt.get(name) : undefined;
    n.connected = false;
    n.silent = false;
    // A read showed the revision sent, its apply-result never came (it may have cut its own
    // network): not judged applied while it is away, here nor by its NodeMasquerade
    // (node-masquerade.ts healthOf writes `applying`), until its next read.
    if (n.pending?.kind === "desired" && n.pending.revision === n.appliedRevision)
      n.rulesAfterApply = true;
    n.pending = null;
    this.opts.log.info({ node: name, reason }, "reporter disconnected");
    addEvent(n, "disconnected", reason, now);
    this.staging?.offline(name, silentSince);
    // A target that has not applied yet waits for the reporter to return.
    if (this.rollout.mark(name, "offline", now)) this.opts.feed.rolloutChanged();
    this.refresh(n);
  }

  /**
   * A node not connected here is connected to another live replica now (its NodeMasquerade):
   * no longer this replica's rollout target. That replica counts it (and the fleet-wide view
   * by its NodeMasquerade, fleet-view.ts rolloutOf); kept here, it held this replica's rollout
   * open, so its finish (the Applied Event, the duration metric) never came (issue 17).
   */
  heldElsewhere(name: string): void {
    if (this.nodes.get(name)?.connected !== false) return;
    if (this.rollout.remove(name, this.now())) this.opts.feed.rolloutChanged();
  }

  /**
   * The node's assessment for a reader (node page, evaluate), judged now if put off at a push
   * or still against another revision than its desired one.
   * A judgement made here refreshes the node's row: browsers (and, in a cluster, its
   * NodeMasquerade) learn the counts now, not at the node's next change.
   */
  assessmentNow(n: NodeRecord): NodeAssessment | null {
    this.againstDesired(n);
    if (!n.deferred) return n.assessment;
    const a = assessmentOf(n);
    this.refresh(n);
    return a;
  }

  /**
   * Makes the node's judgement (put off, as a push does) and its status be of its desired
   * revision, when a push or the re-judge after a save (both go in slices) has not reached it
   * yet: its page had said "in sync" against the revision before, and its NodeMasquerade
   * paired that judgement with the new revision.
   */
  againstDesired(n: NodeRecord): void {
    if (n.behind === undefined && sameRevision(n.judgedAgainst, this.desiredOf(n.name))) return;
    this.rejudge(n);
    this.refresh(n);
  }

  /** Any frame from a node counts as a sign of life. */
  seen(name: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    n.lastSeenAt = this.now();
    this.heardAt.set(name, this.mono());
    if (!n.silent) return;
    n.silent = false;
    addEvent(n, "responding", "the reporter is sending again", n.lastSeenAt);
    this.refresh(n);
  }

  /** A node's snapshot: judged now, or (an expensive node sending fast) its newest one later. */
  snapshot(name: string, snap: Snapshot): void {
    this.intake.offer(name, snap);
    const n = this.nodes.get(name);
    if (n && this.intake.waits(name)) n.rulesWaiting = true;
  }

  private takeSnapshot(name: string, said: Snapshot): void {
    const n = this.nodes.get(name);
    if (!n) return;
    const now = this.now();
    const snap = this.checkedRevision(n, said, now);
    // One copy of identical rules for all nodes holding them (see Assessor.intern).
    n.snapshot = this.assessor.intern(snap);
    // Taken from the intake after its frame was seen: never later than the last frame heard
    // (the API says last report <= last seen; a queued snapshot made it 1 ms later).
    n.snapshotReceivedAt = Math.min(now, n.lastSeenAt ?? now);
    this.snapshotSince.set(n, this.mono());
    // Rules the node's wave waited for (unknown, or waiting their turn) are judged now.
    const awaited = !rulesJudged(n);
    n.rulesUnknown = undefined;
    n.rulesWaiting = undefined;
    n.rulesAfterApply = undefined;
    takeNodeFields(n, snap, now);
    this.reassess(n);
    noteDrift(n);
    this.refresh(n);
    if (!awaited) return;
    // The bar first: the waves count a target as the bar does (rollout-agree.test.ts).
    const gen = this.rollout.revision;
    if (gen !== null && localOutcome(n, gen) === "done" && this.rollout.rulesJudged(name, now))
      this.opts.feed.rolloutChanged();
    this.staging?.rulesJudged(n);
  }

  /**
   * A snapshot whose rules this dashboard does not hold (named by a digest it does not know):
   * its per-node fields are taken, and the node's rules are unknown until the reporter sends
   * them whole — never judged from the previous ones, which a waiting older snapshot would be.
   */
  rulesUnknown(name: string, envelope: Snapshot, why: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    this.intake.discard(name);
    n.rulesWaiting = undefined;
    n.snapshot = null;
    n.rulesUnknown = why;
    const now = this.now();
    takeNodeFields(n, this.checkedRevision(n, envelope, now), now);
    this.reassess(n);
    this.refresh(n);
  }

  applyResult(name: string, res: ApplyResult): void {
    const n = this.nodes.get(name);
    if (!n) return;
    const now = this.now();
    if (!this.revisionKnown(n, res.revision)) {
      this.ignoreApply(n, res, now);
      return;
    }
    n.lastApply = res;
    const healed = this.healedHere(n, healedDrift(n, res), now);
    noteResync(n, res, now);
    if (res.ok && res.revision !== null) n.appliedRevision = res.revision;
    // The rules changed after the snapshot held was read: not judged until the one read after
    // comes (folded into the apply-result it came first, rollout-done.ts).
    if (
      res.ok &&
      res.changed &&
      res.revision !== null &&
      n.snapshot?.appliedRevision !== res.revision
    )
      n.rulesAfterApply = true;
    const p = n.pending;
    if (p && settles(n, res)) {
      n.pending = null;
      // On the monotonic clock: a wall step ended the wait at once, or held it for the step.
      const order = { received: this.snapshotSince.get(n), sent: this.pendingSince.get(p) };
      if (res.ok && res.changed && !showsApply(n, p, res, order))
        n.verifyUntil = this.mono() + VERIFY_GRACE_MS;
    }
    noteApply(n, res, now);
    if (healed) this.tellHealed(n, healed, now);
    this.opts.onSignal?.(
      res.ok
        ? { kind: "applied", node: name, result: res }
        : {
            kind: "apply-failed",
            node: name,
            revision: res.revision,
            trigger: res.trigger,
            error: res.error ?? "no reason given",
          },
    );
    this.markRollout(n, now, res.revision);
    this.refresh(n);
    this.stagingHears(n, res, healed);
  }

  /**
   * The drift an apply changed back, when its revision is known to name the same config here.
   * With every replica active each one numbers merged revisions itself: a merged number the
   * node named at hello may be another replica's for another merge, and its re-apply here
   * changes its rules with no drift at all. Said so on its timeline, not counted as a drift.
   */
  private healedHere(n: NodeRecord, h: HealedDrift | null, now: number): HealedDrift | null {
    if (!h?.atHello || !this.numbersMayBeOthers(n)) return h;
    addEvent(n, "drift", driftOrOtherMergeText(h.revision), now);
    return null;
  }

  /** Each replica numbers merged revisions and the node's desired is merged (see healedHere). */
  private numbersMayBeOthers(n: NodeRecord): boolean {
    if (!this.opts.perReplicaNumbers) return false;
    const rv = this.desiredOf(n.name)?.resourceVersion;
    return rv !== undefined && mergedRevisionOf(rv) !== null;
  }

  /**
   * Heals of drift the node's reporter made while no dashboard heard it (`unheard-heals`): each
   * told on its timeline and as a signal (a Drifted Event), as a drift found at reconnect is;
   * the newest of the revision it runs pauses a staged rollout (staged-rollout.ts driftHealed
   * decides), unless that number may be another replica's for another merge.
   */
  unheardHeals(name: string, msg: UnheardHeals): void {
    const n = this.nodes.get(name);
    if (!n) return;
    const now = this.now();
    const others = this.numbersMayBeOthers(n);
    let pause: string | undefined;
    msg.heals.forEach((h, i) => {
      const message = unheardHealText(h, i === 0 ? msg.dropped : 0, others);
      addEvent(n, "drift", message, now);
      this.opts.onSignal?.({ kind: "drift-healed", node: name, revision: h.revision, message });
      if (h.revision !== null && h.revision === n.appliedRevision) pause = message;
    });
    if (pause !== undefined && !others) this.staging?.driftHealed(n, pause);
    this.opts.feed.node(name);
  }

  /** A staged rollout hears of an apply (and of the drift it changed back, first). */
  private stagingHears(n: NodeRecord, res: ApplyResult, healed: HealedDrift | null): void {
    // Before its apply is counted: a wave settled by it would be released past the drift.
    if (healed) this.staging?.driftHealed(n, healed.text, healed.seen);
    if (res.trigger === "desired" || res.trigger === "resync" || !res.ok)
      this.staging?.applied(n.name, res.revision, res.ok, res.error);
  }

  /**
   * A drift an apply changed back, not seen live: the timeline's entry and its signal. The read
   * held, when it is the one that showed the drift, predates the apply: a reporter that sends
   * its post-apply read apart (after the apply-result) names the same revision in both, so it
   * read as the apply's outcome, and the node as drifted (a live drift, a second pause) until
   * the next read. Not judged for a moment, as after any apply whose rules have not come.
   */
  private tellHealed(n: NodeRecord, healed: HealedDrift, now: number): void {
    if (healed.seen !== undefined && healed.seen === n.assessment?.report && n.verifyUntil === null)
      n.verifyUntil = this.mono() + VERIFY_GRACE_MS;
    addEvent(n, "drift", healed.text, now);
    const { revision, text: message } = healed;
    this.opts.onSignal?.({ kind: "drift-healed", node: n.name, revision, message });
  }

  /**
   * Could the node have applied `revision`? None (a mounted config file) or its own word at
   * hello (the state file it starts from: startup, periodic and heal applies of it), or one
   * sent it here, or this dashboard's current one for it (sent by another replica or an
   * earlier run, applied as the node reconnected here). Any other number was never a
   * revision for this node: taken, it would show as the node's applied revision.
   */
  private revisionKnown(n: NodeRecord, revision: number | null): boolean {
    if (revision === null || revision === n.hello.appliedRevision) return true;
    if (this.sent.get(n.name)?.includes(revision)) return true;
    const current = this.opts.desired();
    return revision === current?.revision || revision === this.desiredOf(n.name, current)?.revision;
  }

  /**
   * The snapshot, its `appliedRevision` kept at the node's known one when the node could not
   * run the revision it names (revisionKnown), as an apply-result of it is ignored: taken, it
   * would show as the node's applied revision and count in a rollout of that number. Said on
   * the timeline once per number, not per snapshot.
   */
  private checkedRevision(n: NodeRecord, snap: Snapshot, now: number): Snapshot {
    const said = snap.appliedRevision;
    if (this.revisionKnown(n, said)) return snap;
    if (n.ignoredRevision !== said) {
      n.ignoredRevision = said;
      const why = `a snapshot's revision ${said} was ignored: this dashboard never sent that revision to the node, and its reporter did not say at hello that it runs it; the node is shown at revision ${n.appliedRevision ?? "none"}`;
      this.opts.log.warn({ node: n.name, revision: said }, why);
      addEvent(n, "revision-ignored", why, now);
    }
    return { ...snap, appliedRevision: n.appliedRevision };
  }

  /** An apply-result of a revision the node could not have applied: a warning, nothing else. */
  private ignoreApply(n: NodeRecord, res: ApplyResult, now: number): void {
    const why = `an apply-result for revision ${res.revision} (${res.trigger}) was ignored: this dashboard never sent that revision to the node, and its reporter did not say at hello that it runs it`;
    this.opts.log.warn({ node: n.name, revision: res.revision, trigger: res.trigger }, why);
    addEvent(n, "apply-ignored", why, now);
    this.opts.feed.node(n.name);
  }

  /**
   * Counts a target where its record puts it in the rollout, by the one definition
   * (rollout-done.ts localOutcome): done once it runs the revision, its apply answered and its
   * post-apply rules judged; until then it waits for them. `about`: the revision of what
   * happened (an apply-result, a push): only one of the rollout's moves it.
   */
  private markRollout(n: NodeRecord, now: number, about: number | null): void {
    const gen = this.rollout.revision;
    if (gen === null || about !== gen) return;
    if (this.rollout.mark(n.name, localOutcome(n, gen), now)) this.opts.feed.rolloutChanged();
  }

  /**
   * A new desired revision: track it, and push each connected enforce-mode node whose
   * revision changes its own desired revision (all of them, unless a staged rollout holds
   * some back). A target that already runs the revision counts as done.
   */
  desiredChanged(desired: Desired): void {
    const now = this.now();
    const enforce = this.enforcing();
    this.rollout.start(
      desired.revision,
      desired.resourceVersion,
      this.targets(enforce, desired.revision),
      now,
    );
    this.opts.feed.rolloutChanged();
    this.pushTo(
      enforce
        .filter((n) => {
          const d = this.desiredOf(n.name, desired);
          // Sent another revision not answered yet (an abort mid-apply): it runs that next.
          const sentOther = n.pending?.kind === "desired" && n.pending.revision !== d?.revision;
          return d !== null && (d.revision !== n.appliedRevision || !n.lastApply?.ok || sentOther);
        })
        .map((n) => n.name),
      desired,
    );
  }

  /**
   * After a restart, the staged rollout resumed from its persisted state (StagedRollouts
   * resumedTracking) is tracked again for the fleet bar, unless a save came first: the nodes
   * known now as targets, and those its waves counted that have not reconnected yet as unseen
   * ones (rollout.ts), so it never finishes on nodes not heard from. Nothing is pushed: each
   * reporter is sent its wave's revision as it reconnects.
   */
  resumeRollout(r: { revision: number; resourceVersion: string; startedAt: number } | null): void {
    if (!r || this.rollout.revision !== null) return;
    const targets = this.targets(this.enforcing(), r.revision);
    this.rollout.start(r.revision, r.resourceVersion, targets, this.now(), r);
    this.opts.feed.rolloutChanged();
  }

  private enforcing(): NodeRecord[] {
    return [...this.nodes.values()].filter((n) => n.hello.mode === "enforce");
  }

  /** Every enforce-mode node a target, offline ones too (pending until they return). */
  private targets(enforce: readonly NodeRecord[], revision: number): RolloutTarget[] {
    return enforce.map((n) => {
      const o = localOutcome(n, revision);
      return {
        name: n.name,
        connected: this.links.has(n.name),
        applied: o === "done" || o === "awaiting-rules",
        awaitingRules: o === "awaiting-rules",
      };
    });
  }

  /**
   * Sends each named connected enforce-mode node its desired revision, in slices. `base`: a
   * whole new generation (what the store's desired is becoming), re-judging every node after.
   */
  pushTo(names: readonly string[], base?: Desired): void {
    this.markBehind(base ? this.nodes.keys() : names, base);
    const frames = new Map<number, Buffer>();
    const targets = names.flatMap((name): [string, ReporterLink][] => {
      const link = this.links.get(name);
      return link && this.nodes.get(name)?.hello.mode === "enforce" ? [[name, link]] : [];
    });
    // A full push supersedes any push still running; a partial one (a wave) runs beside it.
    const run = base ? ++this.pushRun : this.pushRun;
    const now = this.now();
    // Thousands of socket writes: in slices, so reporter frames keep flowing in between.
    const step = (from: number) => {
      if (run !== this.pushRun) return;
      for (const [name, link] of targets.slice(from, from + PUSH_SLICE))
        this.pushOne(name, link, base, frames, now);
      if (from + PUSH_SLICE < targets.length) setImmediate(step, from + PUSH_SLICE);
      else if (base) this.reassessAll();
      // Every named node, not only those sent it: an offline one's desired revision moved too
      // (a wave released, an abort), and its last known rules are judged against that now.
      else for (const name of names) this.rejudgeOne(name);
    };
    step(0);
  }

  /**
   * Before a push's first slice: each named node whose desired revision moves is judged against
   * it later (put off) and shown not judged yet until its turn: its row, the fleet counts and
   * the metrics gave the revision before's "in sync" for the whole push. No judgement here (a
   * closure and a row per node): the slices judge, or a reader that needs the node's answer.
   */
  private markBehind(names: Iterable<string>, base: Desired | undefined): void {
    for (const name of names) {
      const n = this.nodes.get(name);
      const d = n && this.desiredOf(name, base);
      if (!n || !d || (n.behind === undefined && sameRevision(n.judgedAgainst, d))) continue;
      this.rejudge(n, d);
      n.behind = d.revision;
      this.refresh(n);
    }
  }

  /** One node's turn in a push; `frames` holds each revision's frame, encoded once. */
  private pushOne(
    name: string,
    link: ReporterLink,
    base: Desired | undefined,
    frames: Map<number, Buffer>,
    now: number,
  ): void {
    const n = this.nodes.get(name);
    const d = base ? this.desiredOf(name, base) : this.desiredOf(name);
    const current = this.links.get(name);
    if (n && d && current === link) {
      const frame = frames.get(d.revision) ?? encodeDesired(d);
      frames.set(d.revision, frame);
      this.sendDesired(n, link, frame, d, now);
      // Put off now, not after the push's last slice: until then its row and page gave its
      // rules' judgement against the revision it is leaving as the answer for `d`.
      this.rejudge(n, d);
      this.refresh(n);
    } else if (!current && this.rollout.mark(name, "offline", this.now())) {
      // Gone before its turn: it gets the config when it reconnects.
      this.opts.feed.rolloutChanged();
    }
  }

  /**
   * Asks an enforce-mode node to re-read and re-apply now; `by` says who asked (and how, e.g.
   * "alice, resync of all drifted nodes"). Observe mode is the caller's job.
   */
  resync(name: string, by?: string): ResyncOutcome {
    const n = this.nodes.get(name);
    const link = this.links.get(name);
    if (!n) return { ok: false, status: 404, error: `no node named ${name}` };
    if (!link)
      return {
        ok: false,
        status: 409,
        error: `node ${name} is offline; it resyncs when its reporter reconnects`,
      };
    const requestId = randomUUID();
    const now = this.now();
    link.send(encodeMessage({ type: "resync", v: PROTOCOL_VERSION, requestId }));
    n.pending = { kind: "resync", revision: null, requestId, sentAt: now };
    this.pendingSince.set(n.pending, this.mono());
    addEvent(n, "resync-requested", `resync ${requestId} sent${by ? ` (by ${by})` : ""}`, now);
    this.refresh(n);
    return { ok: true, requestId };
  }

  /** Notes a resync done another way (observe mode: the upstream agent pod was recreated). */
  noteEvent(name: string, kind: string, message: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    addEvent(n, kind, message, this.now());
    this.opts.feed.node(name);
  }

  /**
   * Nodes known before this dashboard started (its roster), offline until their reporters say
   * hello; a node whose hello came first is left as it is. `events`: each one's newest events
   * kept from before (node-events.ts), put first on its timeline.
   */
  restore(
    entries: readonly RosterEntry[],
    startedAt: number,
    events?: ReadonlyMap<string, readonly NodeEvent[]>,
  ): void {
    for (const e of entries) {
      if (this.nodes.has(e.hello.node)) continue;
      const n = restoredRecord(e, startedAt, events?.get(e.hello.node));
      this.nodes.set(n.name, n);
      this.refresh(n, true);
    }
  }

  /** Forgets an offline node. */
  forget(name: string): ResyncOutcome | { ok: true } {
    const n = this.nodes.get(name);
    if (!n) return { ok: false, status: 404, error: `no node named ${name}` };
    if (n.connected)
      return {
        ok: false,
        status: 409,
        error: `node ${name} is connected; only offline nodes can be removed`,
      };
    this.nodes.delete(name);
    this.heardAt.delete(name);
    this.sent.delete(name);
    this.shown.delete(name);
    this.intake.drop(name);
    if (this.rollout.remove(name, this.now())) this.opts.feed.rolloutChanged();
    this.staging?.removed(name);
    this.opts.feed.nodeRemoved(name);
    return { ok: true };
  }

  /** Times out desired/resync messages that were never acknowledged; flags silent reporters. */
  sweep(): void {
    const now = this.now();
    const mono = this.mono();
    const silentMs = SILENT_AFTER_HEARTBEATS * this.opts.heartbeatMs;
    for (const n of this.nodes.values()) {
      const quiet = mono - (this.heardAt.get(n.name) ?? mono);
      if (n.connected && !n.silent && quiet > silentMs) {
        n.silent = true;
        addEvent(
          n,
          "silent",
          `no frame for ${Math.round(quiet / 1000)} s (heartbeats every ${Math.round(this.opts.heartbeatMs / 1000)} s): the reporter or its node may be hung`,
          now,
        );
        this.refresh(n);
      }
      if (n.verifyUntil !== null && mono >= n.verifyUntil) {
        n.verifyUntil = null;
        this.refresh(n);
      }
      const sent = n.pending ? this.pendingSince.get(n.pending) : undefined;
      if (sent !== undefined && mono - sent >= this.opts.applyTimeoutMs) this.timeOut(n, now);
    }
  }

  /** A desired/resync never acknowledged: a failed apply. */
  private timeOut(n: NodeRecord, now: number): void {
    const p = n.pending;
    if (!p) return;
    n.pending = null;
    n.lastApply = {
      type: "apply-result",
      v: PROTOCOL_VERSION,
      revision: p.revision,
      ok: false,
      error: `no apply-result within ${Math.round(this.opts.applyTimeoutMs / 1000)} s`,
      durationMs: now - p.sentAt,
      trigger: p.kind,
      changed: false,
    };
    addEvent(n, "apply-timeout", n.lastApply.error ?? "", now);
    this.opts.onSignal?.({
      kind: "apply-failed",
      node: n.name,
      revision: p.revision,
      trigger: p.kind,
      error: n.lastApply.error ?? "",
    });
    this.markRollout(n, now, p.revision);
    this.refresh(n);
    if (p.revision !== null) this.staging?.applied(n.name, p.revision, false, n.lastApply.error);
  }

  /** Memory and backlog figures for /metrics. */
  gauges(): { assessmentCacheBytes: number; snapshotsWaiting: number } {
    return {
      assessmentCacheBytes: this.assessor.cachedBytes,
      snapshotsWaiting: this.intake.pending,
    };
  }

  countByStatus(): Record<NodeStatus, number> {
    const out = Object.fromEntries(NODE_STATUSES.map((s) => [s, 0])) as Record<NodeStatus, number>;
    for (const n of this.nodes.values()) out[n.status]++;
    return out;
  }

  close(): void {
    this.reassessRun++;
    this.pushRun++;
    this.intake.close();
    for (const link of this.links.values()) link.close(1001, "dashboard shutting down");
    this.links.clear();
  }

  private sendDesired(
    n: NodeRecord,
    link: ReporterLink,
    frame: string | Buffer,
    d: Desired,
    now: number,
  ): void {
    link.send(frame);
    this.noteSent(n.name, d.revision);
    n.pending = { kind: "desired", revision: d.revision, sentAt: now };
    this.pendingSince.set(n.pending, this.mono());
    addEvent(n, "desired-sent", sentMessage(d), now);
  }

  /** Remembers a revision sent to node `name` (the newest SENT_KEPT, each once). */
  private noteSent(name: string, revision: number): void {
    const list = this.sent.get(name) ?? [];
    if (list.at(-1) === revision) return;
    const i = list.indexOf(revision);
    if (i >= 0) list.splice(i, 1);
    else if (list.length >= SENT_KEPT) list.shift();
    list.push(revision);
    this.sent.set(name, list);
  }

  private rejudgeOne(name: string): void {
    const n = this.nodes.get(name);
    if (!n) return;
    this.rejudge(n);
    this.refresh(n);
  }

  /** Judges the node's rules against its desired revision now (its rules or flags changed). */
  private reassess(n: NodeRecord): void {
    const desired = this.desiredOf(n.name);
    n.deferred = undefined;
    n.behind = undefined;
    n.judgedAgainst = desired;
    n.assessment =
      desired && n.snapshot ? this.assessor.assess(desired, n.hello.flags, n.snapshot) : null;
  }

  /**
   * After a push: the node's judgement against its (maybe new) desired revision, put off until
   * read (node.ts assessmentOf). refresh reads it at once unless the node is shown `applying`
   * whatever its rules say (a push pending): nodes not pushed to are judged now, a pushed one
   * when its post-apply rules come, or when anyone asks. Nothing to do when already judged
   * against that revision (its post-apply rules came first).
   */
  private rejudge(n: NodeRecord, desired = this.desiredOf(n.name)): void {
    n.behind = undefined;
    const was = n.judgedAgainst;
    if (n.deferred === undefined && sameRevision(was, desired)) return;
    const { snapshot } = n;
    const flags = n.hello.flags;
    n.judgedAgainst = desired;
    n.assessment = null;
    n.deferred =
      desired && snapshot ? () => this.assessor.assess(desired, flags, snapshot) : () => null;
  }

  /**
   * Re-judges every node in slices of at most REASSESS_SLICE_MS so a new config never stalls
   * the event loop (identical nodes are cache hits; a few large distinct chains are not).
   */
  private reassessAll(): void {
    const run = ++this.reassessRun;
    const names = [...this.nodes.keys()];
    const step = (from: number) => {
      if (run !== this.reassessRun) return;
      const start = performance.now();
      let i = from;
      while (i < names.length && performance.now() - start < REASSESS_SLICE_MS) {
        const n = this.nodes.get(names[i++]!);
        if (!n) continue;
        this.rejudge(n);
        this.refresh(n);
      }
      if (i < names.length) setImmediate(step, i);
    };
    step(0);
  }

  /** The timeline entry (and signal) of a judged node's status `from` → `status`, if news. */
  private tellChange(
    n: NodeRecord,
    told: { status: NodeStatus; summary: string },
    status: NodeStatus,
    summary: string,
  ): void {
    const from = told.status;
    // Going unknown for silence is told by the "silent" event itself; rules not known yet (a
    // digest not held here) have no event of their own, so that one is a status entry.
    if (status !== from && (status !== "unknown" || summary === n.rulesUnknown)) {
      const why = status === "offline" ? `reporter disconnected (last known: ${summary})` : summary;
      // A new node's placeholder (offline) is no state it was in: its first entry says so.
      const was = n.firstReport ? null : from;
      n.firstReport = undefined;
      addEvent(n, "status", statusChangeText(was, status, why), this.now());
      this.opts.onSignal?.({ kind: "status", node: n.name, from, to: status, summary });
    } else if (status === "drifted" && from === "drifted" && summary !== told.summary)
      // Drifted further (or partly back): the timeline's entry named only the first difference.
      // One entry for a drift that keeps changing: its newest word, not the whole timeline.
      n.events.fold(this.now(), "drift", driftChangedText(summary));
  }

  private refresh(n: NodeRecord, force = false): void {
    const { status, summary, notJudged } = deriveStatus(
      n,
      this.opts.desired() !== null,
      this.mono(),
    );
    // A node not reached yet shows a placeholder, no change of its own: reached, it changes
    // from the status told before it (in sync with v1 to in sync with v2 is no news).
    const from = n.toldStatus ?? n.status;
    const told = n.toldSummary ?? n.summary; // set with toldStatus
    n.toldStatus = notJudged ? from : undefined;
    n.toldSummary = notJudged ? told : undefined;
    const changed = !notJudged && status !== from;
    if (!notJudged) this.tellChange(n, { status: from, summary: told }, status, summary);
    if (!notJudged && status === "drifted") driftTold(n);
    n.status = status;
    n.summary = summary;
    if (changed) this.staging?.judged(n);
    const seen = this.shown.get(n.name);
    if (force || !seen || !sameAsShown(seen, n)) {
      // Rewritten in place: a new one per change was garbage three times per node and push.
      if (seen) rewriteShown(seen, n);
      else this.shown.set(n.name, shownOf(n));
      this.opts.feed.node(n.name);
    }
  }
}

/**
 * What a browser's row shows of a node, to tell a real change. lastSeenAt is left out on
 * purpose: heartbeats must not flood browsers (see Freshness).
 */
interface Shown {
  status: NodeStatus;
  summary: string;
  appliedRevision: number | null;
  mode: string;
  diffs: number;
  liveness: string;
  snapshotReceivedAt: number | null;
}

function shownOf(n: NodeRecord): Shown {
  return {
    status: n.status,
    summary: n.summary,
    appliedRevision: n.appliedRevision,
    mode: n.hello.mode,
    diffs: diffsOf(n),
    liveness: livenessOf(n),
    snapshotReceivedAt: n.snapshotReceivedAt,
  };
}

/** `s` made what shownOf(n) would give, field by field. */
function rewriteShown(s: Shown, n: NodeRecord): void {
  s.status = n.status;
  s.summary = n.summary;
  s.appliedRevision = n.appliedRevision;
  s.mode = n.hello.mode;
  s.diffs = diffsOf(n);
  s.liveness = livenessOf(n);
  s.snapshotReceivedAt = n.snapshotReceivedAt;
}

/** Compared field by field: no string is built for the thousands of refreshes of a push. */
function sameAsShown(s: Shown, n: NodeRecord): boolean {
  return (
    s.status === n.status &&
    s.summary === n.summary &&
    s.appliedRevision === n.appliedRevision &&
    s.mode === n.hello.mode &&
    s.diffs === diffsOf(n) &&
    s.liveness === livenessOf(n) &&
    s.snapshotReceivedAt === n.snapshotReceivedAt
  );
}

/** A row's difference count: -1 none judged, -2 judgement put off (rows say unknown). */
function diffsOf(n: NodeRecord): number {
  return n.deferred ? -2 : (n.assessment?.report.differences.length ?? -1);
}

/** Judged against the same revision (the assessment cache's key: revision, resourceVersion). */
function sameRevision(a: Desired | null | undefined, b: Desired | null): boolean {
  if (a === undefined || a === null || b === null) return a === b;
  return a === b || (a.revision === b.revision && a.resourceVersion === b.resourceVersion);
}

/** Slack past the resync interval a reporter's next resync may be said to be ahead, ms. */
const RESYNC_AHEAD_SLACK_MS = 1000;

/**
 * A snapshot's next resync on our clock (the reporter's may differ: moved by the snapshot's
 * age). Null (not known) when the reporter's word contradicts itself: a timer is armed one
 * interval ahead (reporter resync-timer.ts), so one further ahead, or one with no interval, is
 * no time to show ("heals in 300 years").
 */
function nextResyncOf(n: NodeRecord, snap: Snapshot, now: number): number | null {
  const s = snap.schedule;
  if (!s) return null;
  if (s.nextResyncAt !== null) {
    const ahead = s.nextResyncAt - snap.takenAt;
    if (s.resyncMs === null || ahead > s.resyncMs + RESYNC_AHEAD_SLACK_MS) return null;
    return now + ahead;
  }
  // Null while a resync runs. One taken then but received after its apply-result (which set
  // the next one: noteResync) would say "re-applying now" of a node done long ago.
  const known = n.schedule?.nextResyncAt ?? null;
  return s.resyncMs !== null && known !== null && known > now ? known : null;
}

/** A snapshot's per-node fields (its rules aside) onto the node's record. */
function takeNodeFields(n: NodeRecord, snap: Snapshot, now: number): void {
  if (snap.schedule) n.schedule = { ...snap.schedule, nextResyncAt: nextResyncOf(n, snap, now) };
  n.verifyUntil = null;
  n.appliedRevision = snap.appliedRevision;
}

/**
 * Did the node already report the rules this apply wrote? Reporters may send the post-apply
 * snapshot before or after the apply-result; only when it has not come yet is the held
 * snapshot stale. `order`: when the held snapshot was received and the apply sent, both on the
 * monotonic clock (on the wall clock a step between them put them in the wrong order).
 */
function showsApply(
  n: NodeRecord,
  p: Pending,
  res: ApplyResult,
  order: { received: number | undefined; sent: number | undefined },
): boolean {
  if (order.received === undefined || order.sent === undefined || order.received < order.sent)
    return false;
  if (p.kind === "resync") return true;
  const g = n.snapshot?.appliedRevision ?? null;
  return g !== null && res.revision !== null && g >= res.revision;
}

/**
 * The reporter restarts its resync timer after a periodic apply, and when it adopts a config
 * (just before applying it): the next resync is one interval after that.
 */
function noteResync(n: NodeRecord, res: ApplyResult, now: number): void {
  const s = n.schedule;
  if (!s || s.resyncMs === null) return;
  if (res.trigger === "periodic") s.nextResyncAt = now + s.resyncMs;
  else if (res.trigger === "desired" && res.ok)
    s.nextResyncAt = now - Math.round(res.durationMs) + s.resyncMs;
}

/** A drift an apply changed back: its words, revision and the differences seen, if any. */
interface HealedDrift {
  text: string;
  revision: number;
  seen?: DriftReport;
  /** The revision it ran was its reporter's word at hello (not an apply seen here). */
  atHello: boolean;
}

/** Applies whose changing the rules of the revision the node ran means they had drifted. */
const HEALING_TRIGGERS: ReadonlySet<ApplyResult["trigger"]> = new Set([
  "desired",
  "resync",
  "periodic",
  "heal",
]);

/**
 * A drift the dashboard did not judge live, told by the apply that changed it back: the
 * timeline's words (driftHealedText) and the differences seen, or null. An apply changes the
 * rules only when they are not what its config renders (reporter write.ts: `changed` is
 * "something was written"), so an apply of the revision the node ran by its own word on this
 * connection (said at hello, or its last successful apply here) that changed them found them
 * drifted. Not a first apply of a revision
 * (a new node, a new revision, a return to the previous one), nor one at reporter start (a
 * reboot empties the tables) or from the command line. A drift whose status was shown is no
 * news: its timeline entry and the rollout's pause came when it was judged. Takes `n.ran` (the
 * caller sets it anew) and the drift seen.
 */
function healedDrift(n: NodeRecord, res: ApplyResult): HealedDrift | null {
  const ran = n.ran;
  n.ran = res.ok && res.revision !== null ? { revision: res.revision, atHello: false } : undefined;
  if (!res.ok || !res.changed || res.revision === null || ran?.revision !== res.revision)
    return null;
  if (!HEALING_TRIGGERS.has(res.trigger)) return null;
  const seen = n.driftSeen?.revision === res.revision ? n.driftSeen : undefined;
  n.driftSeen = undefined;
  if (seen?.told) return null;
  const text = driftHealedText(
    res.trigger,
    res.revision,
    ran.atHello,
    seen?.report.summary ?? null,
  );
  return {
    text,
    revision: res.revision,
    atHello: ran.atHello,
    ...(seen ? { seen: seen.report } : {}),
  };
}

/**
 * A read of the node's rules judged drifted against its desired revision: kept (with whether its
 * status is shown drifted already) until an apply changes them back. Told only by refresh: a
 * node applying shows `applying` whatever its rules (the read sent at reconnect, before the
 * apply of the revision sent then, is judged but never shown).
 */
function noteDrift(n: NodeRecord): void {
  const a = n.assessment;
  const revision = n.judgedAgainst?.revision;
  if (!a || revision === undefined || a.report.status !== "drifted") return;
  const prev = n.driftSeen;
  const told = prev?.told === true && prev.revision === revision && n.status === "drifted";
  n.driftSeen = { revision, report: a.report, told };
}

/** The node's status is shown drifted: its drift is told (the timeline, a staged rollout). */
function driftTold(n: NodeRecord): void {
  const report = n.assessment?.report;
  const revision = n.judgedAgainst?.revision;
  const seen = n.driftSeen;
  // Every refresh of a drifted node comes here: nothing new made when nothing changed.
  if (seen?.told && seen.report === report && seen.revision === revision) return;
  if (report && revision !== undefined) n.driftSeen = { revision, report, told: true };
}

/** Does this apply-result acknowledge what we are waiting for? */
function settles(n: NodeRecord, res: ApplyResult): boolean {
  const p = n.pending;
  if (!p) return false;
  if (p.kind === "resync") return res.trigger === "resync";
  return res.revision !== null && p.revision !== null && res.revision >= p.revision;
}

/** A push's event text, one string for all its nodes. */
const sentMessages = new WeakMap<Desired, string>();

/** An apply's result in the node's timeline (an unchanged periodic one is not news). */
function noteApply(n: NodeRecord, res: ApplyResult, now: number): void {
  if (res.ok) {
    if (res.changed || res.trigger === "desired" || res.trigger === "resync")
      addEvent(n, "applied", appliedText(res), now);
    return;
  }
  const what = applyWhat(res.trigger, res.revision);
  addEvent(n, "apply-failed", `${what} failed: ${res.error ?? "no reason given"}`, now);
}

function sentMessage(d: Desired): string {
  let text = sentMessages.get(d);
  if (text === undefined) {
    // One term for people: the revision; the store's resourceVersion stays in the API.
    const by = d.author ? ` (saved by ${d.author})` : "";
    text = `revision ${d.revision} sent${by}`;
    sentMessages.set(d, text);
  }
  return text;
}

function encodeDesired(d: Desired): Buffer {
  return Buffer.from(
    encodeMessage({
      type: "desired",
      v: PROTOCOL_VERSION,
      revision: d.revision,
      resourceVersion: d.resourceVersion,
      config: d.config,
    }),
  );
}
