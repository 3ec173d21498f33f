// What a rollout move (promote, retry, abort) made by the owner answers: the move only once its
// state is written, else why not, with the status the API gives it. Never "done" when the write
// did not land (issue 17: a promote answered 200 whose write another replica's claim refused).
import {
  type RolloutAction,
  type RolloutEffect,
  type RolloutInput,
  type StagedRolloutView,
  stepRollout,
  type WavesStrategy,
} from "@masq/shared";
import type { MoveRequest } from "./staged-request.js";
import { addAction, type StagedState } from "./staged-state.js";
import { actionOf } from "./staged-words.js";

export type MoveAction = MoveRequest["action"];

/** 409: refused as things stand (another replica owns the rollout); 503: the store not reached. */
export type MoveAnswer =
  | { ok: true; view: StagedRolloutView }
  | { ok: false; status: 409 | 503; error: string };

/** Was the write refused by the store's fencing (another replica claimed or wrote the state)? */
export function isFenced(e: unknown): boolean {
  return (e as { fenced?: boolean } | null)?.fenced === true;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The store's check before the move refused it (or could not be made): nothing was changed. */
export function notChecked(action: MoveAction, e: unknown): MoveAnswer {
  if (isFenced(e)) return { ok: false, status: 409, error: `${action} not made: ${messageOf(e)}` };
  return {
    ok: false,
    status: 503,
    error: `${action} not made: the rollout's state in Kubernetes could not be checked (${messageOf(e)}); nothing was changed, try again`,
  };
}

/**
 * The move's state write did not land: the move was not made (it is made only once its state
 * is stored), no node was sent anything for it, and the asker is told so. Fenced, this replica
 * reads the stored state again before it writes more.
 */
export function notWritten(action: MoveAction, e: unknown): MoveAnswer {
  const nothing = "nothing was changed and no node was sent it";
  if (isFenced(e))
    return { ok: false, status: 409, error: `${action} not made: ${messageOf(e)}; ${nothing}` };
  return {
    ok: false,
    status: 503,
    error: `${action} not made: its state could not be written to Kubernetes (${messageOf(e)}); ${nothing}, try again`,
  };
}

/** Asked of a dashboard that does not hold the singleton Lease (and passes no move on). */
export function notHolder(action: MoveAction): string {
  return `${action} not made: this dashboard does not hold the singleton Lease, and the rollout is the holder's to move; ask the dashboard the Service routes to (the holder)`;
}

/** An operator's move as the state machine takes it. */
export type MoveInput = Extract<RolloutInput, { type: "promote" | "retry" | "abort" }>;

export function moveInput(action: MoveAction, full = false): MoveInput {
  return action === "promote" ? { type: action, full } : { type: action };
}

/**
 * A move computed from the state now and not taken yet (issue 17: written first, performed
 * only once its write landed, so no node is ever sent what a refused write took back).
 */
export interface PlannedMove {
  input: MoveInput;
  user: string;
  /** The rollout it was computed from (its core then: `before`). */
  of: StagedState;
  before: StagedState["core"];
  core: StagedState["core"];
  effect: RolloutEffect | null;
  /** The nodes a retry sends the revision again (those failed when it was asked). */
  retried: string[];
  /** The rollout as stored once the move is made: recorded, a retry's failures cleared. */
  state: StagedState;
  /** The move as its actions record it. */
  recorded: RolloutAction;
}

/** The move on `s` (pure: `s` is not changed), or why the state machine refuses it. */
export function planMove(
  s: StagedState,
  input: MoveInput,
  user: string,
  now: number,
): { ok: true; plan: PlannedMove } | { ok: false; error: string } {
  const r = stepRollout(s.core, input, (s.strategy as WavesStrategy).pause);
  if (!r.ok) return r;
  const retried = r.effect === "retry" ? Object.keys(s.failed) : [];
  const state: StagedState = { ...s, core: r.core, actions: [...s.actions] };
  if (r.effect === "retry") {
    state.failed = {};
    delete state.failedMore;
  }
  const a = actionOf(input, state, s.core.step)!;
  addAction(state, a.action, user, a.detail, now);
  const recorded = state.actions.at(-1)!;
  const plan = { input, user, of: s, before: s.core, core: r.core, effect: r.effect, retried };
  return { ok: true, plan: { ...plan, state, recorded } };
}

/** A move stored, but its rollout was replaced (a new revision) before it could be made. */
export function replacedMeanwhile(action: MoveAction, now: { revision: number } | null): string {
  const by = now ? `the rollout of revision ${now.revision}` : "no staged rollout";
  return `${action} not made: the rollout was replaced while its state was written (now: ${by}); nothing was sent to any node`;
}

/** Why a dashboard without leader election does not own the rollout another one renews. */
export function ownedElsewhereReason(owner: string): string {
  return `owned by dashboard ${owner}, which renews it: this one (leader election off) neither writes nor moves it while it does; two dashboards acting as owner took the rollout from each other, so enable leader election`;
}

/** A move asked of a dashboard (leader election off) while another one owns the rollout. */
export function heldElsewhere(action: MoveAction, owner: string): string {
  return `${action} not made: another replica owns this rollout: ${owner} (${ownedElsewhereReason(owner)}); nothing was changed`;
}

/** How long a move asked of the owner from another replica waits for its word (then 202). */
export const REQUEST_CONFIRM_MS = 5_000;

/**
 * A move asked of the owner: made (`confirmed`: the owner stored it within the wait), refused
 * by it (why), or not confirmed yet (the owner had not stored it: its write may yet be refused,
 * and the rollout's actions say so when it is).
 */
export type RequestAnswer =
  | { ok: true; view: StagedRolloutView; confirmed?: boolean }
  | { ok: false; error: string };

const NOT_PERFORMED = "not performed";

/** The detail a request the owner refused records (where its asker looks for it). */
export function notPerformed(error: string): string {
  return `${NOT_PERFORMED}: ${error}`;
}

/**
 * What the owner did with a request it stored as performed: its newest action of `action` by
 * `requester` says "not performed" when it was refused (superseded, or refused as things stood).
 */
export function requestOutcome(
  actions: readonly RolloutAction[],
  action: MoveAction,
  requester: string,
  view: StagedRolloutView | null,
): RequestAnswer {
  const last = actions.findLast((a) => a.action === action && a.user === requester);
  if (last?.detail.startsWith(NOT_PERFORMED))
    return { ok: false, error: `${action} not made by the rollout's owner: ${last.detail}` };
  if (!view) return { ok: false, error: `${action}: the rollout is no longer staged` };
  return { ok: true, view, confirmed: true };
}
