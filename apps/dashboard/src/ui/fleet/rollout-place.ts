// A node's place in a staged rollout (computed by the server, NodeSummary.rollout) as the fleet
// table shows it: a short label, a tone, and a sentence for the tooltip and screen readers.
import type { NodeRolloutPlace, NodeSummary, RolloutNodeProgress } from "@masq/shared";

export type PlaceTone = "neutral" | "progress" | "done" | "failed" | "aborted";

export interface PlaceText {
  /** A few words: "canary · applied", "wave 2 · waits". */
  label: string;
  tone: PlaceTone;
  /** The whole story in one sentence. */
  title: string;
}

/** What the table shows of `place`; null when the node is in no staged rollout. */
export function describePlace(place: NodeRolloutPlace | undefined): PlaceText | null {
  if (!place) return null;
  const { waveName: wave, revision: r, desiredRevision: d } = place;
  const progress = progressOf(place);
  if (place.aborted)
    return progress === "applied"
      ? {
          label: `${wave} · aborted`,
          tone: "aborted",
          title: `The rollout of revision ${r} was aborted: this node (${wave}) runs revision ${d}.`,
        }
      : {
          label: `${wave} · returning`,
          tone: "aborted",
          title: `The rollout of revision ${r} was aborted: this node (${wave}) is returning to revision ${d}.`,
        };
  switch (progress) {
    case "waiting":
      return {
        label: `${wave} · waits`,
        tone: "neutral",
        title: `Waits in ${wave}: revision ${r} has not reached this wave yet; the node keeps revision ${d}.`,
      };
    case "failed":
      return place.inSyncNow
        ? {
            label: `${wave} · failed, in sync now`,
            tone: "failed",
            title: `${cap(wave)} of revision ${r} failed on this node: ${place.failure ?? "no reason given"}. It runs revision ${r} in sync now; the rollout counts it failed until Retry.`,
          }
        : {
            label: `${wave} · failed`,
            tone: "failed",
            title: `${cap(wave)} of revision ${r} failed on this node: ${place.failure ?? "no reason given"}.`,
          };
    case "awaiting-rules":
      return {
        label: `${wave} · applied, waiting for its rules`,
        tone: "progress",
        title: `${cap(wave)} of revision ${r}: the node applied it; its rules since are not judged yet, so its wave counts it pending.`,
      };
    case "applied":
      return place.driftedBefore
        ? {
            label: `${wave} · applied, drifted before`,
            tone: "done",
            title: `${cap(wave)} of revision ${r}: the node runs it, ${place.driftedBefore}; not counted against the rollout.`,
          }
        : {
            label: `${wave} · applied`,
            tone: "done",
            title: `${cap(wave)} of revision ${r}: the node runs it.`,
          };
    default:
      return {
        label: `${wave} · applying`,
        tone: "progress",
        title: `${cap(wave)} of revision ${r} is released: the node has not applied it yet.`,
      };
  }
}

/** The progress (a server before it was sent: from `released`). */
export function progressOf(p: NodeRolloutPlace): RolloutNodeProgress {
  return p.progress ?? (p.released || p.aborted ? "applying" : "waiting");
}

const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

type Sortable = Pick<NodeSummary, "rollout" | "appliedRevision">;

/**
 * The Revision column's order: canary first, then later waves, then nodes in no rollout, oldest
 * applied revision first (none first of all); ties keep name order.
 */
export function byWave(a: Sortable, b: Sortable): number {
  const w = (a.rollout?.wave ?? Infinity) - (b.rollout?.wave ?? Infinity);
  if (w) return w;
  return (a.appliedRevision ?? -1) - (b.appliedRevision ?? -1);
}

const PROGRESS_TEXT: Record<RolloutNodeProgress, string> = {
  waiting: "waiting for their wave",
  applying: "applying",
  "awaiting-rules": "applied, waiting for their rules",
  applied: "applied",
  failed: "failed",
};

const isProgress = (v: string): v is RolloutNodeProgress => v in PROGRESS_TEXT;

/** Whether the node matches a rollout filter: a wave's name or a progress. */
export function inRollout(node: Pick<NodeSummary, "rollout">, filter: string): boolean {
  const p = node.rollout;
  if (!p) return false;
  return isProgress(filter) ? progressOf(p) === filter : p.waveName === filter;
}

/** Reads after "No node has": "a place in the canary", "rollout progress failed". */
export function rolloutFilterText(filter: string): string {
  if (isProgress(filter)) return `rollout progress ${PROGRESS_TEXT[filter]}`;
  return filter === "canary" ? "a place in the canary" : `a place in ${filter}`;
}

/** The rollout filter's choices for the nodes shown: their waves in order, then progresses. */
export function rolloutOptions(
  nodes: Iterable<Pick<NodeSummary, "rollout">>,
): { value: string; label: string }[] {
  const waves = new Map<number, string>();
  const progress = new Set<RolloutNodeProgress>();
  for (const n of nodes) {
    if (!n.rollout) continue;
    waves.set(n.rollout.wave, n.rollout.waveName);
    if (n.rollout.progress) progress.add(n.rollout.progress);
  }
  if (waves.size === 0) return [];
  return [
    ...[...waves].sort((a, b) => a[0] - b[0]).map(([, name]) => ({ value: name, label: name })),
    ...(Object.keys(PROGRESS_TEXT) as RolloutNodeProgress[])
      .filter((p) => progress.has(p))
      .map((p) => ({ value: p, label: PROGRESS_TEXT[p] })),
  ];
}
