"use client";
// In the review of a config source while other sources exist (the ip-masq-agent config's or
// another source's editor): nodes get the merge, so say so, and name any conflict the change
// would add (the save is then refused), or why the merge reaches no node (held, conflicts).
import type { MergeConflict, MergedConfigView } from "@masq/shared";
import { Callout } from "../components/Callout";
import { ConflictList } from "./MergedSources";

/** The parts of a validate answer (ValidateResponse, SourceValidateResponse) said here. */
interface MergeReview {
  merge?: MergedConfigView | null;
  newConflicts?: MergeConflict[];
}

export function MergeNotice({ v }: { v: MergeReview | undefined }) {
  if (!v?.merge) return null;
  const added = v.newConflicts ?? [];
  if (added.length > 0)
    return <ConflictList title="Saving would make the config sources conflict" conflicts={added} />;
  if (v.merge.held) return <Callout tone="warning">{v.merge.held}</Callout>;
  if (!v.merge.pushable)
    return (
      <ConflictList
        title="The config sources conflict: this save reaches no node until that is resolved"
        conflicts={v.merge.conflicts}
      />
    );
  return (
    <Callout tone="info">
      Nodes get this config merged with {v.merge.sources.length - 1} other source
      {v.merge.sources.length === 2 ? "" : "s"}; what it means for traffic is for the merge.
    </Callout>
  );
}
