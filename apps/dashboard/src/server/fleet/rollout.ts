// A config change rolling out: which enforce-mode nodes have applied the revision, their
// post-apply rules judged (rollout-done.ts: the same meaning as a staged rollout's waves). Every
// enforce-mode node known when it starts is a target, offline ones too (pending until they
// return); nodes that join before it finishes become targets. It finishes once, when every
// target has applied or failed, and its counts and finishedAt are frozen from then on: nodes
// that act later (came back, retried, joined) are counted apart as `late`. That includes the
// targets a staged rollout counted failed at the finish (a drift after applying): a retry
// clears them there, but the finished counts keep them failed and count the retry late.
// After a dashboard restart a staged rollout's tracking is resumed (`start` with `resumed`): its
// waves counted nodes no reporter has named since (`unseen`, told by the staged rollout): each
// is a pending, offline target, and the rollout does not finish while any is left. With every
// dashboard replica active, a rollout resumed so counts this replica's nodes only: it is held
// open (`heldOpen`) until the owner saw every node apply it (staged-rollout.ts atOnceOver).

import type { Rollout, RolloutLate } from "@masq/shared";

/**
 * `offline`: a pending target whose reporter is not connected; `awaiting-rules`: applied the
 * revision, its post-apply rules not judged yet (pending too: it is not done until they are).
 */
export type Outcome = "pending" | "offline" | "awaiting-rules" | "done" | "failed";

interface State {
  revision: number;
  resourceVersion: string;
  startedAt: number;
  finishedAt: number | null;
  nodes: Map<string, Outcome>;
  /** Counts by outcome, kept in step with `nodes` (thousands of marks per rollout). */
  count: Record<Outcome, number>;
  /** After finishedAt: what nodes did since (never a target's frozen outcome). */
  late: Map<string, Outcome>;
  /** At finishedAt: the targets a staged rollout counted failed then (frozen with the counts). */
  failedAtFinish?: ReadonlySet<string>;
  /** Resumed at a dashboard start from a persisted staged rollout (Rollout.resumedAt). */
  resumedAt?: number;
}

export interface RolloutTarget {
  name: string;
  connected: boolean;
  /** Already runs the revision (a staged rollout returning to an earlier one). */
  applied?: boolean;
  /** With `applied`: its rules are not judged yet (rollout-done.ts). */
  awaitingRules?: boolean;
}

const zero = (): Record<Outcome, number> => ({
  pending: 0,
  offline: 0,
  "awaiting-rules": 0,
  done: 0,
  failed: 0,
});

/** Not done yet: the rollout waits for these. */
const waiting = (c: Record<Outcome, number>) => c.pending + c.offline + c["awaiting-rules"];

export class RolloutTracker {
  private state: State | null = null;

  /**
   * `failedByStage`: the targets a staged rollout counts failed now (FleetState.rolloutView),
   * read at the finish to freeze them with the counts. `unseen`: targets of `revision` counted
   * but not known by name (a staged rollout resumed after a restart, Rollout.unseen).
   * `notHeard`: is this target known only from before the dashboard started (its roster, not
   * reconnected since)? Counted offline as any, and said unseen too. `heldOpen`: the rollout of
   * `revision` is not over yet for reasons beyond this replica's nodes (not finished meanwhile).
   */
  constructor(
    private readonly onFinish: (r: Rollout) => void = () => {},
    private readonly failedByStage: () => Iterable<string> = () => [],
    private readonly unseen: (revision: number) => number = () => 0,
    private readonly notHeard: (node: string) => boolean = () => false,
    private readonly heldOpen: (revision: number) => boolean = () => false,
  ) {}

  /**
   * `resumed`: tracking a rollout begun before this dashboard started (its persisted staged
   * state), from `startedAt`; without, it starts now.
   */
  start(
    revision: number,
    resourceVersion: string,
    targets: readonly RolloutTarget[],
    now: number,
    resumed?: { startedAt: number },
  ): void {
    const nodes = new Map<string, Outcome>();
    const count = zero();
    for (const t of targets) {
      const o: Outcome = t.applied
        ? t.awaitingRules
          ? "awaiting-rules"
          : "done"
        : t.connected
          ? "pending"
          : "offline";
      nodes.set(t.name, o);
      count[o]++;
    }
    this.state = {
      revision,
      resourceVersion,
      startedAt: resumed?.startedAt ?? now,
      finishedAt: null,
      nodes,
      count,
      late: new Map(),
      ...(resumed ? { resumedAt: now } : {}),
    };
    this.checkFinished(now);
  }

  /**
   * The staged rollout's count of nodes not seen changed (a node placed, one dropped from a
   * wave): a rollout waiting only for them may be finished now.
   */
  recheck(now: number): boolean {
    const was = this.state?.finishedAt;
    this.checkFinished(now);
    return was === null && this.state?.finishedAt !== null;
  }

  get revision(): number | null {
    return this.state?.revision ?? null;
  }

  /**
   * Records what a node did; returns true when the view changed. A node that already applied
   * stays done (a reconnect re-sends the config, which changes nothing).
   */
  mark(node: string, outcome: Outcome, now: number): boolean {
    const s = this.state;
    if (!s) return false;
    if (s.finishedAt !== null) return markLate(s, node, outcome);
    const before = s.nodes.get(node);
    if (before === outcome || before === "done") return false;
    // A disconnect only matters for a target still waiting (it is sent the revision again).
    if (outcome === "offline" && before !== "pending" && before !== "awaiting-rules") return false;
    if (before) s.count[before]--;
    s.count[outcome]++;
    s.nodes.set(node, outcome);
    this.checkFinished(now);
    return true;
  }

