// What the pages say about conflicting config sources: the Config page lists every conflict;
// the fleet page, where operators look first, a one-line notice that links there.

/** "2 conflicts between config sources: nodes keep the last good merged config". */
export function conflictsTitle(n: number): string {
  return `${n} conflict${n === 1 ? "" : "s"} between config sources: nodes keep the last good merged config`;
}

export interface FleetConflictNotice {
  title: string;
  /** The first conflict, and how many more there are. */
  detail: string;
  href: string;
}

/** The fleet page's notice; null when the sources merge cleanly (or there is one source). */
export function fleetConflictNotice(
  merge: { conflicts: readonly { message: string }[] } | null | undefined,
): FleetConflictNotice | null {
  const conflicts = merge?.conflicts ?? [];
  const [first] = conflicts;
  if (!first) return null;
  const more = conflicts.length - 1;
  return {
    title: conflictsTitle(conflicts.length),
    detail: more > 0 ? `${first.message} (and ${more} more)` : first.message,
    href: "/config",
  };
}

/**
 * The merged config panel's title and first words. A merge that is not pushable (a conflict, or
 * held after an abort) is the merge as computed, which no node gets: said first, with what
 * nodes run instead (`desiredRevision`), before anything reads as what nodes get.
 */
export function mergedHeading(
  merge: { sources: readonly unknown[]; pushable: boolean; held?: string | null },
  desiredRevision: number | null,
): { title: string; lead: string } {
  const n = merge.sources.length;
  if (merge.pushable) return { title: `Merged config (${n} sources)`, lead: "What nodes get:" };
  const why = merge.held ? `Not pushed: ${merge.held}` : "Not pushed while the sources conflict.";
  const instead =
    desiredRevision === null
      ? "nodes have no config from the dashboard yet"
      : `nodes run revision ${desiredRevision} instead`;
  return {
    title: `Merged config as computed (${n} sources): no node gets it`,
    lead: `${why} No node gets this merge; ${instead}. As computed:`,
  };
}
