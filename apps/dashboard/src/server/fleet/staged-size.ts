// Whether a staged rollout's state can be persisted and followed. The state lists every node
// of its waves by name (staged-state.ts), and every replica reads it back: the owner after a
// restart, the others to follow it (staged-follow.ts). A state naming more nodes than the
// schema reads, or larger than the history ConfigMap can carry beside the history, would be
// written by no one or read by no one, and the followers' nodes would stay on the previous
// revision while the owner's moved on. Such a rollout is refused before anything is saved.

/**
 * Nodes a persisted rollout may name: the waves are cut over every node of the fleet, those
 * every active replica holds (one dashboard process holds at most ~19,000 reporters, a fleet
 * of three or four replicas more than 20,000). What bounds it in practice is the history
 * ConfigMap's 1 MiB (MAX_ROLLOUT_STATE_BYTES below), and a follower must be able to parse
 * whatever the owner could write (else it holds its nodes on the previous revision for good).
 */
export const MAX_ROLLOUT_NODES = 100_000;
/**
 * Bytes the persisted state may take: three quarters of the 1 MiB the API server allows a
 * ConfigMap's data (core.MaxSecretSize), the rest kept for the newest history entry and a move
 * request sharing the history ConfigMap (kube-history.ts).
 */
export const MAX_ROLLOUT_STATE_BYTES = 768 * 1024;
/** The state beside its names and configs: strategy, bounds, actions (100 × ≤ 2.6 KB worst). */
const STATE_OVERHEAD_BYTES = 16 * 1024;

const bytesOf = (s: string) => Buffer.byteLength(s, "utf8");

/**
 * The bytes (UTF-8, as the API server counts them) a rollout's persisted state would take over
 * `names` (every node it is cut over), with `configs` (the new and previous revision's) kept.
 */
export function rolloutStateBytes(names: Iterable<string>, configs: readonly unknown[]): number {
  let n = STATE_OVERHEAD_BYTES;
  for (const name of names) n += bytesOf(name) + 3; // quotes and comma
  for (const c of configs) n += c === undefined ? 0 : bytesOf(JSON.stringify(c));
  return n;
}

/**
 * Why a rollout over `nodes` nodes whose state takes `bytes` cannot be persisted and followed;
 * null when it can.
 */
export function sizeRefusalOf(nodes: number, bytes: number): string | null {
  if (nodes > MAX_ROLLOUT_NODES)
    return `the fleet has ${nodes} nodes, more than the ${MAX_ROLLOUT_NODES} a staged rollout's persisted state may name, so the dashboard replicas following the rollout could not read its waves and their nodes would stay on the previous revision`;
  if (bytes > MAX_ROLLOUT_STATE_BYTES)
    return `the staged rollout's state over ${nodes} nodes would take ${kib(bytes)} KiB, more than the ${kib(MAX_ROLLOUT_STATE_BYTES)} KiB the history ConfigMap can keep it in, so it could not be persisted and the dashboard replicas following the rollout would not see its waves`;
  return null;
}

const kib = (b: number) => Math.ceil(b / 1024);
