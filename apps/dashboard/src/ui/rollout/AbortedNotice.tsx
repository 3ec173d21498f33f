"use client";
// On the config page: the stored config is a revision whose staged rollout was aborted, so the
// nodes run the previous one. Editing from here builds on the aborted change: say so.
import { Callout } from "../components/Callout";
import { useStagedRollout } from "../live/live";

export function AbortedNotice({ revision }: { revision: number }) {
  const r = useStagedRollout();
  if (!r?.aborted || r.revision !== revision) return null;
  return (
    <Callout
      tone="warning"
      role="status"
      title={`The rollout of revision ${r.revision} was aborted`}
    >
      Every node runs revision {r.previousRevision} again. The config below is still revision{" "}
      {r.revision}, the aborted change: a save from here includes it. To drop it, roll back to
      revision {r.previousRevision} in History.
    </Callout>
  );
}
