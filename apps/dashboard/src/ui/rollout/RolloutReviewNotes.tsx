"use client";
// In the save review and the rollback dialog: how the new revision will roll out beyond the
// strategy picked (review-notes.ts): an unfinished rollout it supersedes, a whole-fleet canary.
import type { RolloutStrategy } from "@masq/shared";
import { Callout } from "../components/Callout";
import { useFleetState } from "../live/live";
import { supersedeNote, wholeFleetCanaryNote } from "./review-notes";

export function RolloutReviewNotes({ strategy }: { strategy: RolloutStrategy | null }) {
  const fleet = useFleetState();
  let enforce = 0;
  for (const n of fleet.nodes.values()) if (n.mode === "enforce") enforce++;
  const notes = [
    supersedeNote(fleet.staged, strategy),
    wholeFleetCanaryNote(strategy, fleet.ready ? enforce : 0),
  ].filter((n): n is string => n !== null);
  if (notes.length === 0) return null;
  return (
    <Callout tone="info" role="status" title="How this change rolls out">
      {notes.map((n) => (
        <p key={n}>{n}</p>
      ))}
    </Callout>
  );
}
