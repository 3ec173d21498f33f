// A staged rollout's persisted state (zod: it is read back from a file or a ConfigMap that
// anyone may have edited), its per-wave view for the API, and the writer that persists it one
// write at a time, newest state winning.
import {
  boundsOf,
  fromLegacyRevisionNames,
  MAX_LEGACY_CANARY_NAMES,
  MAX_ROLLOUT_WAVES,
  masqConfigSchema,
  nodeNameSchema,
  type RolloutAction,
  type RolloutOutcome,
  type RolloutWaveView,
  rolloutStrategySchema,
  type StagedRolloutView,
  type WavesStrategy,
  waveBoundsSchema,
} from "@masq/shared";
import type { Logger } from "pino";
import { z } from "zod";
import type { NodeRecord } from "./node.js";
import { localOutcome } from "./rollout-done.js";
import { MAX_ROLLOUT_NODES } from "./staged-size.js";
import { setDigest } from "./wave-digest.js";

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

/** Failed nodes the persisted state lists with their reason (the rest are counted). */
export const MAX_PERSISTED_FAILED = 100;
/** Characters of a failed node's reason kept in the persisted state. */
export const MAX_PERSISTED_REASON = 500;
const count = z.number().int().nonnegative();
/** Nodes per wave [canary, wave 1, …] (boundaries and lists alike). */
const sizesSchema = z.array(count).max(MAX_ROLLOUT_WAVES + 1);

/** Per wave [canary, wave 1, …], a 48-bit digest of its members' names (wave-digest.ts). */
export const digestsSchema = z
  .array(
    z
      .number()
      .int()
      .nonnegative()
      .max(2 ** 48 - 1),
  )
  .max(MAX_ROLLOUT_WAVES + 1);

/**
 * A staged rollout as persisted (rollout.json): no list of the fleet's nodes, so its size does
 * not grow with the fleet (a few KB at 100,000 nodes beside its configs and actions; staged-size.ts).
 * Every replica places a node from `bounds` (rollout-membership.ts); `sizes` says how many nodes
 * each wave held, so an owner taking over waits for those it has not seen yet.
 */
export const stagedRecordSchema = z
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
    /**
     * Per wave, a digest of the names `sizes` counts (wave-digest.ts): an owner reading the
     * state tells the nodes counted from as many others (absent in older states: by number).
     */
    digests: digestsSchema.optional(),
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
  .superRefine(consistentWaves)
  // Digests that do not match the sizes (a hand edit) are dropped, not the whole state: its waves
  // are counted by number, as a state written before digests (break7: refused whole, the rollout
  // was not resumed and every node got the revision at once).
  .transform((r) => {
    if (r.digests === undefined || r.sizes?.length === r.digests.length) return r;
    const { digests: _, ...byNumber } = r;
    return byNumber as typeof r;
  });
export type StagedRecord = z.infer<typeof stagedRecordSchema>;

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
    digests?: unknown[];
    observeBounds?: { last: unknown[] };
  },
  ctx: z.RefinementCtx,
): void {
  const waves = r.bounds.last.length;
  const { core, sizes, observeBounds } = r;
  const checks: [boolean, () => string][] = [
    [
      core.lastStep !== waves - 1,
      () => `bounds.last has ${waves} waves, core.lastStep says ${core.lastStep + 1}`,
    ],
    [
      core.step > core.lastStep,
      () => `core.step ${core.step} is past core.lastStep ${core.lastStep}`,
    ],
    [
      sizes !== undefined && sizes.length !== waves,
      () => `sizes has ${sizes?.length} waves, bounds.last ${waves}`,
    ],
    [
      observeBounds !== undefined && observeBounds.last.length !== waves,
      () => `observeBounds.last has ${observeBounds?.last.length} waves, bounds.last ${waves}`,
    ],
  ];
  const problem = checks.find(([bad]) => bad)?.[1]();
  if (problem) ctx.addIssue({ code: "custom", message: problem });
}

