// One staged rollout's state machine, in Argo Rollouts' words: a rollout is `progressing`
// while a released wave applies, `paused` between waves (manually, for a duration, or because
// a node failed), `healthy` once the last wave applied, `degraded` once aborted. The server
// feeds it what happened and performs the effect it answers with.
import type { PausePolicy } from "./rollout-plan.js";

export type RolloutPhase = "progressing" | "paused" | "healthy" | "degraded";

/** Why a rollout waits. `until` in ms since the epoch. */
export type RolloutPause =
  | { kind: "manual" }
  | { kind: "duration"; until: number }
  | { kind: "failure"; reason: string };

export interface RolloutCore {
  /** The highest released wave (0 = the canary). */
  step: number;
  /** The last wave's index. */
  lastStep: number;
  phase: RolloutPhase;
  pause: RolloutPause | null;
  aborted: boolean;
}

export type RolloutInput =
  /**
   * No node of the released waves is waiting; `failed` of them failed (and were promoted past).
   * `sizes`: nodes per wave (absent: every wave has some). A pause watches a wave's nodes, so a
   * wave without any (but the canary) is not paused after, and waves left without nodes are not
   * waited for.
   */
  | { type: "wave-settled"; now: number; failed: number; sizes?: readonly number[] }
  /** A node of a released wave failed, went offline right after applying, or drifted. */
  | { type: "failure"; reason: string }
  /** Release the next wave now; `full`: every remaining wave. */
  | { type: "promote"; full: boolean }
  /** Send the revision again to the nodes that failed. */
  | { type: "retry" }
  /** Return the changed nodes to the previous revision. */
  | { type: "abort" }
  | { type: "tick"; now: number };

/** What the server does after a step: push the revision to newly released waves, re-send it
 * to failed nodes, or push the previous revision to every changed node. */
export type RolloutEffect = "release" | "retry" | "revert";

export type RolloutStep =
  | { ok: true; core: RolloutCore; effect: RolloutEffect | null }
  | { ok: false; error: string };

export function startRollout(lastStep: number): RolloutCore {
  return { step: 0, lastStep, phase: "progressing", pause: null, aborted: false };
}

const finished = (c: RolloutCore) => c.phase === "healthy" || c.phase === "degraded";

function release(c: RolloutCore, to: number): RolloutStep {
  return {
    ok: true,
    core: { ...c, step: Math.min(to, c.lastStep), phase: "progressing", pause: null },
    effect: "release",
  };
}

const same = (core: RolloutCore): RolloutStep => ({ ok: true, core, effect: null });

/** The first wave after the released ones that has nodes; null when none is left. */
function nextWaveWithNodes(c: RolloutCore, sizes: readonly number[] | undefined): number | null {
  for (let w = c.step + 1; w <= c.lastStep; w++) if (!sizes || (sizes[w] ?? 0) > 0) return w;
  return null;
}

/** What happened on the fleet: a wave settled, a node failed, or time passed. */
function observed(
  c: RolloutCore,
  input: Extract<RolloutInput, { type: "wave-settled" | "failure" | "tick" }>,
  pause: PausePolicy,
): RolloutStep {
  if (input.type === "failure") {
    if (finished(c) || c.pause?.kind === "failure") return same(c);
    return same({ ...c, phase: "paused", pause: { kind: "failure", reason: input.reason } });
  }
  if (input.type === "tick") {
    if (c.pause?.kind !== "duration" || input.now < c.pause.until) return same(c);
    return release(c, c.step + 1);
  }
  if (c.phase !== "progressing") return same(c);
  const ahead = nextWaveWithNodes(c, input.sizes);
  if (ahead === null && input.failed > 0)
    return same({
      ...c,
      phase: "paused",
      pause: { kind: "failure", reason: `${input.failed} node(s) of the rollout failed` },
    });
  if (ahead === null) return same({ ...c, step: c.lastStep, phase: "healthy", pause: null });
  // An empty canary still pauses: a canary selector matching no node is more likely a mistake
  // than a wish to send the change untested to the next wave.
  if (c.step > 0 && input.sizes?.[c.step] === 0) return release(c, ahead);
  return same({
    ...c,
    phase: "paused",
    pause:
      pause.kind === "manual"
        ? { kind: "manual" }
        : { kind: "duration", until: input.now + pause.seconds * 1000 },
  });
}

/** An operator's move: promote, retry or abort; refused when it makes no sense now. */
function operated(
  c: RolloutCore,
  input: Extract<RolloutInput, { type: "promote" | "retry" | "abort" }>,
): RolloutStep {
  if (finished(c)) {
    const what = { promote: "nothing to promote", retry: "nothing to retry" } as const;
    return {
      ok: false,
      error: `the rollout is ${c.phase}: ${input.type === "abort" ? "roll back to an earlier revision instead" : what[input.type]}`,
    };
  }
  if (input.type === "promote") {
    if (c.step >= c.lastStep)
      return { ok: false, error: "the last wave is already released: retry or abort" };
    return release(c, input.full ? c.lastStep : c.step + 1);
  }
  if (input.type === "retry")
    return { ok: true, core: { ...c, phase: "progressing", pause: null }, effect: "retry" };
  return {
    ok: true,
    core: { ...c, phase: "degraded", pause: null, aborted: true },
    effect: "revert",
  };
}

/** The next state for an input; operator inputs that make no sense now are refused. */
export function stepRollout(c: RolloutCore, input: RolloutInput, pause: PausePolicy): RolloutStep {
  return input.type === "promote" || input.type === "retry" || input.type === "abort"
    ? operated(c, input)
    : observed(c, input, pause);
}
