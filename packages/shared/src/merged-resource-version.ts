// A merged revision's resourceVersion (several config sources): `<primary>+<sources>@r<revision>`,
// where <primary> is the stored config's resourceVersion it was merged from; a revision of the
// stored config alone carries the store's resourceVersion itself. Revision numbers of merges are
// the dashboard's own, so "which save is this rollout of" is answered by <primary>, not a number.

/** The resourceVersion of a merge of `primary` with `sources` other sources, numbered `revision`. */
export function mergedResourceVersion(primary: string, sources: number, revision: number): string {
  return sources === 0 ? primary : `${primary}+${sources}@r${revision}`;
}

/** The stored config's resourceVersion a (merged) revision was made from. */
export function primaryOf(resourceVersion: string): string {
  return resourceVersion.split(/[+@]/, 1)[0] ?? resourceVersion;
}

/** A merged revision's number, read from its resourceVersion; null for a stored revision's. */
export function mergedRevisionOf(resourceVersion: string): number | null {
  const m = /@r(\d{1,15})$/.exec(resourceVersion);
  return m ? Number(m[1]) : null;
}
