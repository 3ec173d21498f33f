// What a save is reviewed against: the revision nodes run. After an aborted staged rollout
// that is the stable revision every node returned to (GET /api/config's desiredRevision), not
// the stored, aborted one: "What changes" must then come from the server's dry run, which
// compares with what nodes run (config-routes.ts dryRun), not from the stored config.

export interface ReviewBaseline {
  /** The revision nodes run, compared with. */
  revision: number;
  /** The stored revision whose rollout was aborted (nodes do not run it); null: none. */
  aborted: number | null;
  /** The dialog's first sentence. */
  sentence: string;
}

/** `stored`: the stored config's revision; `desired`: the one nodes enforce (null: none). */
export function reviewBaseline(stored: number, desired: number | null): ReviewBaseline {
  if (desired === null || desired === stored)
    return { revision: stored, aborted: null, sentence: `Revision ${stored} → new revision.` };
  return {
    revision: desired,
    aborted: stored,
    sentence: `Nodes run revision ${desired}: the rollout of revision ${stored} was aborted. Revision ${desired} → new revision; what changes is counted from revision ${desired}.`,
  };
}
