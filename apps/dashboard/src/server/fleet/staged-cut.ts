// Wave planning for a staged rollout: the nodes cut into waves by the strategy (a selector
// canary trimmed to what a state may list), their boundaries for the persisted state, and the
// size check that the state could be persisted and followed (staged-size.ts).
import {
  assignWaves,
  boundsOf,
  compareNodeOrder,
  MAX_CANARY_NAMES,
  placeByBounds,
  type RolloutStrategy,
  type WaveBounds,
  type WaveNode,
  type WavesStrategy,
} from "@masq/shared";
import { rolloutStateBytes, sizeRefusalOf } from "./staged-size.js";
import type { StagedState } from "./staged-state.js";

/** The waves of a rollout cut at its start, enforce- and observe-mode nodes apart. */
export interface Cut {
  waves: string[][];
  observe: string[][];
  bounds: WaveBounds;
  observeBounds: WaveBounds;
}

/**
 * Cuts the waves, or says why the cut's state could not be kept (too many canary names, or a
 * state over every node that could not be persisted with `configs`): then it goes at once.
 */
export function cutWaves(
  enforce: readonly WaveNode[],
  observeNodes: readonly WaveNode[],
  strategy: WavesStrategy,
  configs: readonly unknown[],
): Cut | { error: string } {
  const waves = assignWaves(enforce, strategy);
  const observe = assignWaves(observeNodes, strategy);
  trimCanary(waves, strategy);
  trimCanary(observe, strategy);
  const cut = cutBounds(waves, observe, strategy);
  if ("error" in cut) return cut;
  const canary = [...(cut.bounds.canary ?? []), ...(cut.observeBounds.canary ?? [])];
  const tooBig = sizeRefusalOf(rolloutStateBytes(canary, configs));
  return tooBig ? { error: tooBig } : { waves, observe, ...cut };
}

/**
 * Does the strategy pick its canary by label selector? Its waves need the nodes' labels: the
 * saving replica's announcement (intend) carries them; another replica reads them (`labels`),
 * and one that cannot takes the default strategy, never an empty canary by mistake.
 */
export function hasSelector(
  s: RolloutStrategy,
): s is WavesStrategy & { canary: { selector: object } } {
  return s.kind === "waves" && "selector" in s.canary;
}

/** The same strategy, whatever the order of its keys. */
export function sameStrategy(a: RolloutStrategy, b: RolloutStrategy): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}

/**
 * The boundaries of a cut for the state, or why it cannot be kept (a selector canary matching
 * more nodes than a rollout may list; trimCanary keeps a cut from that: the change would then
 * roll out at once).
 */
function cutBounds(
  waves: string[][],
  observe: string[][],
  s: WavesStrategy,
): { bounds: WaveBounds; observeBounds: WaveBounds } | { error: string } {
  try {
    return { bounds: boundsOf(waves, s), observeBounds: boundsOf(observe, s) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/**
 * A selector canary matching more nodes than a rollout keeps by name (a save checked against
 * at most that many, then nodes joined or were seen by the owner only): its first
 * MAX_CANARY_NAMES in the stable hash order stay the canary, the others are placed by the
 * boundaries as every replica and a restart will place them (a later wave: late, never early).
 * It rolled the revision out at once before (break6): every wave's nodes got it unreleased.
 */
function trimCanary(waves: string[][], s: WavesStrategy): void {
  if (!("selector" in s.canary) || (waves[0]?.length ?? 0) <= MAX_CANARY_NAMES) return;
  const sorted = [...waves[0]!].sort(compareNodeOrder);
  waves[0] = sorted.slice(0, MAX_CANARY_NAMES);
  const place = placeByBounds(s, boundsOf(waves, s));
  for (const name of sorted.slice(MAX_CANARY_NAMES)) waves[place({ name })]!.push(name);
}

export function describeStart(s: StagedState): string {
  const sizes = s.waves.map((w, i) => `${i === 0 ? "canary" : `wave ${i}`}: ${w.length}`);
  return `revision ${s.revision} in ${s.waves.length} waves (${sizes.join(", ")}), from revision ${s.previous?.revision}`;
}
