// GET /api/config/sources/:id, POST /api/config/sources/:id/validate,
// PUT /api/config/sources/:id: one config source of the merge (docs/api.md, "Config sources").
// `:id` is sourceId(source), URL-encoded (`configmap%2Fip-masq-app%2Fconfig`). The primary
// source is the store's config (saved as PUT /api/config saves it); the others are saved
// through the source set, with the same optimistic concurrency (a stale revision is a 409).
import {
  type ConfigSource,
  diffConfigs,
  type Issue,
  MAX_RESOURCE_VERSION_CHARS,
  parseSourceId,
  type SourceResponse,
  type SourceSaveResponse,
  sourceId,
  sourceLabel,
} from "@masq/shared";
import { z } from "zod";
import type { Principal } from "../auth/types.js";
import {
  assertNoNewConflicts,
  candidateMerge,
  mergedPreview,
  notPushedBy,
  rollsOutOf,
} from "../config/candidate-merge.js";
import type { ConfigInput } from "../config/config-service.js";
import { HttpError } from "../errors.js";
import type { ExtraSource } from "../store/sources.js";
import { StaleSourceError } from "../store/sources.js";
import { StaleRevisionError } from "../store/types.js";
import {
  candidateFields,
  exactlyOne,
  inputOf,
  message,
  oneOfMessage,
  refuseForFleet,
} from "./config-routes.js";
import type { ApiContext } from "./context.js";
import { impactNodes } from "./impact-nodes.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";

const validateBody = z.strictObject(candidateFields).refine(exactlyOne, oneOfMessage);
const putBody = z
  .strictObject({
    ...candidateFields,
    resourceVersion: z.string().min(1).max(MAX_RESOURCE_VERSION_CHARS),
    message: message.optional(),
  })
  .refine(exactlyOne, oneOfMessage);

interface Found {
  source: ConfigSource;
  primary: boolean;
  extra?: ExtraSource;
}

/** The source an `:id` names, or 404. */
function find(ctx: ApiContext, id: string): Found {
  const sources = ctx.config.sources;
  const source = parseSourceId(id);
  if (!source) throw new HttpError(400, `${JSON.stringify(id)} is not a config source id`);
  if (sources && sourceId(sources.primary) === sourceId(source)) return { source, primary: true };
  const extra = sources?.list().find((e) => sourceId(e.source) === sourceId(source));
  if (!extra) throw new HttpError(404, `${sourceLabel(source)} is not a config source here`);
  return { source, primary: false, extra };
}

function view(ctx: ApiContext, f: Found): SourceResponse {
  const state = ctx.config.current();
  const meta = f.extra ?? { ...state.rev, text: state.rev.text };
  const parsed = f.primary ? state.result : ctx.config.check({ yaml: meta.text });
  return {
    source: f.source,
    id: sourceId(f.source),
    label: sourceLabel(f.source),
    primary: f.primary,
    editable: f.primary || (ctx.config.sources?.editable(f.source) ?? false),
    resourceVersion: meta.resourceVersion,
    author: meta.author,
    updatedAt: meta.updatedAt,
    valid: parsed.ok,
    yaml: meta.text,
    config: parsed.ok ? parsed.config : null,
    errors: parsed.ok ? [] : parsed.errors,
    warnings: parsed.warnings,
    ...problemOf(ctx, f.source),
  };
}

/** The source's own problem, when its set says one (a file that keeps changing). */
function problemOf(ctx: ApiContext, source: ConfigSource): { problem?: string } {
  const problem = ctx.config.sources?.status().sourceProblems?.get(sourceId(source));
  return problem ? { problem } : {};
}

async function validate(ctx: ApiContext, f: Found, input: ConfigInput) {
  const c = ctx.config.check(input);
  const none = {
    merge: null,
    newConflicts: [],
    diff: diffConfigs(null, null),
    impact: { nodes: 0, destinations: [] },
  };
  if (!c.ok) return { ...none, ok: false, errors: c.errors, warnings: c.warnings };
  const m = candidateMerge(ctx.config, f.source, c.text);
  if (!m) return { ...none, ok: true, errors: [], warnings: c.warnings };
  // From what nodes run (after an aborted rollout the stable revision), judged on every node
  // this replica knows, as the save review is (config-routes dryRun).
  const runs = ctx.staged.fleetDesired(ctx.config.current().desired);
  const { judged, notJudged } = impactNodes(ctx, runs?.revision);
  const preview = mergedPreview(runs?.config ?? null, m, judged);
  return {
    ok: true,
    errors: [],
    warnings: c.warnings,
    merge: m.view,
    newConflicts: m.newConflicts,
    diff: preview.diff,
    impact: notJudged ? { ...preview.impact, notJudged } : preview.impact,
  };
}

