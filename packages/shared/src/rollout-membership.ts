// Which wave of a staged rollout a node is in, without a list of every node: each wave cut from
// the stable hash order (compareNodeOrder) is one boundary, the last node it took, so any
// dashboard replica places any node, there at the start or joined late, from a few names. The
// canary is also kept as its list of names when it is small (a selector's, and a count's or a
// percentage's of at most MAX_CANARY_NAMES): then it is exactly the nodes it took at the start on
// every replica and after every restart, and a late node never joins it (late, never early).
// 65,000 names would not fit the 1 MiB history ConfigMap that keeps rollout.json; this does.
import { z } from "zod";
import { nodeNameSchema } from "./protocol.js";
import {
  compareNodeOrder,
  MAX_ROLLOUT_WAVES,
  matchesSelector,
  type WaveNode,
  type WavesStrategy,
} from "./rollout-plan.js";

/**
 * Names a canary's list may hold in a new rollout: 1,000 names of 63 characters take ~66 KB of
 * the state (a selector canary matching more is refused; a larger canary by count or
 * percentage is kept as its boundary).
 */
export const MAX_CANARY_NAMES = 1_000;
/** Names an older dashboard's selector canary could list (read, never written). */
export const MAX_LEGACY_CANARY_NAMES = 20_000;

export const waveBoundsSchema = z.strictObject({
  /**
   * Per wave [canary, wave 1, …]: the last node (in compareNodeOrder) the wave took when the
   * rollout started; null when it took none (and, for a selector canary, at index 0).
   */
  last: z
    .array(nodeNameSchema.nullable())
    .min(2)
    .max(MAX_ROLLOUT_WAVES + 1),
  /**
   * The canary's nodes at the start: always for a selector canary, for one by count or
   * percentage when it took at most MAX_CANARY_NAMES (absent: placed by its boundary).
   */
  canary: z.array(nodeNameSchema).max(MAX_LEGACY_CANARY_NAMES).optional(),
});
/** Wave membership as boundaries in the stable hash order. */
export type WaveBounds = z.infer<typeof waveBoundsSchema>;

/**
 * The boundaries of waves as assignWaves cut them (`waves`: [canary, wave 1, …]), or as an
 * older dashboard persisted them (name lists: the same cut, plus nodes placed later). Throws
 * when a selector canary names more than `limit` nodes (MAX_CANARY_NAMES for a new cut).
 */
export function boundsOf(
  waves: readonly (readonly string[])[],
  s: WavesStrategy,
  limit = MAX_CANARY_NAMES,
): WaveBounds {
  const selector = "selector" in s.canary;
  const last = waves.map((names, i) =>
    selector && i === 0 ? null : names.reduce<string | null>(later, null),
  );
  const canary = [...waves[0]!];
  if (!selector && canary.length > limit) return { last };
  if (canary.length > limit)
    throw new Error(
      `the canary selector matches ${canary.length} nodes, more than the ${limit} a rollout may list`,
    );
  return { last, canary };
}

function later(a: string | null, b: string): string {
  return a === null || compareNodeOrder(b, a) > 0 ? b : a;
}

/**
 * The wave of a node. With a canary list: the canary when listed there (or, for a selector,
 * when its labels match; labels undefined: not known, so not the canary), else never the
 * canary. Else, and for the other waves: the first wave whose boundary it is not past. A node
 * past every boundary (joined after the start) is in the last wave, the one reaching 100%, so
 * a node never lands in a wave earlier than the cut would have put it. Returns a placer (the
 * canary list is indexed once) for placing many nodes.
 */
export function placeByBounds(s: WavesStrategy, b: WaveBounds): (n: WaveNode) => number {
  const c = s.canary;
  const selector = "selector" in c ? c.selector : null;
  const listed = b.canary ? new Set(b.canary) : null;
  return (n) => {
    if (listed?.has(n.name) || (selector && matchesSelector(selector, n))) return 0;
    for (let i = listed || selector ? 1 : 0; i < b.last.length; i++) {
      const edge = b.last[i];
      if (edge != null && compareNodeOrder(n.name, edge) <= 0) return i;
    }
    return b.last.length - 1;
  };
}