/**
 * A rollout as a replica runs it: the record plus the nodes it knows placed in their waves
 * (its own and those others hold, by their NodeMasquerade), never persisted. `floor`: the
 * persisted sizes at the last read, so nodes not seen yet are waited for. `verified` (the
 * owner, with `digests`): per wave, are the members counted all known here (then `waves` is
 * the members, and `digests` kept their digest); false: some is not, the wave is not settled
 * and `floor`/`digests` stay the counted ones (wave-digest.ts). Absent: by number (`floor`).
 */
export type StagedState = StagedRecord & {
  waves: string[][];
  observe: string[][];
  floor?: number[];
  verified?: boolean[];
};

/**
 * An older dashboard's state listing every node of its waves: the lists give the boundaries
 * (rollout-membership.ts) and the sizes, then go (the rollout goes on from those).
 */
export function fromWaveLists(value: unknown): unknown {
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
      digests: waves.data.map(setDigest),
      ...(observe.data ? { observeBounds: of(observe.data) } : {}),
    };
  } catch {
    return value;
  }
}

/** What is persisted of a rollout: no node lists, failures bounded (their count kept). */
export function recordOf(s: StagedState): StagedRecord {
  const { waves, observe, floor, verified, failed, ...rest } = s;
  const names = Object.keys(failed);
  const kept = Object.fromEntries(
    names.slice(0, MAX_PERSISTED_FAILED).map((n) => [n, failed[n]!.slice(0, MAX_PERSISTED_REASON)]),
  );
  const more = names.length - Object.keys(kept).length + (rest.failedMore ?? 0);
  const { failedMore: _, ...record } = rest;
  return {
    ...record,
    // Verified (or just cut: every node known): the members are the names here.
    sizes: waves.map((w, i) =>
      verified?.[i] === false
        ? (floor?.[i] ?? 0)
        : verified || !floor
          ? w.length
          : Math.max(w.length, floor[i] ?? 0),
    ),
    failed: kept,
    ...(more > 0 ? { failedMore: more } : {}),
  };
}

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
  /**
   * SHA-256 (hex) of the config of `begun` (staged-follow.ts configDigest): a merged revision's
   * number is this owner's, and may name another config on another replica. Kept apart in
   * rollout-extras.json (staged-compat.ts): the previous release refuses a field it does not know.
   */
  begunConfig: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * An all-at-once rollout in progress (at-once-state.ts, checked there: a bad one is said and
   * dropped alone, the rest of the state kept). In rollout-extras.json, as `begunConfig`.
   */
  atOnce: z.unknown().optional(),
  /** The id of the last move request (staged-request.ts) the owner performed. */
  performed: z.string().max(64).optional(),
  /** Ids of requests performed before `performed` (oldest first): one written back is not again. */
  performedBefore: z.array(z.string().max(64)).max(64).optional(),
  current: z
    .preprocess((v) => fromWaveLists(fromLegacyRevisionNames(v)), stagedRecordSchema)
    .nullable(),
  past: z.array(z.preprocess(fromLegacyRevisionNames, pastSchema)).max(MAX_PAST_ROLLOUTS),
});
export type Persisted = z.infer<typeof persistedSchema>;

/** A finished or superseded rollout, as History shows it. */
export function pastOf(s: StagedRecord): PastRollout {
  return {
    resourceVersion: s.resourceVersion,
    phase: s.core.phase,
    aborted: s.core.aborted,
    actions: s.actions,
  };
}

/** Where a store keeps the rollout state beside its revisions (store/types.ts). */
export interface RolloutPersistence {
  /** `claim`: the reader takes the rollout over (store/types.ts ConfigStore.loadRollout). */
  loadRollout(claim?: { owner: string; yieldTo?: { seen?: string } }): Promise<unknown | null>;
  saveRollout(state: unknown | null): Promise<void>;
  /** Throws unless a saveRollout now would land (the store's fencing: kube-rollout.ts). */
  checkRollout?(): Promise<void>;
  /** Writes a move request for the owner (where the store is shared by replicas). */
  saveRequest?(request: unknown): Promise<void>;
}

/** Told how the write carrying a state (or a newer one, which includes it) ended. */
interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
}

/** A state not written because this replica no longer owns the rollout. */
export class NotOwnerError extends Error {
  readonly fenced = true;
}

