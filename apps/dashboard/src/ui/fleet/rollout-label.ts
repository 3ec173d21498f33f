// The rollout bar's words and colour. After an abort every node returns to the stable revision:
// that is a rollout of the old revision, which "Revision 3 rolled out" misread as a new change.
import type { Rollout } from "@masq/shared";
import { plural } from "../components/plural";
import { formatDuration, toMillis } from "../components/time";

/**
 * The aborted revision when `rollout` is an abort's return to the stable one: the server says
 * `aborted` (its `abortedRevision`), nodes enforce `desired`, and this rollout is of `desired`.
 * Null otherwise.
 */
export function abortedBehind(
  rollout: Pick<Rollout, "revision">,
  aborted: number | null,
  desired: number | null,
): number | null {
  if (aborted === null || desired === null) return null;
  return rollout.revision === desired ? aborted : null;
}

/** Said while no node of a rollout resumed after a restart has reconnected yet. */
const RECONNECT_WAIT = "waiting for nodes to reconnect after the dashboard restarted";

/** The rollout's headline; `aborted`: the revision whose abort this rollout reverts (abortedBehind). */
export function rolloutLabel(rollout: Rollout, aborted: number | null): string {
  const total = Math.max(rollout.total, 0);
  const running = rollout.finishedAt === null;
  // Resumed after a restart with no node back: nothing applied is known yet, not "0 applied".
  const waiting = running && total > 0 && (rollout.unseen ?? 0) >= total;
  if (aborted !== null) {
    const what = `to revision ${rollout.revision} after revision ${aborted} was aborted`;
    if (waiting) return `Reverting ${what}: ${RECONNECT_WAIT}`;
    return running
      ? `Reverting ${what}: ${rollout.done} of ${plural(total, "node")} applied`
      : `Reverted ${what}: ${rollout.done} of ${plural(total, "node")}`;
  }
  if (waiting) return `Rolling out revision ${rollout.revision}: ${RECONNECT_WAIT}`;
  if (running)
    return `Rolling out revision ${rollout.revision}: ${rollout.done} of ${plural(total, "node")} applied`;
  return total === 0
    ? `Revision ${rollout.revision}: no enforce-mode node was known when it was saved`
    : `Revision ${rollout.revision} rolled out to ${rollout.done} of ${plural(total, "node")}`;
}

/** The applied nodes' share of the bar: green once finished (failures have their own red). */
export function doneBarClass(rollout: Pick<Rollout, "finishedAt">): string {
  return rollout.finishedAt === null ? "bg-indigo-500" : "bg-emerald-500";
}

/** One part of the counts beside the bar: its text and its colour classes ("" for the default). */
export type CountPart = [text: string, cls: string];

const MUTED = "text-zinc-700 dark:text-zinc-300";
const FAILED = "text-red-700 dark:text-red-400";

/**
 * The counts beside the bar: "1 pending · 2 held back by the staged rollout · 1 offline, pending
 * until it reconnects"; nodes a rollout resumed after a restart counted that have not reconnected
 * since are said apart from the offline ones known by name. Once finished, how long it took
 * (not for a resumed one: that time spans the restart) and what nodes did since.
 */
export function rolloutCountParts(rollout: Rollout): CountPart[] {
  return [...waitingParts(rollout), ...finishParts(rollout)];
}

/** What the rollout waits for, and what failed. */
function waitingParts(rollout: Rollout): CountPart[] {
  const held = rollout.heldBack ?? 0;
  const rules = rollout.awaitingRules ?? 0;
  const unseen = rollout.unseen ?? 0;
  const offline = rollout.offline - unseen;
  const waiting = rollout.pending - rollout.offline - held - rules;
  const parts: CountPart[] = [];
  if (waiting > 0) parts.push([`${waiting} pending`, ""]);
  // Applied, not done: their post-apply rules are not judged yet (they may have drifted).
  if (rules > 0)
    parts.push([`${rules} applied, waiting for ${rules === 1 ? "its" : "their"} rules`, ""]);
  if (held > 0) parts.push([`${held} held back by the staged rollout`, ""]);
  if (offline > 0) parts.push([`${offline} offline, pending until it reconnects`, MUTED]);
  if (unseen > 0)
    parts.push([`${unseen} not reconnected since the dashboard restarted, pending`, MUTED]);
  if (rollout.failed > 0) parts.push([`${rollout.failed} failed`, FAILED]);
  return parts;
}

/** How long a finished rollout took, and what nodes did since. */
function finishParts(rollout: Rollout): CountPart[] {
  const running = rollout.finishedAt === null;
  const started = toMillis(rollout.startedAt);
  const finished = toMillis(rollout.finishedAt);
  const late = rollout.late;
  const parts: CountPart[] = [];
  const timed = rollout.resumedAt === undefined && started !== null && finished !== null;
  if (!running && rollout.total > 0 && timed)
    parts.push([`in ${formatDuration(finished - started)}`, ""]);
  if (late.done > 0)
    parts.push([`${late.done} caught up later`, "text-emerald-700 dark:text-emerald-400"]);
  if (late.pending > 0) parts.push([`${late.pending} more pending`, ""]);
  if (late.failed > 0) parts.push([`${late.failed} failed later`, FAILED]);
  return parts;
}
