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
