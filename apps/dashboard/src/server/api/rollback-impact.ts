// What a rollback changes on the nodes, computed here as the save review computes it (the UI
// only renders it): from the config nodes run — after an aborted rollout the stable revision,
// with several config sources the merge — to what they would get, the target's stored text
// merged with today's other sources. Comparing stored texts instead told a wrong story with
// merged sources (the texts are not what nodes run).
import {
  compareConfigs,
  type MasqConfig,
  type RevisionRef,
  type RollbackImpactResponse,
} from "@masq/shared";
import type { CandidateMerge } from "../config/candidate-merge.js";
import { fleetIssue } from "../config/fleet-guard.js";
import { impactOf } from "../config/impact.js";
import type { Desired } from "../config/merged-desired.js";
import { yieldToEventLoop } from "../config/work-queue.js";
import type { ConfigRevision } from "../store/types.js";
import { modeNodes, primaryMerge } from "./config-routes.js";
import type { ApiContext } from "./context.js";
import { impactNodes } from "./impact-nodes.js";

export function refOf(r: ConfigRevision): RevisionRef {
  return {
    resourceVersion: r.resourceVersion,
    revision: r.revision,
    author: r.author,
    time: r.updatedAt,
    message: r.message,
  };
}

/** The impact of rolling back to `target` (a stored revision), for the rollback dialog. */
export async function rollbackImpact(
  ctx: ApiContext,
  target: ConfigRevision,
): Promise<RollbackImpactResponse> {
  const to = refOf(target);
  const parsed = ctx.config.revisions.get(target);
  if (!parsed.ok)
    return { known: false, to, reason: `revision ${target.revision} is not a valid config` };
  const current = ctx.config.current().desired;
  const runs = ctx.staged.fleetDesired(current);
  if (!runs) return { known: false, to, reason: "no valid config has been sent to nodes yet" };
  const merged = primaryMerge(ctx, target.text);
  if (merged && !merged.merge.ok)
    return { known: false, to, reason: conflictReason(target.revision, merged) };
  const after = merged ? merged.merge.config : (parsed.config as MasqConfig);
  const { keys, diff } = compareConfigs(runs.config, after);
  await yieldToEventLoop();
  const { judged, notJudged } = impactNodes(ctx, runs.revision);
  const impact = impactOf(runs.config, after, judged);
  const refusal = refusalOf(ctx, parsed.config as MasqConfig, merged);
  return {
    known: true,
    to,
    from: { revision: runs.revision, resourceVersion: runs.resourceVersion },
    notes: notesOf(ctx, current, runs, target.revision, merged !== undefined),
    merged: merged !== undefined,
    keys,
    diff,
    impact: notJudged ? { ...impact, notJudged } : impact,
    ...(refusal ? { refusal } : {}),
  };
}

/**
 * A conflicting merge never reaches a node; one with a conflict the current merge has not is
 * refused outright (POST …/rollback, assertNoNewConflicts).
 */
function conflictReason(revision: number, merged: CandidateMerge): string {
  const first = merged.merge.conflicts[0]?.message ?? "the sources conflict";
  const then =
    merged.newConflicts.length > 0
      ? "the rollback would be refused"
      : "no node would get it until that is resolved";
  return `revision ${revision}'s config, merged with the other config sources as they are now, conflicts (${first}): ${then}`;
}

/** Why the rollback itself would be refused (POST …/rollback checks the same), if it would. */
function refusalOf(
  ctx: ApiContext,
  config: MasqConfig,
  merged: CandidateMerge | undefined,
): string | undefined {
  const issue = fleetIssue(config, modeNodes(ctx));
  if (issue) return issue.message;
  const conflict = merged?.newConflicts[0];
  return conflict
    ? `rolling back would make the config sources conflict: ${conflict.message}`
    : undefined;
}

function notesOf(
  ctx: ApiContext,
  current: Desired | null,
  runs: Desired,
  target: number,
  merged: boolean,
): string[] {
  const notes: string[] = [];
  if (current && runs.revision !== current.revision)
    notes.push(
      `The rollout of revision ${current.revision} was aborted: nodes run revision ${runs.revision}, so the change is from revision ${runs.revision}.`,
    );
  const v = ctx.staged.view();
  if (v && current && v.revision === current.revision && !v.aborted && v.phase !== "healthy")
    notes.push(
      `Revision ${v.revision} is still rolling out: nodes it has not reached run revision ${v.previousRevision ?? "before it"}. The change shown is from revision ${v.revision}, which every node gets unless the rollout is aborted.`,
    );
  if (merged)
    notes.push(
      `Nodes would get revision ${target}'s ip-masq-agent config merged with the other config sources as they are now: this compares what nodes run with that merge, not the stored texts.`,
    );
  return notes;
}