/** One write at a time; a state changed while a write runs is written after it (newest wins). */
export class StateWriter {
  private running: Promise<void> | null = null;
  private next: { state: Persisted; waiters: Waiter[] } | null = null;
  /** Told how the write on the wire ends (null: none on the wire). */
  private sending: Waiter[] | null = null;
  /** Why the newest write failed; undefined once one succeeds. */
  lastError: string | undefined;

  constructor(
    private readonly target: RolloutPersistence | undefined,
    private readonly log: Logger,
    /** Still the owner? A state queued before the Lease was lost is not written after. */
    private readonly owner: () => boolean = () => true,
    /**
     * A write refused because another replica wrote the state since this one read it (the
     * store's fencing: kube-rollout.ts): the owner reads it again before writing more.
     */
    private readonly fenced: () => void = () => {},
  ) {}

  write(state: Persisted): void {
    if (!this.target) return;
    // The newer state includes what the older one said: its waiters wait for it.
    this.next = { state: structuredClone(state), waiters: this.next?.waiters ?? [] };
    this.running ??= this.drain();
  }

  /**
   * Resolves once the newest state asked for so far (or a newer one) is written; rejects with
   * why it was not (the store's error; `fenced`: another replica owns the rollout). Nothing
   * queued: resolves at once (nothing to persist, or no store).
   */
  landed(): Promise<void> {
    // The newest is queued, else on the wire (write() sends it at once when none is).
    const waiters = this.next?.waiters ?? this.sending;
    if (!waiters) return Promise.resolve();
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Resolves when every write asked for so far is done (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.next) {
      const { state, waiters } = this.next;
      this.next = null;
      // The Lease lost meanwhile: the next owner writes its own (this one may be older).
      if (!this.owner()) {
        const lost = new NotOwnerError("this replica no longer holds the singleton Lease");
        for (const w of waiters) w.reject(lost);
        continue;
      }
      this.sending = waiters;
      await this.save(state, waiters);
      this.sending = null;
    }
    this.running = null;
  }

  private async save(state: Persisted, waiters: Waiter[]): Promise<void> {
    try {
      await this.target!.saveRollout(state);
      this.lastError = undefined;
      for (const w of waiters) w.resolve();
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      this.lastError = err.message;
      this.log.warn({ err: e }, "could not persist the rollout state; it is kept in memory");
      for (const w of waiters) w.reject(err);
      if (!(e as { fenced?: boolean }).fenced) return;
      // Built on the state another replica replaced: nor is a newer one queued meanwhile.
      for (const w of this.next?.waiters ?? []) w.reject(err);
      this.next = null;
      this.fenced();
    }
  }
}

export type NodeOutcome = "applied" | "pending" | "failed";

/** A failed node whose reason the persisted state does not list (MAX_PERSISTED_FAILED). */
const UNLISTED = "failed (its reason is on its node page: the rollout's state lists the first 100)";

/**
 * Where one node of a released wave stands (a node not yet released is pending). `follower`:
 * its failed apply of the revision counts too (the owner persists only the first failures;
 * the owner itself goes by its list, which a retry clears). `counted`: how the fleet bar counts
 * it, a target of this revision's rollout (rollout.ts): its one record, so the card and the bar
 * never disagree (rollout-agree.test.ts); otherwise by its record now.
 */
export function outcomeOf(
  s: StagedState,
  n: NodeRecord | undefined,
  name: string,
  follower = false,
  counted?: RolloutOutcome,
): NodeOutcome {
  if (s.failed[name] !== undefined) return "failed";
  const failedHere = n?.lastApply && !n.lastApply.ok && n.lastApply.revision === s.revision;
  if (follower && failedHere) return "failed";
  // Post-apply rules not judged yet may drift: not applied until they are (rollout-done.ts).
  const o = counted ?? (n ? localOutcome(n, s.revision) : "pending");
  return o === "done" ? "applied" : "pending";
}

/** Where a released node stands (local records, or another replica's NodeMasquerade). */
export type OutcomeOf = (name: string) => NodeOutcome;

