// GET/PUT /api/config, POST /api/config/validate, GET /api/history,
// POST /api/history/:resourceVersion/rollback.
import {
  diffConfigs,
  type Issue,
  MAX_HTTP_BODY_BYTES,
  MAX_RESOURCE_VERSION_CHARS,
  type MasqConfig,
  type MergedConfigView,
  masqConfigSchema,
  type RolloutStrategy,
  rolloutStrategySchema,
} from "@masq/shared";
import { z } from "zod";
import {
  assertNoNewConflicts,
  candidateMerge,
  notPushedBy,
  rollsOutOf,
} from "../config/candidate-merge.js";
import type { Candidate, ConfigInput } from "../config/config-service.js";
import { fleetIssue, type ModeNode } from "../config/fleet-guard.js";
import { historyEntries } from "../config/history.js";
import { impactOf } from "../config/impact.js";
import { currentMergedView, observeWarning } from "../config/merge-view.js";
import { yieldToEventLoop } from "../config/work-queue.js";
import { HttpError } from "../errors.js";
import { saveRefused } from "../fleet/staged-scope.js";
import { canaryRefusal } from "../fleet/staged-size.js";
import { fleetNodes } from "../replicas/fleet-view.js";
import { StaleRevisionError } from "../store/types.js";
import type { ApiContext } from "./context.js";
import { impactNodes } from "./impact-nodes.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";
import { configView } from "./views.js";

const resourceVersion = z.string().min(1).max(MAX_RESOURCE_VERSION_CHARS);
/**
 * Free text a store keeps, of at most `max` UTF-16 units and well-formed: a lone surrogate
 * (`"\ud800"` in JSON) is held in memory as sent but written to disk as U+FFFD, so the text
 * read back after a restart was not the one saved.
 */
export const storedText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => (s as string & { isWellFormed(): boolean }).isWellFormed(), {
      message: "not well-formed Unicode (a lone surrogate): it cannot be stored as sent",
    });
/** A save's message (history, rollback). */
export const message = storedText(1000);
export const candidateFields = {
  yaml: storedText(MAX_HTTP_BODY_BYTES).optional(),
  config: masqConfigSchema.optional(),
};
export const exactlyOne = (b: { yaml?: string; config?: unknown }) =>
  (b.yaml === undefined) !== (b.config === undefined);
export const oneOfMessage = { message: 'send exactly one of "yaml" or "config"' };

const strategy = rolloutStrategySchema.optional();
const putBody = z
  .strictObject({ ...candidateFields, resourceVersion, message: message.optional(), strategy })
  .refine(exactlyOne, oneOfMessage);
const validateBody = z.strictObject(candidateFields).refine(exactlyOne, oneOfMessage);
const rollbackBody = z.strictObject({ resourceVersion, message: message.optional(), strategy });

export function inputOf(b: { yaml?: string; config?: MasqConfig }): ConfigInput {
  return b.yaml !== undefined ? { yaml: b.yaml } : { config: b.config! };
}

function invalid(c: Extract<Candidate, { ok: false }>): HttpError {
  const first = c.errors[0]?.message ?? "invalid config";
  return new HttpError(400, `the config is invalid: ${first}`, {
    errors: c.errors,
    warnings: c.warnings,
  });
}

/**
 * Announces how the save about to be made rolls out (found again by its text when the store
 * reports the new revision). A canary selector needs the nodes' labels, read now.
 */
async function announce(ctx: ApiContext, text: string, s: RolloutStrategy | undefined) {
  refuseStaged(ctx, s, text);
  if (!s) return;
  if (s.kind === "waves" && "selector" in s.canary) {
    if (!ctx.nodeLabels)
      throw new HttpError(
        400,
        "a canary label selector needs the nodes' labels, which only the Kubernetes store reads; pick the canary by count or percentage",
      );
    // Every known node's labels: those other replicas hold are cut into waves too.
    const names = modeNodes(ctx).map((n) => n.name);
    const labels = await ctx.nodeLabels(names);
    const many = canaryRefusal(s.canary.selector, labels);
    if (many) throw new HttpError(422, saveRefused(many, "pick the canary by count or percentage"));
    ctx.staged.intend(text, s, labels);
  } else ctx.staged.intend(text, s);
}

/**
 * Waves asked for (or the default strategy's, when the save names none) while a staged rollout
 * cannot run correctly (other replicas push to their own nodes): 422, before anything is saved.
 */
