// A staged rollout's persisted state (zod: it is read back from a file or a ConfigMap that
// anyone may have edited), its per-wave view for the API, and the writer that persists it one
// write at a time, newest state winning.
import {
  fromLegacyRevisionNames,
  MAX_ROLLOUT_WAVES,
  masqConfigSchema,
  nodeNameSchema,
  type RolloutAction,
  type RolloutWaveView,
  rolloutStrategySchema,
  type StagedRolloutView,
  waveBoundsSchema,
} from "@masq/shared";
import type { Logger } from "pino";
import { z } from "zod";
import type { NodeRecord } from "./node.js";
import { MAX_ROLLOUT_NODES } from "./staged-size.js";

/** Names listed per wave and outcome in the view (the counts are always whole). */
export const WAVE_LIST_LIMIT = 50;
/** Actions kept per rollout. */
export const MAX_ROLLOUT_ACTIONS = 100;
export { MAX_ROLLOUT_NODES } from "./staged-size.js";

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

export const stagedStateSchema = z.strictObject({
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
  waves: z
    .array(z.array(nodeNameSchema))
    .min(2)
    .max(MAX_ROLLOUT_WAVES + 1)
    .refine((w) => w.flat().length <= MAX_ROLLOUT_NODES, "too many nodes"),
  core: z.strictObject({
    step: z.number().int().nonnegative(),
    lastStep: z.number().int().nonnegative(),
    phase: z.enum(["progressing", "paused", "healthy", "degraded"]),
    pause: pauseSchema.nullable(),
    aborted: z.boolean(),
  }),
  /**
   * The waves' boundaries in the stable hash order, fixed at the start (rollout-membership.ts):
   * every replica places a node not in the lists (joined late, held by another replica) the
   * same way from these alone. Absent in an older dashboard's state: derived from the lists.
   */
  bounds: waveBoundsSchema.optional(),
  /** Observe-mode nodes split into waves among themselves (their upstream pods are recreated
   * as their wave is released; nothing is sent to them or waited for). */
  observe: z
    .array(z.array(nodeNameSchema))
    .max(MAX_ROLLOUT_WAVES + 1)
    .optional(),
  /** Node → why it failed; cleared by a retry. */
  failed: z.record(nodeNameSchema, z.string().max(2000)),
  actions: z.array(actionSchema).max(MAX_ROLLOUT_ACTIONS),
  startedAt: z.number().int().nonnegative(),
  startedBy: z.string().max(512),
});
export type StagedState = z.infer<typeof stagedStateSchema>;

/** Earlier rollouts kept for History (newest last). */
export const MAX_PAST_ROLLOUTS = 20;
const pastSchema = z.strictObject({
  resourceVersion: z.string().max(256),
  /** The revision saved before this rollout finished, which replaced it. */
  supersededBy: revision.optional(),
  phase: z.enum(["progressing", "paused", "healthy", "degraded"]),
  aborted: z.boolean(),
  actions: z.array(actionSchema).max(MAX_ROLLOUT_ACTIONS),
});
export type PastRollout = z.infer<typeof pastSchema>;

/**
 * What is persisted: the current rollout (null: none) and the record of earlier ones. A state
 * of the previous release (`generation`, a string `revision`) is read in the current names.
 */
export const persistedSchema = z.strictObject({
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
  current: z.preprocess(fromLegacyRevisionNames, stagedStateSchema).nullable(),
  past: z.array(z.preprocess(fromLegacyRevisionNames, pastSchema)).max(MAX_PAST_ROLLOUTS),
});
export type Persisted = z.infer<typeof persistedSchema>;

/** A finished or superseded rollout, as History shows it. */
export function pastOf(s: StagedState): PastRollout {
  return {
    resourceVersion: s.resourceVersion,
    phase: s.core.phase,
    aborted: s.core.aborted,
    actions: s.actions,
  };
}

/** Where a store keeps the rollout state beside its revisions (store/types.ts). */
export interface RolloutPersistence {
  loadRollout(): Promise<unknown | null>;
  saveRollout(state: unknown | null): Promise<void>;
  /** Writes a move request for the owner (where the store is shared by replicas). */
  saveRequest?(request: unknown): Promise<void>;
}

/** One write at a time; a state changed while a write runs is written after it (newest wins). */
export class StateWriter {
  private running: Promise<void> | null = null;
  private next: { state: Persisted } | null = null;
  /** Why the newest write failed; undefined once one succeeds. */
  lastError: string | undefined;

