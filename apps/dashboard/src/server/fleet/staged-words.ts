// What a staged rollout says: waves by name, the actions recorded for a move or a pause, and
// the reasons given in its view and problems().
import type { RolloutAction, RolloutInput, StagedRolloutView } from "@masq/shared";
import type { Awaiting } from "./staged-options.js";
import type { StagedRecord } from "./staged-state.js";

export function waveNames(from: number, to: number): string {
  const name = (w: number) => (w === 0 ? "the canary" : `wave ${w}`);
  return from === to ? name(from) : `${name(from)} to ${name(to)}`;
}

/**
 * The action recorded for an input the state machine took (`s` after it; `fromStep` the step
 * before); null: none (a wave settled is said by noteSettled).
 */
export function actionOf(
  input: RolloutInput,
  s: StagedRecord,
  fromStep: number,
): { action: RolloutAction["action"]; detail: string } | null {
  switch (input.type) {
    case "failure":
      return { action: "pause", detail: input.reason };
    case "tick":
      return { action: "resume", detail: `timed pause over: wave ${s.core.step} released` };
    case "promote":
      return { action: "promote", detail: `released ${waveNames(fromStep + 1, s.core.step)}` };
    case "retry":
      return { action: "retry", detail: "re-sent the revision to the failed nodes" };
    case "abort":
      return { action: "abort", detail: `every node returns to revision ${s.previous?.revision}` };
    default:
      return null;
  }
}

/**
 * A follower holding its nodes for a staged revision whose state it cannot read: what it knows
 * (no waves: they are in the state it cannot read), held, with why.
 */
export function unfollowedView(a: Awaiting, reason: string): StagedRolloutView {
  return {
    resourceVersion: a.next.resourceVersion,
    revision: a.revision,
    previousResourceVersion: a.previous.resourceVersion,
    previousRevision: a.previous.revision,
    strategy: a.strategy,
    phase: "paused",
    step: 0,
    pause: null,
    aborted: false,
    message: `the nodes this replica holds stay on revision ${a.previous.revision}: ${reason}`,
    held: reason,
    waves: [],
    actions: [],
    startedAt: 0,
    startedBy: a.user,
  };
}

/** Why rollout.json is no rollout state: its first schema issue, for problems(). */
export function notAStateReason(
  issue: { path: PropertyKey[]; message: string } | undefined,
): string {
  if (!issue) return "rollout.json is not a rollout state";
  const at = issue.path.map(String).join(".") || "(top)";
  return `rollout.json is not a rollout state: ${at}: ${issue.message}`;
}

/** Why a node an owner found offline after applying when it took the rollout over is suspected. */
export function inheritedReason(name: string, by: string, holder: string | undefined): string {
  const held = holder === undefined ? "" : ` (held by replica ${holder || "(none)"})`;
  return `${name} was offline after applying${held} when ${by} took the rollout over (how soon after applying is not known: the previous owner's view of it was not kept)`;
}
