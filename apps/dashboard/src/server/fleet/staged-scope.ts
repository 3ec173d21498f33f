// A staged rollout runs fleet-wide with every replica active only because one replica owns it:
// the singleton Lease holder cuts and steps it over every node, the others follow its state
// (docs/scale-out.md). Where that cannot hold (leader election off, or the replica Leases not
// listed yet), a staged rollout is refused: these are the sentences that say why and what to
// do instead (issue 17; README "Staged rollouts").

/** What to do instead of starting a staged rollout while it is refused. */
const INSTEAD =
  "roll out all at once, or run one dashboard replica (dashboard.replicas: 1) to roll out in waves";

function list(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(", ");
  return names.length > 5 ? `${shown} and ${names.length - 5} more` : shown;
}

/**
 * Why a staged rollout cannot run correctly on this replica, given the other replicas renewing
 * their Lease (null: not listed yet, so not known); null when it can: alone, or with others
 * while the singleton Lease (`elected`) makes one replica the rollout's owner, which cuts and
 * steps it over every node while the others follow it (docs/scale-out.md).
 */
export function stagedRefusalOf(others: readonly string[] | null, elected = true): string | null {
  if (others === null)
    return "this replica has not listed the dashboard replicas' Leases yet, so it cannot tell whether other replicas push changes to nodes too";
  if (others.length === 0 || elected) return null;
  const who = others.length === 1 ? `replica ${others[0]} is` : `replicas ${list(others)} are`;
  return `dashboard ${who} active too and no singleton Lease elects one replica to own the rollout (leader election is off), so waves run by one replica would not hold the change back from the others' nodes`;
}

/**
 * The 422 answer to a save (or rollback) that asks for waves while they are refused; `instead`:
 * what to do (default: all at once, or one replica).
 */
export function saveRefused(reason: string, instead = INSTEAD): string {
  return `a staged rollout is refused: ${reason}. Nothing was saved; ${instead}`;
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
