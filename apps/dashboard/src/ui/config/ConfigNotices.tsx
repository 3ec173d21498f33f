"use client";
import type { Rollout } from "@masq/shared";
import type { EditableConfig } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { RolloutProgress } from "../fleet/SummaryBar";

/** The stored text does not validate: nodes keep the last valid config until it is fixed. */
function InvalidStoredNotice({ errors }: { errors: EditableConfig["errors"] }) {
  return (
    <Callout
      tone="error"
      role="alert"
      title="The stored config is invalid and is not pushed to nodes"
    >
      <ul className="list-disc pl-4">
        {errors.map((e) => (
          <li key={e.message}>{e.message}</li>
        ))}
      </ul>
      <p className="mt-1">Nodes keep enforcing the last valid config. Fix it below and save.</p>
    </Callout>
  );
}

/** Someone saved while this draft was open: load theirs, or save and combine at review. */
function ConflictNotice({ newer, onLoad }: { newer: EditableConfig; onLoad: () => void }) {
  return (
    <Callout
      tone="warning"
      title={`Revision ${newer.revision} was saved while you were editing`}
      actions={
        <Button size="sm" onClick={onLoad}>
          Discard my changes and load revision {newer.revision}
        </Button>
      }
    >
      {newer.author ? `Saved by ${newer.author}. ` : ""}When you save, you will see their change
      next to yours and choose how to combine them.
    </Callout>
  );
}

/** What the editor says above the form: read-only, an invalid stored config, a newer revision, the rollout. */
export function ConfigNotices({
  viewer,
  invalidStored,
  newer,
  onLoadNewer,
  rollout,
  aborted,
}: {
  viewer: boolean;
  /** The stored revision being edited does not validate. */
  invalidStored: EditableConfig | null;
  newer: EditableConfig | null;
  onLoadNewer: (newer: EditableConfig) => void;
  rollout: Rollout | null;
  /** The revision whose abort `rollout` reverts (abortedBehind); null: none. */
  aborted: number | null;
}) {
  return (
    <>
      {viewer ? (
        <Callout tone="info" title="Read-only">
          You are signed in as a viewer: you can see the config but not change it.
        </Callout>
      ) : null}
      {invalidStored ? <InvalidStoredNotice errors={invalidStored.errors} /> : null}
      {newer ? <ConflictNotice newer={newer} onLoad={() => onLoadNewer(newer)} /> : null}
      {rollout ? (
        <div className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900">
          <RolloutProgress rollout={rollout} aborted={aborted} />
        </div>
      ) : null}
    </>
  );
}
