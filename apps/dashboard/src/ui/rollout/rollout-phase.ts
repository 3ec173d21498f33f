// The staged rollout panel's badge and countdown. A timed wait between waves is phase "paused"
// in Argo Rollouts' words, but it asks nothing of the user: it ends by itself, so its badge says
// "waiting" and when the next wave starts, counting down (the absolute time in a tooltip).
import type { StagedRolloutView } from "@masq/shared";

export type PhaseBadge = "aborted" | "waiting" | StagedRolloutView["phase"];

/** The badge's word: "waiting" for a timed wait, "paused" only for one the user must end. */
export function phaseBadge(r: Pick<StagedRolloutView, "phase" | "pause" | "aborted">): PhaseBadge {
  if (r.aborted) return "aborted";
  if (r.phase === "paused" && r.pause?.kind === "duration") return "waiting";
  return r.phase;
}

/** "1 min 20 s", "45 s", "2 h 5 min": how long until a time to come, to the second. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  if (m > 0) return sec > 0 ? `${m} min ${sec} s` : `${m} min`;
  return `${sec} s`;
}

/** When a timed wait's next wave starts: "next wave in 1 min 20 s", "next wave starting now". */
export function nextWaveText(until: number, now: number): string {
  return until - now <= 0 ? "next wave starting now" : `next wave in ${countdown(until - now)}`;
}
