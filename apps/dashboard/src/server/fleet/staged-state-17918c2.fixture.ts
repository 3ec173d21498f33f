// Test fixture: the rollout state schema of the previous release (commit 17918c2), copied
// unchanged but for its exports, as the protocol tests keep old peers' shapes. A state this
// release writes must parse with it, so `helm rollback` mid-rollout resumes the rollout
// (staged-compat.ts). Do not update it to the current schema.
import {
  boundsOf,
  fromLegacyRevisionNames,
  MAX_LEGACY_CANARY_NAMES,
  MAX_ROLLOUT_WAVES,
  masqConfigSchema,
  nodeNameSchema,
  rolloutStrategySchema,
  type WavesStrategy,
  waveBoundsSchema,
} from "@masq/shared";
import { z } from "zod";
import { MAX_ROLLOUT_NODES } from "./staged-size.js";

const MAX_ROLLOUT_ACTIONS = 100;
const revision = z.number().int().nonnegative();
const pauseSchema = z.union([
  z.strictObject({ kind: z.literal("manual") }),
  z.strictObject({ kind: z.literal("duration"), until: z.number().int().nonnegative() }),
  z.strictObject({ kind: z.literal("failure"), reason: z.string().max(2000) }),
]);
const actionSchema = z.strictObject({
  action: z.enum(["start", "promote", "retry", "abort", "pause", "resume", "finish"]),
  user: z.string().max(512),
  time: z.string().max(64),
  detail: z.string().max(2000),
});

const count = z.number().int().nonnegative();
/** Nodes per wave [canary, wave 1, …] (boundaries and lists alike). */
const sizesSchema = z.array(count).max(MAX_ROLLOUT_WAVES + 1);

/**
 * A staged rollout as persisted (rollout.json): no list of the fleet's nodes, so its size does
 * not grow with the fleet (a few KB at 100,000 nodes beside its configs and actions; staged-size.ts).
 * Every replica places a node from `bounds` (rollout-membership.ts); `sizes` says how many nodes
 * each wave held, so an owner taking over waits for those it has not seen yet.
 */
const stagedRecordSchema = z
  .strictObject({
    version: z.literal(1),
    resourceVersion: z.string().max(256),
    revision,
    previous: z
      .preprocess(
        fromLegacyRevisionNames,
        z.strictObject({ resourceVersion: z.string().max(256), revision }),
      )
      .nullable(),
    /**
     * The configs of the revision rolling out and of the previous one: a merged config (several
     * sources) is numbered anew by a restarted dashboard and is in no history, so a rollout is
     * found again by what it rolls out, and its previous config is kept here.
     */
    config: masqConfigSchema.optional(),
    previousConfig: masqConfigSchema.optional(),
    strategy: rolloutStrategySchema,
    core: z.strictObject({
      step: z.number().int().nonnegative(),
      lastStep: z.number().int().nonnegative(),
      phase: z.enum(["progressing", "paused", "healthy", "degraded"]),
      pause: pauseSchema.nullable(),
      aborted: z.boolean(),
    }),
    /** The enforce-mode waves' boundaries in the stable hash order, fixed at the start. */
    bounds: waveBoundsSchema,
    sizes: sizesSchema.optional(),
    /** Observe-mode nodes' waves, cut among themselves (their upstream pods are recreated as
     * their wave is released; nothing is sent to them or waited for). */
    observeBounds: waveBoundsSchema.optional(),
    /**
     * Node → why it failed (at most MAX_PERSISTED_FAILED written; an older state's more are
     * read); cleared by a retry. `failedMore`: failed nodes not listed.
     */
    failed: z
      .record(nodeNameSchema, z.string().max(2000))
      .refine((f) => Object.keys(f).length <= MAX_ROLLOUT_NODES, "too many failed nodes"),
    failedMore: count.optional(),
    actions: z.array(actionSchema).max(MAX_ROLLOUT_ACTIONS),
    startedAt: z.number().int().nonnegative(),
    startedBy: z.string().max(512),
  })
  .superRefine(consistentWaves);
