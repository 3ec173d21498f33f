// Staged rollouts, the pure half: the strategy an operator picks (Argo Rollouts' canary
// steps: a canary, then waves by cumulative percentage, a pause between them), which wave each
// node is in, and the state machine of one rollout (progressing → paused → … → healthy, or
// degraded when aborted). No I/O and no clock: time comes in with the inputs.
import { z } from "zod";

/** Most waves after the canary (Argo Rollouts' steps are short lists too). */
export const MAX_ROLLOUT_WAVES = 10;
/** Longest timed pause between waves: one day, in seconds. */
export const MAX_PAUSE_SECONDS = 86_400;

// Kubernetes label syntax (a prefix/name key and a value of at most 63 characters).
const labelKey = z
  .string()
  .max(253)
  .regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/, "not a label key");
const labelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?)?$/, "not a label value");

export const canarySchema = z.union([
  z.strictObject({ count: z.number().int().min(1).max(10_000) }),
  z.strictObject({ percent: z.number().int().min(1).max(99) }),
  z.strictObject({
    selector: z
      .record(labelKey, labelValue)
      .refine((s) => Object.keys(s).length >= 1 && Object.keys(s).length <= 16, {
        message: "a selector has 1 to 16 labels",
      }),
  }),
]);
export type Canary = z.infer<typeof canarySchema>;

export const pauseSchema = z.union([
  z.strictObject({ kind: z.literal("manual") }),
  z.strictObject({
    kind: z.literal("duration"),
    seconds: z.number().int().min(1).max(MAX_PAUSE_SECONDS),
  }),
]);
export type PausePolicy = z.infer<typeof pauseSchema>;

const wavesStrategySchema = z
  .strictObject({
    kind: z.literal("waves"),
    canary: canarySchema,
    /** Cumulative percentages of all nodes after each wave, increasing, the last 100. */
    waves: z.array(z.number().int().min(1).max(100)).min(1).max(MAX_ROLLOUT_WAVES),
    pause: pauseSchema,
  })
  .refine((s) => s.waves.every((p, i) => i === 0 || p > s.waves[i - 1]!), {
    message: "wave percentages must increase",
    path: ["waves"],
  })
  .refine((s) => s.waves.at(-1) === 100, {
    message: "the last wave must reach 100%",
    path: ["waves"],
  });

export const rolloutStrategySchema = z.union([
  z.strictObject({ kind: z.literal("all-at-once") }),
  wavesStrategySchema,
]);
export type RolloutStrategy = z.infer<typeof rolloutStrategySchema>;
export type WavesStrategy = z.infer<typeof wavesStrategySchema>;

export const ALL_AT_ONCE: RolloutStrategy = { kind: "all-at-once" };

/** A node as wave assignment sees it; `labels` undefined when not known (no Node object). */
export interface WaveNode {
  name: string;
  labels?: Readonly<Record<string, string>>;
}

/** FNV-1a of the name: spreads nodes over waves the same way on every dashboard. */
function hash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The stable order waves are cut from: by hash, then by name. */
export function compareNodeOrder(a: string, b: string): number {
  return hash(a) - hash(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Does the node carry every label of the selector (labels not known: no)? */
export function matchesSelector(selector: Readonly<Record<string, string>>, n: WaveNode): boolean {
  return Object.entries(selector).every(([k, v]) => n.labels?.[k] === v);
}

/**
 * Splits nodes into waves: [canary, wave 1, …]. The canary is the selector's nodes, or the
 * first `count` / `percent`% (at least one) in hash order; wave i then holds the nodes up to
 * `waves[i]`% of all nodes, rounded up. Every node is in exactly one wave; a wave may be empty.
 */
export function assignWaves(nodes: readonly WaveNode[], s: WavesStrategy): string[][] {
  const c = s.canary;
  const ordered = [...nodes].sort((a, b) => compareNodeOrder(a.name, b.name));
  const total = ordered.length;
  let canary: WaveNode[];
  let rest: WaveNode[];
  if ("selector" in c) {
    canary = ordered.filter((n) => matchesSelector(c.selector, n));
    rest = ordered.filter((n) => !matchesSelector(c.selector, n));
  } else {
    const k = "count" in c ? c.count : Math.max(1, Math.ceil((c.percent * total) / 100));
    canary = ordered.slice(0, k);
    rest = ordered.slice(k);
  }
  const out: string[][] = [canary.map((n) => n.name)];
  let placed = canary.length;
  for (const pct of s.waves) {
    const upTo = pct === 100 ? total : Math.min(total, Math.ceil((pct * total) / 100));
    const take = Math.max(0, upTo - placed);
    out.push(rest.splice(0, take).map((n) => n.name));
    placed += take;
  }
  return out;
}

/**
 * The wave of a node that was not there when the rollout started (joined, or came back):
 * the canary when a selector matches it, else the wave of the node before it in hash order
 * (none before it: the first wave it may be in), so the same node always lands in the same wave.
 */
export function waveOfNewNode(n: WaveNode, s: WavesStrategy, waves: readonly string[][]): number {
  if ("selector" in s.canary && matchesSelector(s.canary.selector, n)) return 0;
  const from = "selector" in s.canary ? 1 : 0;
  let best: { wave: number; name: string } | undefined;
  waves.forEach((names, wave) => {
    if (wave < from) return;
    for (const name of names) {
      if (compareNodeOrder(name, n.name) < 0 && (!best || compareNodeOrder(name, best.name) > 0))
        best = { wave, name };
    }
  });
  return best?.wave ?? Math.min(from, waves.length - 1);
}
