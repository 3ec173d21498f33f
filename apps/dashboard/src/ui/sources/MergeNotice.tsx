"use client";
// In the review of the ip-masq-agent config while other sources exist: nodes get the merge, so
// say so, and name any conflict the change would add (the save is then refused).
import type { ValidateResponse } from "@masq/shared";
import { Callout } from "../components/Callout";
import { ConflictList } from "./MergedSources";

export function MergeNotice({ v }: { v: ValidateResponse | undefined }) {
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
