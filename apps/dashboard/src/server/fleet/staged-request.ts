// Promote, retry and abort asked on a replica that does not own the staged rollout (it does not
// hold the singleton Lease): written as a request beside the rollout state on the history
// ConfigMap, as spec.resyncRequest is for a resync, and performed once by the owner, which
// records the request's id in the state (docs/scale-out.md step 6). Newest request wins.
import { z } from "zod";
import { persistedSchema, type StagedRecord } from "./staged-state.js";

/** An earlier request a new one was written over (waited longer than REQUEST_PENDING_MS). */
const replacedSchema = z.strictObject({
  id: z.string().min(1).max(64),
  action: z.enum(["promote", "retry", "abort"]),
  user: z.string().max(512),
  via: z.string().max(256),
  step: z.number().int().nonnegative().optional(),
});
export type ReplacedRequest = z.infer<typeof replacedSchema>;

export const moveRequestSchema = z.strictObject({
  id: z.string().min(1).max(64),
  action: z.enum(["promote", "retry", "abort"]),
  /** promote: every remaining wave. */
  full: z.boolean().optional(),
  user: z.string().max(512),
  /** The replica it was asked on. */
  via: z.string().max(256),
  /** The rollout it moves (a request about an earlier one is not performed). */
  resourceVersion: z.string().max(256),
  /** When it was asked (ms since the epoch). */
  at: z.number().int().nonnegative(),
  /** The step the rollout was at when asked: moved since, the request is superseded. */
  step: z.number().int().nonnegative().optional(),
  /**
   * The request this one was written over, not performed (no owner within REQUEST_PENDING_MS):
   * the owner records it as not performed, where its asker (told "requested") looks for it.
   */
  replaces: replacedSchema.optional(),
});
export type MoveRequest = z.infer<typeof moveRequestSchema>;

/**
 * The request a new one is written over when it is not known to be performed (it waited past
 * REQUEST_PENDING_MS: pendingRequest said none waits), for the owner to record; undefined: none.
 */
export function unperformedOf(rawRequest: unknown, rawState: unknown): ReplacedRequest | undefined {
  const r = moveRequestSchema.safeParse(rawRequest);
  if (!r.success) return undefined;
  const state = persistedSchema.safeParse(rawState);
  if (state.success) {
    const { current, performed, performedBefore } = state.data;
    if (performed === r.data.id || performedBefore?.includes(r.data.id)) return undefined;
    if (current?.resourceVersion !== r.data.resourceVersion) return undefined;
  }
  const { id, action, user, via, step } = r.data;
  return { id, action, user, via, ...(step !== undefined ? { step } : {}) };
}

/** Ids of performed requests remembered (persisted), so one written back is not performed again. */
export const MAX_PERFORMED_IDS = 32;

/**
 * A request not performed this long after this replica first saw it is no longer waited for
 * (no owner).
 */
export const REQUEST_PENDING_MS = 30_000;
/** Request ids whose first sight is remembered (a request waits at a time: a few suffice). */
const SEEN_IDS = 64;

/**
 * When this replica first saw each move request, by its own clock: a request's `at` is the
 * asking replica's wall clock, and judging its age by this replica's clock made a skew of
 * 30 s drop a request still waiting (it was then written over, never performed) or hold one
 * long gone (break7). Bounded: the oldest ids are forgotten.
 */
export class SeenRequests {
  private readonly seen = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** How long ago (ms) request `id` was first seen here: 0 the first time. */
  age(id: string): number {
    const now = this.now();
    const at = this.seen.get(id);
    if (at !== undefined) return now - at;
    this.seen.set(id, now);
    if (this.seen.size > SEEN_IDS) this.seen.delete(this.seen.keys().next().value!);
    return 0;
  }

  /** Notes a request read (the watch of the history ConfigMap), if it is one. */
  note(raw: unknown): void {
    const r = moveRequestSchema.safeParse(raw);
    if (r.success) this.age(r.data.id);
  }
}

type Performable = Pick<StagedRecord, "resourceVersion"> & {
  core: Pick<StagedRecord["core"], "step" | "aborted">;
};

/**
 * The request to perform now, or why not: already performed (its id is one of the last the
 * owner performed: `performed`, newest last; a request written back by hand is not again), or
 * about another rollout than the current one, or not a request; or `superseded` (the rollout
 * moved since it was asked: another move was made first), which the owner records as done.
 */
export function requestToPerform(
  raw: unknown,
  s: Performable | null,
  performed: readonly string[],
): { ok: true; request: MoveRequest } | { ok: false; why: string; superseded?: MoveRequest } {
  const r = moveRequestSchema.safeParse(raw);
  if (!r.success) return { ok: false, why: "not a move request" };
  if (performed.includes(r.data.id)) return { ok: false, why: "already performed" };
  if (!s || s.resourceVersion !== r.data.resourceVersion)
    return { ok: false, why: "about another rollout than the current one" };
  const moved = r.data.step !== undefined && (s.core.step !== r.data.step || s.core.aborted);
  if (moved)
    return {
      ok: false,
      why: "superseded: the rollout moved since it was asked",
      superseded: r.data,
    };
  return { ok: true, request: r.data };
}

/**
 * The move request still waiting for the owner (stored beside its state): one the owner has
 * not performed, about the current rollout, first seen here (`seen`) less than
 * REQUEST_PENDING_MS ago; null when none. A new request is written only when none waits
 * (kube-rollout.ts), so two moves asked at once on two replicas are not both answered
 * "requested" while one is lost.
 */
export function pendingRequest(
  rawRequest: unknown,
  rawState: unknown,
  seen: SeenRequests,
): MoveRequest | null {
  const r = moveRequestSchema.safeParse(rawRequest);
  if (!r.success || seen.age(r.data.id) > REQUEST_PENDING_MS) return null;
  const state = persistedSchema.safeParse(rawState);
  if (!state.success) return r.data; // not known to be performed
  const { current, performed, performedBefore } = state.data;
  if (performed === r.data.id || performedBefore?.includes(r.data.id)) return null;
  return current?.resourceVersion === r.data.resourceVersion ? r.data : null;
}

/** Why a move cannot be requested now: another one waits for the owner. */
export function pendingMessage(p: MoveRequest): string {
  return `another move (${p.action} by ${requesterOf(p)}) is waiting for the rollout's owner to perform it; nothing was requested: look at the rollout again and ask once it is done`;
}

/** Who made a move asked on another replica, as the rollout's actions record it. */
export function requesterOf(r: Pick<MoveRequest, "user" | "via">): string {
  return `${r.user} (via replica ${r.via})`;
}