function refuseStaged(ctx: ApiContext, s: RolloutStrategy | undefined, text?: string): void {
  if ((s ?? ctx.rolloutStrategy).kind !== "waves") return;
  const replicas = ctx.staged.refusal();
  // Configs too large for the state: one replica could not persist it either.
  const reason = replicas ?? ctx.staged.sizeRefusal(text);
  if (!reason) return;
  const by = s
    ? ""
    : ' (this save names no strategy, and the default one has waves: send "strategy": {"kind": "all-at-once"})';
  const instead = replicas ? undefined : "roll out all at once";
  throw new HttpError(422, `${saveRefused(reason, instead)}${by}`, { stagedRefusal: reason });
}

/**
 * Every known node's mode and OS: with every replica active, the nodes other replicas hold too
 * (their NodeMasquerade; a Windows reporter's backend is "cni"), or a save on one replica would
 * pass a config that nodes held by another cannot take.
 */
export function modeNodes(ctx: ApiContext): ModeNode[] {
  const view = ctx.replicas?.sources();
  const all = view ? [...fleetNodes(view)] : [...ctx.fleet.nodes.values()];
  return all.map((n) =>
    "hello" in n
      ? { name: n.name, mode: n.hello.mode, os: n.hello.os }
      : {
          name: n.name,
          mode: n.mode,
          os: n.os === "windows" || n.backend === "cni" ? "windows" : "linux",
        },
  );
}

/**
 * A candidate the fleet cannot take (422): masqueradeCIDRs while nodes are in observe mode, or
 * an equivalent Windows list past the bound while Windows nodes are known.
 */
export function refuseForFleet(ctx: ApiContext, config: MasqConfig): void {
  const issue = fleetIssue(config, modeNodes(ctx));
  if (issue) throw new HttpError(422, issue.message, { errors: [issue], warnings: [] });
}

/**
 * Saves a checked candidate; a stale base revision is a 409 carrying the current one.
 * `notPushed`: why the merge it makes reaches no node (the sources conflict), told instead of
 * a rollout.
 */
async function save(
  ctx: ApiContext,
  text: string,
  warnings: Issue[],
  base: string,
  author: string,
  msg: string,
  { notPushed, strategy }: { notPushed: string | null; strategy?: RolloutStrategy | undefined },
) {
  await announce(ctx, text, strategy);
  // Decided as the store's report of the new revision will be (begin → decide), told now.
  const rollsOut = strategy ?? ctx.staged.strategyUnannounced(ctx.rolloutStrategy);
  try {
    const rev = await ctx.config.store.save({
      text,
      author,
      message: msg,
      expectedResourceVersion: base,
      ...(strategy ? { strategy } : {}),
    });
    // Answered once the state has it (its merge's number reserved), as a GET after it reads.
    await ctx.config.settled();
    const { resourceVersion, revision } = rev;
    return { resourceVersion, revision, warnings, ...rollsOutOf(rollsOut, notPushed) };
  } catch (e) {
    if (!(e instanceof StaleRevisionError)) throw e;
    const cur = e.current;
    const parsed = ctx.config.revisions.get(cur);
    throw new HttpError(409, "stale resourceVersion", {
      current: {
        resourceVersion: cur.resourceVersion,
        revision: cur.revision,
        yaml: cur.text,
        config: parsed.ok ? parsed.config : null,
        author: cur.author,
        updatedAt: cur.updatedAt,
      },
    });
  }
}

/** The merge view with what nodes in observe mode make of it. */
function withObserveWarning(ctx: ApiContext, view: MergedConfigView | null) {
  if (!view) return null;
  const observe = modeNodes(ctx).filter((n) => n.mode === "observe").length;
  return { ...view, observeWarning: observeWarning(view, observe) };
}

/** The merge with `text` as the primary source (undefined while it is alone). */
export function primaryMerge(ctx: ApiContext, text: string) {
  const primary = ctx.config.sources?.primary;
  return primary ? candidateMerge(ctx.config, primary, text) : undefined;
}

/**
 * Refuses (422) a save whose merge adds a conflict; why the merge it makes reaches no node (the
 * sources still conflict), null when it goes out.
 */
function checkMerge(ctx: ApiContext, text: string): string | null {
  const merged = primaryMerge(ctx, text);
  assertNoNewConflicts(merged);
  return notPushedBy(merged);
}

