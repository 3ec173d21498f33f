// A staged rollout wave card's one-line state (RolloutPanel's Wave), from the server's view.
import type { RolloutWaveView, StagedRolloutView } from "@masq/shared";

/**
 * A wave's one-line state; after an abort, the waves that had been released say so. Members
 * not known here yet (`unseen`: after a restart, reporters not back; on a follower replica, NodeMasquerades not read) are said apart: "0/1
 * applied" beside "wave 1 applied" read as a contradiction while the canary was reconnecting.
 */
export function waveState(
  w: RolloutWaveView,
  r: Pick<StagedRolloutView, "aborted" | "step" | "previousRevision">,
): string {
  const nodes = `${w.total} node${w.total === 1 ? "" : "s"}`;
  if (r.aborted)
    return w.index <= r.step
      ? `${nodes}, returned to revision ${r.previousRevision}`
      : `${nodes}, never released`;
  if (!w.released) return `${nodes}, not released`;
  const failed = w.failed > 0 ? ` · ${w.failed} failed` : "";
  const unseen = w.unseen ? ` · ${w.unseen} not heard from here yet` : "";
  return `${w.applied}/${w.total} applied${failed}${unseen}`;
}
