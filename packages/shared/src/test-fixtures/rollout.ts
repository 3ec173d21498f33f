// Shapes the staged-rollout tests share: node names, their stable order, a strategy.
import { compareNodeOrder, type WavesStrategy } from "../rollout-plan.js";

/** node-0 … node-(n-1). */
export const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${i}`);
/** Names in the stable order waves are cut from. */
export const ordered = (xs: string[]) => [...xs].sort(compareNodeOrder);
/** Waves after `canary` at cumulative percentages `w`, paused until promoted. */
export const waves = (canary: WavesStrategy["canary"], w: number[]): WavesStrategy => ({
  kind: "waves",
  canary,
  waves: w,
  pause: { kind: "manual" },
});