/** The validate dry run, in phases with the event loop let through between them. */
async function dryRun(ctx: ApiContext, input: ConfigInput) {
  const c = ctx.config.check(input);
  if (!c.ok)
    return {
      ok: false,
      errors: c.errors,
      warnings: c.warnings,
      diff: diffConfigs(null, null),
      impact: { nodes: 0, destinations: [] },
    };
  await yieldToEventLoop();
  const refused = fleetIssue(c.config, modeNodes(ctx));
  // What nodes run: after an aborted rollout the stable revision, not the stored one.
  const fleetDesired = ctx.staged.fleetDesired(ctx.config.current().desired);
  const current = fleetDesired?.config ?? null;
  // With several sources nodes get the merge: compare it, with this text as the primary source.
  const merged = primaryMerge(ctx, c.text);
  // A merge with a conflict reaches no node: they keep what they run (no change, no impact).
  const after = merged ? (merged.merge.ok ? merged.merge.config : current) : c.config;
  const diff = diffConfigs(current, after);
  await yieldToEventLoop();
  const { judged, notJudged } = impactNodes(ctx, fleetDesired?.revision);
  return {
    ok: refused === undefined,
    errors: refused ? [refused] : [],
    warnings: c.warnings,
    config: c.config,
    diff,
    impact: {
      ...(after ? impactOf(current, after, judged) : { nodes: 0, destinations: [] }),
      ...(notJudged ? { notJudged } : {}),
    },
    ...(merged ? { merge: merged.view, newConflicts: merged.newConflicts } : {}),
  };
}

/** The history entry with this resourceVersion; 404 when the history has none. */
async function historyEntry(ctx: ApiContext, resourceVersion: string) {
  const target = (await ctx.config.store.history()).find(
    (r) => r.resourceVersion === resourceVersion,
  );
  if (target) return target;
  throw new HttpError(404, `no revision with resourceVersion ${resourceVersion} in the history`);
}

export function configRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/config",
      access: "viewer",
      handler: ({ res }) =>
        sendJson(res, 200, {
          ...configView(ctx.config.current(), ctx.staged),
          flags: ctx.config.flags,
          merge: withObserveWarning(ctx, currentMergedView(ctx.config)),

          rolloutStrategy: ctx.rolloutStrategy,
          stagedRefusal: ctx.staged.startRefusal(),
        }),
    }),
    route({
      method: "PUT",
      path: "/api/config",
      access: "editor",
      body: putBody,
      async handler({ res, body, principal }) {
        const c = await ctx.config.work.run(() => ctx.config.check(inputOf(body)));
        if (!c.ok) throw invalid(c);
        refuseForFleet(ctx, c.config);
        const notPushed = checkMerge(ctx, c.text);
        sendJson(
          res,
          200,
          await save(
            ctx,
            c.text,
            c.warnings,
            body.resourceVersion,
            principal!.user,
            body.message ?? "",
            { notPushed, strategy: body.strategy },
          ),
        );
      },
    }),
    route({
      method: "POST",
      path: "/api/config/validate",
      access: "viewer",
      body: validateBody,
      async handler({ res, body }) {
        sendJson(res, 200, await ctx.config.work.run(() => dryRun(ctx, inputOf(body))));
      },
    }),
    route({
      method: "GET",
      path: "/api/history",
      access: "viewer",
      async handler({ res, url }) {
        const limit = Math.min(
          Math.max(Number(url.searchParams.get("limit") ?? "100") || 100, 1),
          1000,
        );
        const all = await ctx.config.store.history();
        const revisions = await historyEntries(ctx.config.revisions, all, limit);
        // Who promoted, paused or aborted each staged rollout, on the stored revision it (or
        // the merge it rolled out) was made from: newest first, `rollout` the newest.
        const withRollout = revisions.map((r) => {
          const rollouts = ctx.staged.recordsFrom(r.resourceVersion);
          return rollouts[0] ? { ...r, rollout: rollouts[0], rollouts } : r;
        });
        sendJson(res, 200, { revisions: withRollout });
      },
    }),
    route({
      method: "POST",
      path: "/api/history/:resourceVersion/rollback",
      access: "editor",
      body: rollbackBody,
      async handler({ res, body, params, principal }) {
        const target = await historyEntry(ctx, params.resourceVersion ?? "");
        const c = await ctx.config.work.run(() => ctx.config.check({ yaml: target.text }));
        if (!c.ok) throw invalid(c);
        refuseForFleet(ctx, c.config);
        const notPushed = checkMerge(ctx, c.text);
        const msg = body.message ?? `rollback to revision ${target.revision}`;
        const base = body.resourceVersion;
        const user = principal!.user;
        const how = { notPushed, strategy: body.strategy };
        sendJson(res, 200, await save(ctx, c.text, c.warnings, base, user, msg, how));
      },
    }),
  ];
}
