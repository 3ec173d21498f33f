// Promote, retry and abort asked on a replica that does not own the staged rollout (it does not
// hold the singleton Lease): written as a request beside the rollout state on the history
// ConfigMap, as spec.resyncRequest is for a resync, and performed once by the owner, which
// records the request's id in the state (docs/scale-out.md step 6). Newest request wins.
import { z } from "zod";
import type { StagedRecord } from "./staged-state.js";

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
});
export type MoveRequest = z.infer<typeof moveRequestSchema>;

/** Ids of performed requests remembered (persisted), so one written back is not performed again. */
export const MAX_PERFORMED_IDS = 32;

/**
 * The request to perform now, or why not: already performed (its id is one of the last the
 * owner performed: `performed`, newest last; a request written back by hand is not again), or
 * about another rollout than the current one, or not a request.
 */
export function requestToPerform(
  raw: unknown,
  s: Pick<StagedRecord, "resourceVersion"> | null,
  performed: readonly string[],
): { ok: true; request: MoveRequest } | { ok: false; why: string } {
  const r = moveRequestSchema.safeParse(raw);
  if (!r.success) return { ok: false, why: "not a move request" };
  if (performed.includes(r.data.id)) return { ok: false, why: "already performed" };
  if (!s || s.resourceVersion !== r.data.resourceVersion)
    return { ok: false, why: "about another rollout than the current one" };
  return { ok: true, request: r.data };
}

/** Who made a move asked on another replica, as the rollout's actions record it. */
export function requesterOf(r: MoveRequest): string {
  return `${r.user} (via replica ${r.via})`;
}