/**
 * A state whose parts disagree on how many waves there are (a hand edit: boundaries for fewer
 * waves than the core steps through, a step past the last wave) is no state: run, it would
 * place nodes in waves that do not exist (break6: a TypeError at the next promote).
 */
function consistentWaves(
  r: {
    core: { step: number; lastStep: number };
    bounds: { last: unknown[] };
    sizes?: unknown[];
    observeBounds?: { last: unknown[] };
  },
  ctx: z.RefinementCtx,
): void {
  const waves = r.bounds.last.length;
  const problem =
    r.core.lastStep !== waves - 1
      ? `bounds.last has ${waves} waves, core.lastStep says ${r.core.lastStep + 1}`
      : r.core.step > r.core.lastStep
        ? `core.step ${r.core.step} is past core.lastStep ${r.core.lastStep}`
        : r.sizes && r.sizes.length !== waves
          ? `sizes has ${r.sizes.length} waves, bounds.last ${waves}`
          : r.observeBounds && r.observeBounds.last.length !== waves
            ? `observeBounds.last has ${r.observeBounds.last.length} waves, bounds.last ${waves}`
            : null;
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}

/**
 * An older dashboard's state listing every node of its waves: the lists give the boundaries
 * (rollout-membership.ts) and the sizes, then go (the rollout goes on from those).
 */
function fromWaveLists(value: unknown): unknown {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== "object" || !Array.isArray(v.waves)) return value;
  const strategy = rolloutStrategySchema.safeParse(v.strategy);
  const lists = z.array(z.array(nodeNameSchema)).max(MAX_ROLLOUT_WAVES + 1);
  const waves = lists.safeParse(v.waves);
  const observe = lists.optional().safeParse(v.observe);
  if (!strategy.success || strategy.data.kind !== "waves" || !waves.success || !observe.success)
    return value;
  const named = waves.data.flat().length + (observe.data?.flat().length ?? 0);
  if (named > MAX_ROLLOUT_NODES) return value; // refused by the schema (waves is not a key)
  const { waves: _, observe: __, ...rest } = v;
  const of = (w: string[][]) =>
    boundsOf(w, strategy.data as WavesStrategy, MAX_LEGACY_CANARY_NAMES);
  try {
    return {
      ...rest,
      bounds: rest.bounds ?? of(waves.data),
      sizes: waves.data.map((w) => w.length),
      ...(observe.data ? { observeBounds: of(observe.data) } : {}),
    };
  } catch {
    return value;
  }
}

/** Earlier rollouts kept for History (newest last). */
const MAX_PAST_ROLLOUTS = 20;
const pastSchema = z.strictObject({
  resourceVersion: z.string().max(256),
  /** The revision saved before this rollout finished, which replaced it. */
  supersededBy: revision.optional(),
  phase: z.enum(["progressing", "paused", "healthy", "degraded"]),
  aborted: z.boolean(),
  actions: z.array(actionSchema).max(MAX_ROLLOUT_ACTIONS),
});

/**
 * What is persisted: the current rollout (null: none) and the record of earlier ones. A state
 * of the previous release (`generation`, a string `revision`) is read in the current names.
 */
export const previousPersistedSchema = z.strictObject({
  version: z.literal(2),
  /**
   * The newest revision the owner (the singleton Lease holder) has begun, staged or not: a
   * replica holding its nodes for a staged revision learns the owner rolled it out at once.
   */
  begun: revision.optional(),
  /** The id of the last move request (staged-request.ts) the owner performed. */
  performed: z.string().max(64).optional(),
  /** Ids of requests performed before `performed` (oldest first): one written back is not again. */
  performedBefore: z.array(z.string().max(64)).max(64).optional(),
  current: z
    .preprocess((v) => fromWaveLists(fromLegacyRevisionNames(v)), stagedRecordSchema)
    .nullable(),
  past: z.array(z.preprocess(fromLegacyRevisionNames, pastSchema)).max(MAX_PAST_ROLLOUTS),
});
