// What a rollout move (promote, retry, abort) made by the owner answers: the move only once its
// state is written, else why not, with the status the API gives it. Never "done" when the write
// did not land (issue 17: a promote answered 200 whose write another replica's claim refused).
import type { StagedRolloutView } from "@masq/shared";
import type { MoveRequest } from "./staged-request.js";

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
 * The move's state write did not land: the move is taken back (this replica reads the stored
 * state again and sends its nodes what it says), and the asker is told it was not made.
 */
export function notWritten(action: MoveAction, e: unknown): MoveAnswer {
  const back =
    "this replica goes back to the rollout's state stored in Kubernetes, and its nodes get what that says";
  if (isFenced(e))
    return { ok: false, status: 409, error: `${action} not made: ${messageOf(e)}; ${back}` };
  return {
    ok: false,
    status: 503,
    error: `${action} not made: its state could not be written to Kubernetes (${messageOf(e)}); ${back}`,
  };
}

/** Asked of a dashboard that does not hold the singleton Lease (and passes no move on). */
export function notHolder(action: MoveAction): string {
  return `${action} not made: this dashboard does not hold the singleton Lease, and the rollout is the holder's to move; ask the dashboard the Service routes to (the holder)`;
}
