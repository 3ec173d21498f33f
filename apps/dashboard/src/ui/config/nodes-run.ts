// The config page header's word on what nodes run when it is not the stored revision shown:
// with other config sources nodes run a merge, numbered apart (a new user read "Revision 4"
// here and "Config revision 6" on the fleet page, with nothing saying why). An aborted rollout
// and an invalid stored text have notices of their own.
import type { ConfigResponse } from "@masq/shared";

type Shown = Pick<
  ConfigResponse,
  "revision" | "desiredRevision" | "abortedRevision" | "valid" | "merge"
>;

/** The sentence, or null when nodes run the revision shown (or another notice says why not). */
export function nodesRunSentence(c: Shown): string | null {
  const merge = c.merge;
  if (c.abortedRevision !== null || !c.valid || c.desiredRevision === null) return null;
  // The other sources gone: the config alone, numbered on from the merges before.
  if (!merge)
    return c.desiredRevision === c.revision
      ? null
      : `nodes run revision ${c.desiredRevision}: this config, numbered on from earlier merges with other config sources`;
  const others = merge.sources.length - 1;
  const sources = `${others} other config source${others === 1 ? "" : "s"}`;
  if (!merge.pushable)
    return `nodes keep revision ${c.desiredRevision}: the merge with ${sources} is not pushed (see below)`;
  if (c.desiredRevision === c.revision) return null;
  return `nodes run revision ${c.desiredRevision}: this config merged with ${sources}`;
}
