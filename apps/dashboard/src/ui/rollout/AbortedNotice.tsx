"use client";
// On the config page: the stored config is a revision whose staged rollout was aborted, so the
// nodes run the previous one. Editing from here builds on the aborted change: say so.
import { Callout } from "../components/Callout";
import { useStagedRollout } from "../live/live";
import { abortedNotice } from "./aborted-notice";

export function AbortedNotice({ stored, aborted }: { stored: number; aborted: number | null }) {
  const text = abortedNotice(stored, aborted, useStagedRollout() ?? null);
  if (!text) return null;
  return (
    <Callout tone="warning" role="status" title={text.title}>
      {text.body}
    </Callout>
  );
}
