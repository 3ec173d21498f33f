// Which wave of a staged rollout a node is in, without a list of every node: each wave cut from
// the stable hash order (compareNodeOrder) is one boundary, the last node it took, so any
// dashboard replica places any node, there at the start or joined late, from a few names. A
// canary picked by label selector stays a list (bounded), and nodes that match it later join it.
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

/** Names a selector canary's list may hold (a persisted rollout names at most this many). */
export const MAX_CANARY_NAMES = 20_000;

export const waveBoundsSchema = z.strictObject({
  /**
   * Per wave [canary, wave 1, …]: the last node (in compareNodeOrder) the wave took when the
   * rollout started; null when it took none (and, for a selector canary, at index 0).
   */
  last: z
    .array(nodeNameSchema.nullable())
    .min(2)
    .max(MAX_ROLLOUT_WAVES + 1),
  /** A selector canary's nodes at the start (absent for a canary by count or percentage). */
  canary: z.array(nodeNameSchema).max(MAX_CANARY_NAMES).optional(),
});
/** Wave membership as boundaries in the stable hash order. */
export type WaveBounds = z.infer<typeof waveBoundsSchema>;

/**
 * The boundaries of waves as assignWaves cut them (`waves`: [canary, wave 1, …]), or as an
 * older dashboard persisted them (name lists: the same cut, plus nodes placed later). Throws
 * when a selector canary names more than MAX_CANARY_NAMES nodes.
 */
export function boundsOf(waves: readonly (readonly string[])[], s: WavesStrategy): WaveBounds {
  const selector = "selector" in s.canary;
  const last = waves.map((names, i) =>
    selector && i === 0 ? null : names.reduce<string | null>(later, null),
  );
  if (!selector) return { last };
  const canary = [...waves[0]!];
  if (canary.length > MAX_CANARY_NAMES)
    throw new Error(
      `the canary selector matches ${canary.length} nodes, more than the ${MAX_CANARY_NAMES} a rollout may list`,
    );
  return { last, canary };
}

function later(a: string | null, b: string): string {
  return a === null || compareNodeOrder(b, a) > 0 ? b : a;
}

/**
 * The wave of a node: the selector canary when it was listed there or its labels match (labels
 * undefined: not known, so not the canary); else the first wave whose boundary it is not past.
 * A node past every boundary (joined after the start) is in the last wave, the one reaching
 * 100%, so a node never lands in a wave earlier than the cut would have put it. Returns a
 * placer (the canary list is indexed once) for placing many nodes.
 */
export function placeByBounds(s: WavesStrategy, b: WaveBounds): (n: WaveNode) => number {
  const c = s.canary;
  const selector = "selector" in c ? c.selector : null;
  const listed = new Set(b.canary ?? []);
  return (n) => {
    if (selector && (listed.has(n.name) || matchesSelector(selector, n))) return 0;
    for (let i = selector ? 1 : 0; i < b.last.length; i++) {
      const edge = b.last[i];
      if (edge != null && compareNodeOrder(n.name, edge) <= 0) return i;
    }
    return b.last.length - 1;
  };
}