  /**
   * A target's rules were judged: one that applied and waited for them is done now (its apply
   * verified; a drift in them is the staged rollout's failure, FleetState.rolloutView).
   */
  rulesJudged(node: string, now: number): boolean {
    const s = this.state;
    const o = s?.finishedAt === null ? s.nodes.get(node) : s?.late.get(node);
    return o === "awaiting-rules" && this.mark(node, "done", now);
  }

  /** Drops a node that was forgotten (or will never be sent the config: observe mode). */
  remove(node: string, now: number): boolean {
    const s = this.state;
    if (!s) return false;
    if (s.finishedAt !== null) return s.late.delete(node);
    const before = s.nodes.get(node);
    if (!before) return false;
    s.nodes.delete(node);
    s.count[before]--;
    this.checkFinished(now);
    return true;
  }

  /**
   * How the view counts `node`, by name: as a target with this outcome (frozen once the
   * rollout finished), or among the late ones; {} when it counts it nowhere. A view over every
   * replica takes this away before counting the node by its holder's word (fleet-view.ts): a
   * target that finished here and moved to another replica was counted twice.
   */
  countedAs(node: string): { target?: Outcome; late?: Outcome } {
    const s = this.state;
    if (!s) return {};
    const target = s.nodes.get(node);
    if (target) return { target };
    const late = s.finishedAt === null ? undefined : s.late.get(node);
    return late ? { late } : {};
  }

  /**
   * `held`: is this connected, pending target held back by a staged rollout (not sent yet)?
   * `failedByStage`: targets a staged rollout counts failed (drifted, or offline soon after
   * applying, until a retry), counted failed here too so the bar and the waves agree.
   */
  view(held?: (node: string) => boolean, failedByStage: Iterable<string> = []): Rollout | null {
    const s = this.state;
    if (!s) return null;
    let heldBack = 0;
    if (held && s.finishedAt === null)
      for (const [name, o] of s.nodes) if (o === "pending" && held(name)) heldBack++;
    const c = withFailed(s, s.failedAtFinish ?? failedByStage);
    const late: RolloutLate = { done: 0, pending: 0, failed: 0 };
    for (const o of s.late.values()) late[lateKey(o)]++;
    const awaitingRules = c["awaiting-rules"];
    const unseen = this.unseenOf(s);
    return {
      revision: s.revision,
      resourceVersion: s.resourceVersion,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      total: s.nodes.size + unseen,
      done: c.done,
      pending: waiting(c) + unseen,
      offline: c.offline + unseen,
      failed: c.failed,
      late,
      ...(awaitingRules > 0 ? { awaitingRules } : {}),
      ...(heldBack > 0 ? { heldBack } : {}),
      ...resumedFields(s, unseen + this.notHeardOf(s)),
    };
  }

  /** Offline targets not heard from since the start (restored), while it runs. */
  private notHeardOf(s: State): number {
    let n = 0;
    if (s.finishedAt === null)
      for (const [name, o] of s.nodes) if (o === "offline" && this.notHeard(name)) n++;
    return n;
  }

  /** Counted with the targets until the finish (which waits for them): none are left then. */
  private unseenOf(s: State): number {
    return s.finishedAt === null ? this.unseen(s.revision) : 0;
  }

  private checkFinished(now: number): void {
    const s = this.state;
    if (!s || s.finishedAt !== null || waiting(s.count) > 0) return;
    // Nodes a resumed staged rollout counted and no reporter has named since: not done.
    if (this.unseen(s.revision) > 0 || this.heldOpen(s.revision)) return;
    s.finishedAt = now;
    s.failedAtFinish = new Set(this.failedByStage());
    const v = this.view();
    if (v) this.onFinish(v);
  }
}

/** After the finish: a node's later outcome, unless it is a target that applied in time. */
function markLate(s: State, node: string, outcome: Outcome): boolean {
  // A target counted failed by the stage at the finish (retried since) is counted late.
  if (s.nodes.get(node) === "done" && !s.failedAtFinish?.has(node)) return false;
  const before = s.late.get(node);
  if (before === outcome || before === "done") return false;
  if (outcome === "offline" && before !== "pending" && before !== "awaiting-rules") return false;
  s.late.set(node, outcome);
  return true;
}

/** A resumed rollout's fields of the view (Rollout.unseen, Rollout.resumedAt); {} for others. */
function resumedFields(s: State, unseen: number): Pick<Rollout, "unseen" | "resumedAt"> {
  return {
    ...(unseen > 0 ? { unseen } : {}),
    ...(s.resumedAt !== undefined ? { resumedAt: s.resumedAt } : {}),
  };
}

/** The counts with these targets counted failed (whatever else they were). */
function withFailed(s: State, failed: Iterable<string>): Record<Outcome, number> {
  const c = { ...s.count };
  for (const name of failed) {
    const o = s.nodes.get(name);
    if (o === undefined || o === "failed") continue;
    c[o]--;
    c.failed++;
  }
  return c;
}

/** Where a late outcome is counted: not done yet is pending. */
export const lateKey = (o: Outcome): keyof RolloutLate =>
  o === "offline" || o === "awaiting-rules" ? "pending" : o;
