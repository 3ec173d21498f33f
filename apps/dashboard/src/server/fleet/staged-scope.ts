// A staged rollout is kept by one dashboard replica (its waves, pauses and promotions live in
// that replica's StagedRollouts), while with replica sync every replica pushes a change to the
// reporters it holds. So while another replica is active, waves run here would not hold the
// change back from its nodes, and this replica's view of them would count only its own nodes.
// Until rollouts are coordinated fleet-wide, a staged rollout is refused then: these are the
// sentences that say why and what to do instead (issue 17; README "Staged rollouts").

/** What to do instead of starting a staged rollout while it is refused. */
const INSTEAD =
  "roll out all at once, or run one dashboard replica (dashboard.replicas: 1) to roll out in waves";

function list(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Why a staged rollout cannot run correctly on this replica, given the other replicas renewing
 * their Lease (null: not listed yet, so not known); null when it can (no other replica).
 */
export function stagedRefusalOf(others: readonly string[] | null): string | null {
  if (others === null)
    return "this replica has not listed the dashboard replicas' Leases yet, so it cannot tell whether other replicas push changes to nodes too";
  if (others.length === 0) return null;
  const who = others.length === 1 ? `replica ${others[0]} is` : `replicas ${list(others)} are`;
  return `dashboard ${who} active too and each replica pushes a change to the nodes it holds, so waves run by one replica would not hold the change back from the others' nodes`;
}

/** The 422 answer to a save (or rollback) that asks for waves while they are refused. */
export function saveRefused(reason: string): string {
  return `a staged rollout is refused: ${reason}. Nothing was saved; ${INSTEAD}`;
}

/** The 409 answer to promote, retry or abort of a rollout while it is refused. */
export function actionRefused(
  action: "promote" | "retry" | "abort",
  reason: string,
  previousRevision: number | undefined,
): string {
  const back =
    previousRevision === undefined
      ? "roll back all at once"
      : `roll back to revision ${previousRevision} all at once`;
  return `${action} is refused: ${reason}, and a ${action} here would reach only the nodes this replica holds. To return every node to the previous config, ${back}; to go on, ${action} once one replica is left`;
}

/** The rollout's sentence while refused: its state, and that it is held. */
export function heldMessage(message: string, reason: string): string {
  return `${message}. Held: ${reason}; this view counts only the nodes this replica holds, and no wave is released or finished until one replica is left`;
}
