// What drift derives from the desired chain alone, computed once per desired chain: with an
// AssessCache every node of a revision is judged against one DesiredChain object, so these
// were rebuilt per node for the same answer (the cosmetic check even parsed the chain's text).
// Desired chains are never mutated once built (rules.ts makes a new one per call); everything
// handed out here is shared between nodes and read only.
import { listedOrder } from "./desired-chains.js";
import type { DesiredChain } from "./rules.js";

/** `derive` memoized per desired chain object (a WeakMap: it lives as long as the chain). */
export function perDesiredChain<T>(derive: (d: DesiredChain) => T): (d: DesiredChain) => T {
  const memo = new WeakMap<DesiredChain, T>();
  return (d) => {
    if (memo.has(d)) return memo.get(d) as T;
    const value = derive(d);
    memo.set(d, value);
    return value;
  };
}

/**
 * The desired chain's rule lines, once per chain: the dashboard keeps them in every node's
 * assessment, and every node of a revision can hold the same array. Read only.
 */
export const desiredLines: (d: DesiredChain) => readonly string[] = perDesiredChain((d) =>
  d.rules.map((r) => r.line),
);

/**
 * The desired chain's rule lines as `iptables -S` lists them on a node (addresses before the
 * comment), once per chain: what people are shown, so a rule reads the same on the desired
 * side as on the node's. The payload (desiredLines) keeps upstream's order. Read only.
 */
export const desiredListedLines: (d: DesiredChain) => readonly string[] = perDesiredChain((d) =>
  desiredLines(d).map((l) => listedOrder(l) ?? l),
);
