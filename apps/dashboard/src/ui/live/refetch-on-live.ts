"use client";
// Queries that live events make stale. TanStack Query joins an invalidation to a fetch already
// in flight when the query has no data yet (query-core `Query.fetch`: "returns its promise
// instead of starting a new one, unless cancelRefetch is set and the query already has data").
// On a page's first load an event that lands while the first fetch is out (the stream's hello,
// a rollout pausing) was then answered by that fetch, made before the event, and the page stayed
// stale until the next event: the staged rollout panel said "the canary is applying the
// revision" for good while the fleet bar beside it counted the canary failed. The fetch in
// flight is cancelled first, so the answer is always from after the event.
import { type QueryClient, type QueryKey, useQueryClient } from "@tanstack/react-query";
import { type LiveEventKind, useLiveEvent } from "./live";

/** Refetches `queryKey` with an answer made after now (a fetch in flight is cancelled). */
export async function refetchForEvent(qc: QueryClient, queryKey: QueryKey): Promise<void> {
  await qc.cancelQueries({ queryKey });
  await qc.invalidateQueries({ queryKey });
}

/** Refetches `queryKey` on every live event of `kinds` (refetchForEvent). */
export function useRefetchOnLive(kinds: readonly LiveEventKind[], queryKey: QueryKey): void {
  const qc = useQueryClient();
  // useLiveEvent calls the latest function: the key of the latest render is the one refetched.
  useLiveEvent(kinds, () => void refetchForEvent(qc, queryKey));
}