/**
 * `notHeard`: a member known only from before this dashboard started (the node roster), not
 * reconnected since: pending, and said unseen as the members not known by name are.
 */
export function waveView(
  s: StagedState,
  index: number,
  outcome: OutcomeOf,
  notHeard: (name: string) => boolean = () => false,
): RolloutWaveView {
  const names = [...s.waves[index]!].sort();
  const out: RolloutWaveView = {
    index,
    name: index === 0 ? "canary" : `wave ${index}`,
    released: !s.core.aborted && index <= s.core.step,
    total: waveSize(s, index),
    applied: 0,
    pending: 0,
    failed: 0,
    appliedNodes: [],
    pendingNodes: [],
    failedNodes: [],
  };
  const restored = countMembers(s, out, names, out.released ? outcome : () => "pending", notHeard);
  // Counted (by the owner, or before a restart) and not known here yet: pending, and said so.
  const unseen = out.total - names.length;
  out.pending += unseen;
  if (unseen + restored > 0) out.unseen = unseen + restored;
  return out;
}

/** Counts and lists the wave's known members in `out`; gives how many are not heard (pending). */
function countMembers(
  s: StagedState,
  out: RolloutWaveView,
  names: readonly string[],
  outcome: OutcomeOf,
  notHeard: (name: string) => boolean,
): number {
  let restored = 0;
  for (const name of names) {
    const o = outcome(name);
    if (o === "pending" && notHeard(name)) restored++;
    out[o]++;
    if (o === "failed") push(out.failedNodes, { name, reason: s.failed[name] ?? UNLISTED });
    else push(o === "applied" ? out.appliedNodes : out.pendingNodes, name);
  }
  return restored;
}

/**
 * Nodes in a wave: those placed here, or as many as the persisted sizes counted if more; a wave
 * whose counted members are not all known here (`verified` false) counts one at least unseen.
 */
export function waveSize(s: StagedState, index: number): number {
  const here = s.waves[index]?.length ?? 0;
  if (s.verified?.[index] === true) return here;
  const unseen = s.verified?.[index] === false ? 1 : 0;
  return Math.max(here + unseen, s.floor?.[index] ?? 0);
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
  const done = waveSize(s, core.step) === 0 ? `${wave} has no nodes` : `${wave} applied`;
  if (core.pause?.kind === "manual") return `${done}; paused until promoted`;
  // A timed wait is no pause to act on: it ends by itself (the view's pause.until says when;
  // the UI shows it as a countdown in the browser's time zone, not as a UTC timestamp).
  if (core.pause?.kind === "duration")
    return `${done}; the next wave starts by itself after the wait between waves`;
  return `${wave} is applying the revision${unverifiedNote(s)}`;
}

/**
 * A released wave whose members counted at the last save are not all known here (verified
 * false): no node of it is pending by name, so the sentence says what it waits for (break7: a
 * counted node whose NodeMasquerade went with its node kept the rollout "applying" for ever).
 */
function unverifiedNote(s: StagedState): string {
  const w = s.verified?.findIndex((ok, i) => !ok && i <= s.core.step) ?? -1;
  if (w < 0) return "";
  const name = w === 0 ? "the canary" : `wave ${w}`;
  const counted = s.floor?.[w] ?? 0;
  return `; ${name} counted ${counted} node${counted === 1 ? "" : "s"} when the rollout was last saved, and not all of them are known here (a NodeMasquerade deleted with its node, or not seen yet): it is not called applied until they are seen; abort if a counted node is gone for good`;
}

export function stagedView(
  s: StagedState,
  outcome: OutcomeOf,
  notHeard?: (name: string) => boolean,
): StagedRolloutView {
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
    waves: s.waves.map((_, i) => waveView(s, i, outcome, notHeard)),
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
  addRecorded(s, { action, user, time: new Date(now).toISOString(), detail });
}

/** An action recorded before (a move planned and stored first), kept as it was stored. */
export function addRecorded(s: StagedState, a: RolloutAction): void {
  s.actions.push(a);
  if (s.actions.length > MAX_ROLLOUT_ACTIONS) s.actions.splice(0, 1);
}
