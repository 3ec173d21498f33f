// Whether a staged rollout's state can be persisted and followed. The state keeps no list of
// the fleet's nodes (staged-state.ts: boundaries in the stable hash order, and a small canary's
// names), so its size does not grow with the fleet: what can still make it too large for the
// history ConfigMap is its configs (the new and the previous revision's, kept in the state).
// Such a rollout is refused before anything is saved: written by no one, or read by no one, the
// followers' nodes would stay on the previous revision while the owner's moved on.

import { MAX_CANARY_NAMES, matchesSelector } from "@masq/shared";

/** Node names an older dashboard's state could list over its waves (read, never written). */
export const MAX_ROLLOUT_NODES = 100_000;
/**
 * Bytes the persisted state may take: three quarters of the 1 MiB the API server allows a
 * ConfigMap's data (core.MaxSecretSize), the rest kept for the newest history entry and a move
 * request sharing the history ConfigMap (kube-history.ts).
 */
export const MAX_ROLLOUT_STATE_BYTES = 768 * 1024;
/**
 * The state beside its configs and canary names, at its largest: 11 boundaries, sizes and
 * digests, 100 failed nodes with 500-character reasons, 100 actions of ≤ 2.6 KB (staged-state.ts
 * bounds).
 */
export const STATE_OVERHEAD_BYTES = 340 * 1024;

const bytesOf = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * The bytes (UTF-8, as the API server counts them) a rollout's persisted state may take at
 * most with `canary` the names its canaries list, and `configs` (the new and previous
 * revision's) kept: however many nodes the fleet has.
 */
export function rolloutStateBytes(canary: Iterable<string>, configs: readonly unknown[]): number {
  let n = STATE_OVERHEAD_BYTES;
  for (const name of canary) n += bytesOf(name) + 3; // quotes and comma
  for (const c of configs) n += c === undefined ? 0 : bytesOf(JSON.stringify(c));
  return n;
}

/** Why a rollout whose state may take `bytes` cannot be persisted and followed; null: it can. */
export function sizeRefusalOf(bytes: number): string | null {
  if (bytes > MAX_ROLLOUT_STATE_BYTES)
    return `the staged rollout's state with its configs (the new and the previous revision's) could take ${kib(bytes)} KiB, more than the ${kib(MAX_ROLLOUT_STATE_BYTES)} KiB the history ConfigMap can keep it in, so it could not be persisted and the dashboard replicas following the rollout would not see its waves`;
  return null;
}

const kib = (b: number) => Math.ceil(b / 1024);

/**
 * Why a selector canary matching these nodes' labels cannot be kept: the state lists its
 * names, at most MAX_CANARY_NAMES (rollout-membership.ts); null when it can.
 */
export function canaryRefusal(
  selector: Readonly<Record<string, string>>,
  labels: ReadonlyMap<string, Readonly<Record<string, string>>>,
): string | null {
  let n = 0;
  for (const [name, l] of labels) if (matchesSelector(selector, { name, labels: l })) n++;
  if (n <= MAX_CANARY_NAMES) return null;
  return `the canary selector matches ${n} nodes, more than the ${MAX_CANARY_NAMES} a rollout keeps by name (so that every replica and a restart keep exactly the same canary)`;
}