/** The checks of a save (in the work queue): valid, and no conflict the merge has not now. */
function checkSave(ctx: ApiContext, f: Found, input: ConfigInput) {
  const c = ctx.config.check(input);
  if (!c.ok)
    throw new HttpError(400, `the config is invalid: ${c.errors[0]?.message ?? ""}`, {
      errors: c.errors,
      warnings: c.warnings,
    });
  const merged = candidateMerge(ctx.config, f.source, c.text);
  assertNoNewConflicts(merged);
  // What nodes would get: the merge (the source alone while it is the only one).
  refuseForFleet(ctx, merged?.merge.config ?? c.config);
  return { ...c, notPushed: notPushedBy(merged) };
}

async function save(
  ctx: ApiContext,
  f: Found,
  c: { text: string; warnings: Issue[]; notPushed: string | null },
  body: z.infer<typeof putBody>,
  author: string,
): Promise<SourceSaveResponse> {
  const message = body.message ?? "";
  // Decided as the store's report of the new revision will be (begin → decide), told now; a
  // merge that is held or conflicts reaches no node: why instead.
  const rollsOut = rollsOutOf(ctx.staged.strategyUnannounced(ctx.rolloutStrategy), c.notPushed);
  try {
    if (f.primary) {
      const rev = await ctx.config.store.save({
        text: c.text,
        author,
        message,
        expectedResourceVersion: body.resourceVersion,
      });
      await ctx.config.settled(); // as config-routes' save
      return { resourceVersion: rev.resourceVersion, warnings: c.warnings, ...rollsOut };
    }
    const req = {
      source: f.source,
      text: c.text,
      author,
      message,
      expectedResourceVersion: body.resourceVersion,
    };
    const saved = await ctx.config.sources!.save(req);
    await ctx.config.settled();
    return { resourceVersion: saved.resourceVersion, warnings: c.warnings, ...rollsOut };
  } catch (e) {
    if (e instanceof StaleSourceError || e instanceof StaleRevisionError)
      throw new HttpError(409, "stale resourceVersion", {
        current: view(ctx, find(ctx, sourceId(f.source))),
      });
    throw e;
  }
}

/**
 * An editor (who may update the primary ConfigMap) saves another ConfigMap only when Kubernetes
 * lets that person update it too (SubjectAccessReview), so the dashboard lends nobody rights.
 */
async function assertMayWrite(ctx: ApiContext, f: Found, principal: Principal): Promise<void> {
  if (f.primary || f.source.kind !== "configmap" || !ctx.people.mayUpdateConfigMap) return;
  if (await ctx.people.mayUpdateConfigMap(principal, f.source.name)) return;
  throw new HttpError(
    403,
    `${principal.user} may not update ConfigMap ${f.source.name} (Kubernetes RBAC), so not through the dashboard either`,
  );
}

export function sourceRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/history/sources",
      access: "viewer",
      handler: ({ res }) => sendJson(res, 200, { changes: ctx.config.sourceHistory.list() }),
    }),
    route({
      method: "GET",
      path: "/api/config/sources/:id",
      access: "viewer",
      handler: ({ res, params }) => sendJson(res, 200, view(ctx, find(ctx, params.id!))),
    }),
    route({
      method: "POST",
      path: "/api/config/sources/:id/validate",
      access: "viewer",
      body: validateBody,
      async handler({ res, body, params }) {
        const f = find(ctx, params.id!);
        sendJson(res, 200, await ctx.config.work.run(() => validate(ctx, f, inputOf(body))));
      },
    }),
    route({
      method: "PUT",
      path: "/api/config/sources/:id",
      access: "editor",
      body: putBody,
      async handler({ res, body, params, principal }) {
        const f = find(ctx, params.id!);
        if (!f.primary && !ctx.config.sources?.editable(f.source))
          throw new HttpError(
            403,
            `${sourceLabel(f.source)} is not one the dashboard may edit (chart value configSources.editable)`,
          );
        await assertMayWrite(ctx, f, principal!);
        const c = await ctx.config.work.run(() => checkSave(ctx, f, inputOf(body)));
        sendJson(res, 200, await save(ctx, f, c, body, principal!.user));
      },
    }),
  ];
}
