// What a save is reviewed against: the revision nodes run. After an aborted staged rollout
// that is the stable revision every node returned to (GET /api/config's desiredRevision), not
// the aborted one: "What changes" must then come from the server's dry run, which
// compares with what nodes run (config-routes.ts dryRun), not from the stored config.

export interface ReviewBaseline {
  /** The revision nodes run, compared with. */
  revision: number;
  /** The stored revision whose rollout was aborted (nodes do not run it); null: none. */
  aborted: number | null;
  /** The dialog's first sentence. */
  sentence: string;
}

/**
 * `stored`: the stored config's revision; `desired`: the one nodes enforce (null: none);
 * `aborted`: the revision whose rollout was aborted, as the server says (GET /api/config's
 * `abortedRevision`). Never inferred from stored ≠ desired: an invalid stored text and merged
 * sources make them differ too, and nothing was aborted then.
 */
export function reviewBaseline(
  stored: number,
  desired: number | null,
  aborted: number | null,
): ReviewBaseline {
  const runs = desired ?? stored;
  if (aborted === null || desired === null)
    return { revision: runs, aborted: null, sentence: `Revision ${runs} → new revision.` };
  return {
    revision: desired,
    aborted,
    sentence: `Nodes run revision ${desired}: the rollout of revision ${aborted} was aborted. Revision ${desired} → new revision; what changes is counted from revision ${desired}.`,
  };
}
