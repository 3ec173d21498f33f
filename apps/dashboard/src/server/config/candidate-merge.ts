// A candidate text for one source, merged with the current other sources: what the editor's
// preview shows (merged result, diff and impact against what nodes get now) and what a save
// checks (a save may not add a conflict; one that resolves or keeps existing ones may go).
import {
  type ConfigSource,
  diffConfigs,
  type MasqConfig,
  type MergeConflict,
  type MergedConfigView,
  type MergeResult,
  mergeSources,
  type RolloutStrategy,
  sourceId,
} from "@masq/shared";
import { HttpError } from "../errors.js";
import type { ConfigService } from "./config-service.js";
import { impactOf } from "./impact.js";
import { mergedView } from "./merge-view.js";

export interface CandidateMerge {
  merge: MergeResult;
  view: MergedConfigView;
  /** Conflicts the candidate has that the current merge has not. */
  newConflicts: MergeConflict[];
}

/** The merge with `text` in place of `source`; undefined while the primary source is alone. */
export function candidateMerge(
  config: ConfigService,
  source: ConfigSource,
  text: string,
): CandidateMerge | undefined {
  const sources = config.sources;
  const state = config.current();
  if (!sources || !state.merge) return undefined;
  const id = sourceId(source);
  const primary = sourceId(sources.primary) === id;
  const rev = primary ? { ...state.rev, text } : state.rev;
  const extras = state.merge.extras.map((e) => (sourceId(e.source) === id ? { ...e, text } : e));
  const merge = mergeSources(
    [{ source: sources.primary, text: rev.text }, ...extras],
    config.flags,
  );
  const before = new Set(state.merge.result.conflicts.map((c) => c.message));
  return {
    merge,
    // Saving another source keeps the merge held, or holds it after an abort (heldMerge); a save
    // of the primary ends it.
    view: mergedView(merge, rev, extras, sources, primary ? undefined : heldAfter(config, merge)),
    newConflicts: merge.conflicts.filter((c) => !before.has(c.message)),
  };
}

function heldAfter(config: ConfigService, merge: MergeResult): string | undefined {
  return config.current().merge?.held ?? (merge.ok ? config.wouldHold(merge.config) : undefined);
}

/**
 * Refuses (422) a save whose merge would have a conflict the current merge has not (not 409:
 * that is a stale revision, which clients answer by showing the newer one).
 */
export function assertNoNewConflicts(c: CandidateMerge | undefined): void {
  if (!c || c.newConflicts.length === 0) return;
  const first = c.newConflicts[0]?.message ?? "";
  throw new HttpError(422, `saving would make the config sources conflict: ${first}`, {
    conflicts: c.newConflicts,
  });
}

/**
 * Why the merge a save makes reaches no node (held after an abort, or a conflict between the
 * sources: nodes keep the last good merge); null when it goes out (or the primary is alone).
 */
export function notPushedBy(c: CandidateMerge | undefined): string | null {
  if (!c || c.view.pushable) return null;
  if (c.view.held) return c.view.held;
  const [first, ...more] = c.merge.conflicts;
  const rest = more.length > 0 ? ` (and ${more.length} more)` : "";
  return `the config sources conflict: ${first?.message ?? ""}${rest}. Nodes keep the last good merged config until the conflict is resolved.`;
}

/**
 * Diff and impact of a candidate merge against `current`, the config nodes run (after an
 * aborted rollout the stable revision's: StagedRollouts.fleetDesired).
 */
export function mergedPreview(
  current: MasqConfig | null,
  c: CandidateMerge,
  nodes: Parameters<typeof impactOf>[2],
) {
  // A merge with a conflict reaches no node (no impact), but what it would change is shown (the
  // editor's heading says no node gets it): an edit read "No changes" beside the CIDR it added.
  if (!c.merge.ok)
    return { diff: diffConfigs(current, c.merge.config), impact: { nodes: 0, destinations: [] } };
  return {
    diff: diffConfigs(current, c.merge.config),
    impact: impactOf(current, c.merge.config, nodes),
  };
}

/** A save answer's rollout: how it rolls out, or (`rollsOut` null) why it is not pushed. */
export function rollsOutOf(
  strategy: RolloutStrategy,
  notPushed: string | null,
): { rollsOut: RolloutStrategy | null; notPushed?: string } {
  return notPushed ? { rollsOut: null, notPushed } : { rollsOut: strategy };
}
