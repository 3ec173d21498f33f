// One retry-delay concept for every loop that retries (reporter link, change monitor, CNI
// directory watch, heal timer; dashboard list-watch, history writes; UI event stream and queries),
// as TanStack Query has one `retryDelay`: capped exponential growth with optional jitter.

/** How a retry loop waits. All durations in milliseconds. */
export interface BackoffPolicy {
  /** Delay before attempt 0's retry (before jitter). */
  initialMs: number;
  /** Ceiling of the un-jittered delay. */
  maxMs: number;
  /** Growth per attempt (default 2). */
  factor?: number;
  /**
   * The delay is drawn uniformly between `low`·d and `high`·d (default [1, 1]: no jitter).
   * [0.5, 1] is AWS's "equal jitter"; [0.8, 1.2] spreads ±20% around d.
   */
  jitter?: readonly [low: number, high: number];
}

/** Attempts past this all wait maxMs (keeps factor^attempt finite). */
const MAX_EXPONENT = 64;

/**
 * Milliseconds to wait before retry number `attempt` (0-based):
 * `min(maxMs, initialMs · factor^attempt)`, then jittered, rounded to whole ms.
 * A negative or non-finite attempt counts as 0; `random` returns [0, 1) (Math.random).
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const n = Number.isFinite(attempt) ? Math.min(Math.max(0, Math.floor(attempt)), MAX_EXPONENT) : 0;
  const ceiling = Math.min(policy.maxMs, policy.initialMs * (policy.factor ?? 2) ** n);
  const [low, high] = policy.jitter ?? [1, 1];
  return Math.round(ceiling * (low + random() * (high - low)));
}
