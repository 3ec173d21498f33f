// Where one node stands in a staged rollout, as the fleet table and the node page show it: its
// wave, the revision it enforces because of that wave, and how far it got. The server computes
// it (Argo CD's rule: the server decides, the UI renders) so every browser reads the same.
import type { NodeRolloutPlace, RolloutNodeProgress } from "@masq/shared";
import type { StagedState } from "./staged-state.js";

/** What the place needs of the rollout. */
export type PlaceRollout = Pick<StagedState, "revision" | "failed"> & {
  core: Pick<StagedState["core"], "step" | "aborted">;
};

/**
 * The place of a node in wave `wave` (0 = the canary) of rollout `s`, whose previous (stable)
 * revision is `previousRevision`; `appliedRevision`: what the node last applied (null: none);
 * `rulesJudged`: its rules since are judged here (rollout-done.ts: applied but not judged yet is
 * `awaiting-rules`, pending in its wave's counts).
 * A released node (or, after an abort, every node) enforces the revision it was sent; a node of
 * a wave not yet released keeps the previous one and is `waiting`.
 */
export function placeIn(
  s: PlaceRollout,
  previousRevision: number,
  wave: number,
  name: string,
  appliedRevision: number | null,
  rulesJudged = true,
): NodeRolloutPlace {
  const released = !s.core.aborted && wave <= s.core.step;
  const desiredRevision = released ? s.revision : previousRevision;
  const failure = released ? s.failed[name] : undefined;
  const progress: RolloutNodeProgress =
    failure !== undefined
      ? "failed"
      : !released && !s.core.aborted
        ? "waiting"
        : appliedProgress(appliedRevision === desiredRevision, rulesJudged);
  return {
    revision: s.revision,
    wave,
    waveName: wave === 0 ? "canary" : `wave ${wave}`,
    released,
    aborted: s.core.aborted,
    desiredRevision,
    progress,
    ...(failure !== undefined ? { failure } : {}),
  };
}

/** A node sent its revision: applied once it runs it with its rules judged (rollout-done.ts). */
function appliedProgress(runsIt: boolean, rulesJudged: boolean): RolloutNodeProgress {
  if (!runsIt) return "applying";
  return rulesJudged ? "applied" : "awaiting-rules";
}
