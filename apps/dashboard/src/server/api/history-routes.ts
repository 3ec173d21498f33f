// GET /api/history/compare?from=&to= : any two stored revisions side by side — every key
// old → new, CIDRs added and removed, and the traffic impact on today's nodes, computed as the
// save review computes it (config/impact.ts).
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
          const { keys, diff } = compareConfigs(from.config, to.config);
          await yieldToEventLoop();
          const { judged, notJudged } = impactNodes(ctx);
          const impact = impactOf(from.config, to.config, judged);
          return {
            from: refOf(from.rev),
            to: refOf(to.rev),
            keys,
            diff,
            impact: notJudged ? { ...impact, notJudged } : impact,
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
