// GET /api/history/compare?from=&to= : any two stored revisions side by side — every key
// old → new, CIDRs added and removed, and the traffic impact on today's nodes, computed as the
// save review computes it (config/impact.ts); with several config sources, of the merges.
// GET /api/history/:resourceVersion/rollback-impact : the rollback dialog's comparison, from what
// nodes run to what the rollback would send them (rollback-impact.ts).
import {
  compareConfigs,
  MAX_RESOURCE_VERSION_CHARS,
  type MasqConfig,
  type RevisionCompareResponse,
} from "@masq/shared";
import { z } from "zod";
import { impactOf } from "../config/impact.js";
import { yieldToEventLoop } from "../config/work-queue.js";
import { HttpError } from "../errors.js";
import type { ConfigRevision } from "../store/types.js";
import { primaryMerge } from "./config-routes.js";
import type { ApiContext } from "./context.js";
import { impactNodes } from "./impact-nodes.js";
import { sendJson } from "./respond.js";
import { refOf, rollbackImpact } from "./rollback-impact.js";
import { type Route, route } from "./router.js";

const revisionParam = z.string().min(1).max(MAX_RESOURCE_VERSION_CHARS);

/** A stored revision's config; 404 when not in the history, 409 when it does not parse. */
function configOf(ctx: ApiContext, all: readonly ConfigRevision[], resourceVersion: string) {
  const rev = all.find((r) => r.resourceVersion === resourceVersion);
  if (!rev)
    throw new HttpError(404, `no revision with resourceVersion ${resourceVersion} in the history`);
  const parsed = ctx.config.revisions.get(rev);
  if (!parsed.ok)
    throw new HttpError(
      409,
      `the revision with resourceVersion ${resourceVersion} is not a valid config: nothing to compare`,
    );
  return { rev, config: parsed.config as MasqConfig };
}

type Side = ReturnType<typeof configOf>;

/**
 * The two configs as nodes would run them: with several config sources each text merged with
 * today's other sources (a CIDR another source lists is in both, not "removed"); the stored
 * texts when a merge conflicts (no node would run it), said in a note.
 */
function asNodesRun(ctx: ApiContext, from: Side, to: Side) {
  const a = primaryMerge(ctx, from.rev.text);
  const b = primaryMerge(ctx, to.rev.text);
  if (!a || !b) return { from: from.config, to: to.config, merged: {} };
  if (a.merge.ok && b.merge.ok) {
    const note = `Nodes run the ip-masq-agent config merged with the other config sources: both sides are the revisions' texts merged with those sources as they are now.`;
    return {
      from: a.merge.config,
      to: b.merge.config,
      merged: { merged: true, notes: [note] },
    };
  }
  const which = [a.merge.ok ? null : from.rev.revision, b.merge.ok ? null : to.rev.revision]
    .filter((r) => r !== null)
    .join(" and ");
  const note = `Merged with the other config sources as they are now, revision ${which} conflicts, so no node would run it: the stored texts are compared, without the other sources.`;
  return { from: from.config, to: to.config, merged: { merged: false, notes: [note] } };
}

function param(url: URL, name: string): string {
  const r = revisionParam.safeParse(url.searchParams.get(name) ?? "");
  if (!r.success) throw new HttpError(400, `query parameter "${name}" must name a resourceVersion`);
  return r.data;
}

export function historyRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/history/compare",
      access: "viewer",
      async handler({ res, url }) {
        const [fromName, toName] = [param(url, "from"), param(url, "to")];
        const body = await ctx.config.work.run(async () => {
          const all = await ctx.config.store.history();
          const from = configOf(ctx, all, fromName);
          const to = configOf(ctx, all, toName);
          const sides = asNodesRun(ctx, from, to);
          const { keys, diff } = compareConfigs(sides.from, sides.to);
          await yieldToEventLoop();
          const { judged, notJudged } = impactNodes(ctx);
          const impact = impactOf(sides.from, sides.to, judged);
          return {
            from: refOf(from.rev),
            to: refOf(to.rev),
            keys,
            diff,
            impact: notJudged ? { ...impact, notJudged } : impact,
            ...sides.merged,
          } satisfies RevisionCompareResponse;
        });
        sendJson(res, 200, body);
      },
    }),
    route({
      method: "GET",
      path: "/api/history/:resourceVersion/rollback-impact",
      access: "viewer",
      async handler({ res, params }) {
        const name = revisionParam.safeParse(params.resourceVersion ?? "");
        if (!name.success) throw new HttpError(400, "the path must name a resourceVersion");
        const body = await ctx.config.work.run(async () => {
          const all = await ctx.config.store.history();
          const target = all.find((r) => r.resourceVersion === name.data);
          if (!target)
            throw new HttpError(
              404,
              `no revision with resourceVersion ${name.data} in the history`,
            );
          return rollbackImpact(ctx, target);
        });
        sendJson(res, 200, body);
      },
    }),
  ];
}