  constructor(
    private readonly target: RolloutPersistence | undefined,
    private readonly log: Logger,
    /** Still the owner? A state queued before the Lease was lost is not written after. */
    private readonly owner: () => boolean = () => true,
  ) {}

  write(state: Persisted): void {
    if (!this.target) return;
    this.next = { state: structuredClone(state) };
    this.running ??= this.drain();
  }

  /** Resolves when every write asked for so far is done (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const { state } = this.next;
      this.next = null;
      // The Lease lost meanwhile: the next owner writes its own (this one may be older).
      if (!this.owner()) continue;
      try {
        await this.target!.saveRollout(state);
        this.lastError = undefined;
      } catch (e) {
        this.lastError = e instanceof Error ? e.message : String(e);
        this.log.warn({ err: e }, "could not persist the rollout state; it is kept in memory");
      }
    }
    this.running = null;
  }
}

export type NodeOutcome = "applied" | "pending" | "failed";

/** Where one node of a released wave stands (a node not yet released is pending). */
export function outcomeOf(s: StagedState, n: NodeRecord | undefined, name: string): NodeOutcome {
  if (s.failed[name] !== undefined) return "failed";
  return n?.appliedRevision === s.revision ? "applied" : "pending";
}

/** Where a released node stands (local records, or another replica's NodeMasquerade). */
export type OutcomeOf = (name: string) => NodeOutcome;

export function waveView(s: StagedState, index: number, outcome: OutcomeOf): RolloutWaveView {
  const names = [...s.waves[index]!].sort();
  const out: RolloutWaveView = {
    index,
    name: index === 0 ? "canary" : `wave ${index}`,
    released: !s.core.aborted && index <= s.core.step,
    total: names.length,
    applied: 0,
    pending: 0,
    failed: 0,
    appliedNodes: [],
    pendingNodes: [],
    failedNodes: [],
  };
  for (const name of names) {
    const o = out.released ? outcome(name) : "pending";
    out[o]++;
    if (o === "failed") push(out.failedNodes, { name, reason: s.failed[name]! });
    else push(o === "applied" ? out.appliedNodes : out.pendingNodes, name);
  }
  return out;
}

/** Lists in views are bounded; their counts are not. */
function push<T>(list: T[], item: T): void {
  if (list.length < WAVE_LIST_LIMIT) list.push(item);
}

/** The sentence the UI shows above the waves. */
export function messageOf(s: StagedState): string {
  const { core } = s;
  const wave = core.step === 0 ? "the canary" : `wave ${core.step}`;
  if (core.aborted)
    return `aborted: every node returns to revision ${s.previous?.revision ?? "(none)"}`;
  if (core.phase === "healthy") return "every wave applied the revision";
  if (core.pause?.kind === "failure") return `paused: ${core.pause.reason}`;
  // An empty wave (no node matched the selector, or fewer nodes than waves) applied nothing.
  const done = s.waves[core.step]?.length === 0 ? `${wave} has no nodes` : `${wave} applied`;
  if (core.pause?.kind === "manual") return `${done}; paused until promoted`;
  if (core.pause?.kind === "duration")
    return `${done}; the next wave starts at ${new Date(core.pause.until).toISOString()}`;
  return `${wave} is applying the revision`;
}

export function stagedView(s: StagedState, outcome: OutcomeOf): StagedRolloutView {
  if (s.strategy.kind !== "waves") throw new Error("a staged rollout has waves");
  return {
    resourceVersion: s.resourceVersion,
    revision: s.revision,
    previousResourceVersion: s.previous?.resourceVersion ?? null,
    previousRevision: s.previous?.revision ?? null,
    strategy: s.strategy,
    phase: s.core.phase,
    step: s.core.step,
    pause: s.core.pause,
    aborted: s.core.aborted,
    message: messageOf(s),
    waves: s.waves.map((_, i) => waveView(s, i, outcome)),
    actions: s.actions,
    startedAt: s.startedAt,
    startedBy: s.startedBy,
  };
}

export function addAction(
  s: StagedState,
  action: RolloutAction["action"],
  user: string,
  detail: string,
  now: number,
): void {
  s.actions.push({ action, user, time: new Date(now).toISOString(), detail });
  if (s.actions.length > MAX_ROLLOUT_ACTIONS) s.actions.splice(0, 1);
}
