"use client";
// Save flow: the diff and what it means for traffic (server dry run), a confirm, and —
// when someone else saved meanwhile — their change shown next to mine, never overwritten.
import type {
  ConfigWrite,
  ConflictCurrent,
  MasqConfig,
  RolloutStrategy,
  SaveResponse,
} from "@masq/shared";
import { diffConfigs } from "@masq/shared";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ApiError, errorMessage } from "../api/client";
import type { EditableConfig } from "../api/endpoints";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { Dialog } from "../components/Dialog";
import { DiffChips } from "../components/DiffChips";
import { ArrowRightIcon, SpinnerIcon } from "../components/icons";
import { RelativeTime } from "../components/Time";
import { ImpactList } from "../rollout/ImpactList";
import { RolloutReviewNotes } from "../rollout/RolloutReviewNotes";
import { StrategyPicker, useStrategyDraft } from "../rollout/StrategyPicker";
import { MergeNotice } from "../sources/MergeNotice";
import { reviewBaseline } from "./review-baseline";

export type ReviewPayload =
  | { kind: "config"; config: MasqConfig }
  | { kind: "yaml"; yaml: string; config: MasqConfig };

function validateBody(p: ReviewPayload): { yaml: string } | { config: MasqConfig } {
  return p.kind === "yaml" ? { yaml: p.yaml } : { config: p.config };
}

/** The save request: the base resourceVersion, the note when there is one, the rollout strategy. */
function writeOf(
  body: { yaml: string } | { config: MasqConfig },
  resourceVersion: string,
  message: string,
  strategy: RolloutStrategy | null,
): ConfigWrite {
  return {
    ...body,
    resourceVersion,
    ...(message.trim() ? { message: message.trim() } : {}),
    ...(strategy ? { strategy } : {}),
  };
}

export function ReviewDialog({
  open,
  base,
  latest,
  payload,
  onClose,
  onSaved,
  onReloadTheirs,
  onRebase,
}: {
  open: boolean;
  base: EditableConfig;
  /** The newest revision known (live events): when it is not `base`, show the conflict at once. */
  latest: EditableConfig;
  payload: ReviewPayload;
  onClose: () => void;
  /** `strategy`: how the save rolls out, as sent. */
  onSaved: (r: SaveResponse) => void;
  onReloadTheirs: (current: ConflictCurrent) => void;
  onRebase: (current: ConflictCurrent) => void;
}) {
  const [message, setMessage] = useState("");
  const strategy = useStrategyDraft(base.rolloutStrategy, base.stagedRefusal ?? null);
  const [conflict, setConflict] = useState<ConflictCurrent | null>(() =>
    latest.resourceVersion !== base.resourceVersion && latest.valid
      ? {
          resourceVersion: latest.resourceVersion,
          revision: latest.revision,
          yaml: latest.yaml,
          config: latest.config,
          author: latest.author,
          updatedAt: latest.updatedAt,
        }
      : null,
  );
  const messageId = useId();
  const body = validateBody(payload);
  const validation = useQuery({
    queryKey: ["validate", base.resourceVersion, body],
    queryFn: () => endpoints.validate(body),
    enabled: open && !conflict,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () => {
      return endpoints.saveConfig(writeOf(body, base.resourceVersion, message, strategy.value));
    },
    // How it rolls out is the server's answer: a save naming no strategy follows an unfinished
    // staged rollout, not only the default.
    onSuccess: (r) => onSaved(r),
    onError: (e) => {
      if (e instanceof ApiError && e.status === 409 && e.body?.current) setConflict(e.body.current);
    },
  });

  const close = () => {
    setConflict(null);
    save.reset();
    onClose();
  };

  if (conflict) {
    const theirs = conflict.config ? diffConfigs(base.config, conflict.config) : null;
    const mine = diffConfigs(base.config, payload.config);
    return (
      <Dialog
        open={open}
        onClose={close}
        wide
        title="Someone else saved a change"
        description={
          <>
            Someone else saved revision <strong className="font-mono">{conflict.revision}</strong>{" "}
            while you were editing
            {conflict.author ? (
              <>
                {" "}
                (by {conflict.author}, <RelativeTime value={conflict.updatedAt} />)
              </>
            ) : null}
            . Nothing was overwritten.
          </>
        }
        footer={
          <>
            <Button key="cancel" onClick={close}>
              Cancel
            </Button>
            <Button
              key="reload"
              onClick={() => {
                setConflict(null);
                save.reset();
                onReloadTheirs(conflict);
              }}
            >
              Reload their version
            </Button>
            <Button
              key="rebase"
              variant="primary"
              disabled={!conflict.config}
              title={conflict.config ? undefined : "Their revision is not a valid config"}
              onClick={() => {
                setConflict(null);
                save.reset();
                onRebase(conflict);
              }}
              icon={<ArrowRightIcon className="size-4" />}
            >
              Re-apply my changes on top
            </Button>
          </>
        }
      >
        <div className="space-y-5">
          <section>
            <h3 className="mb-2 text-sm font-semibold">
              Their change (revision {base.revision} → {conflict.revision})
            </h3>
            {theirs ? (
              <DiffChips diff={theirs} scalars={theirs.scalars} />
            ) : (
              <>
                <p className="mb-2 text-sm text-red-700 dark:text-red-400">
                  Their revision is not a valid config; its text is:
                </p>
                <pre className="overflow-x-auto rounded-lg bg-zinc-50 p-3 font-mono text-xs dark:bg-zinc-950">
                  {conflict.yaml}
                </pre>
              </>
            )}
          </section>
          <section>
            <h3 className="mb-2 text-sm font-semibold">Your changes</h3>
            <DiffChips diff={mine} scalars={mine.scalars} />
          </section>
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            <strong>Reload their version</strong> drops your edits.{" "}
            <strong>Re-apply my changes on top</strong> adds and removes the same CIDRs and sets the
            same values on their revision, then shows you the result to review again.
          </p>
        </div>
      </Dialog>
    );
  }

  const v = validation.data;
  // After an aborted rollout nodes run the stable revision, not the stored one: what changes
  // is the server's diff against what they run.
  const baseline = reviewBaseline(base.revision, base.desiredRevision, base.abortedRevision);
  const diff =
    baseline.aborted === null ? diffConfigs(base.config, payload.config) : (v?.diff ?? null);
  const saveError =
    save.error && !(save.error instanceof ApiError && save.error.status === 409)
      ? save.error
      : null;
  const serverErrors =
    v && !v.ok ? v.errors : saveError instanceof ApiError ? (saveError.body?.errors ?? []) : [];
  return (
    <Dialog
      open={open}
      onClose={close}
      wide
      title="Review changes"
      description={
        <>
          {baseline.sentence} Nodes apply it as soon as it is saved, all at once or in waves as
          chosen below.
        </>
      }
      footer={
        <>
          <Button key="cancel" onClick={close}>
            Cancel
          </Button>
          <Button
            key="save"
            variant="primary"
            busy={save.isPending}
            disabled={validation.isPending || (v !== undefined && !v.ok) || strategy.error !== null}
            onClick={() => save.mutate()}
          >
            Save changes
          </Button>
        </>
      }
    >
      <div className="space-y-5">
        <section>
          <h3 className="mb-2 text-sm font-semibold">What changes</h3>
          {diff ? (
            <DiffChips diff={diff} scalars={diff.scalars} empty="Only formatting changes" />
          ) : (
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              {validation.isError
                ? `Not known: the comparison with revision ${baseline.revision} failed.`
                : `Comparing with revision ${baseline.revision}, which nodes run…`}
            </p>
          )}
        </section>
        <section aria-live="polite">
          <h3 className="mb-2 text-sm font-semibold">What it means for traffic</h3>
          {validation.isPending ? (
            <p className="flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
              <SpinnerIcon className="size-4" /> Working out the impact on the fleet…
            </p>
          ) : validation.isError ? (
            <Callout tone="warning">
              The impact could not be computed: {errorMessage(validation.error)}. You can still
              save.
            </Callout>
          ) : v?.merge && !v.merge.pushable ? (
            // The sources conflict: nodes keep the last good merge, so no impact is true now.
            <p className="text-sm text-zinc-600 dark:text-zinc-400">
              None for now: while the config sources conflict, nodes keep the last good merged
              config (see below).
            </p>
          ) : v ? (
            <ImpactList impact={v.impact} />
          ) : null}
        </section>
        <MergeNotice v={v} />
        {v && v.warnings.length > 0 ? (
          <Callout tone="warning" title="Warnings">
            <ul className="list-disc pl-4">
              {v.warnings.map((w) => (
                <li key={w.message}>{w.message}</li>
              ))}
            </ul>
          </Callout>
        ) : null}
        {serverErrors.length > 0 ? (
          <Callout tone="error" role="alert" title="The dashboard refused this config">
            <ul className="list-disc pl-4">
              {serverErrors.map((e) => (
                <li key={e.message}>{e.message}</li>
              ))}
            </ul>
          </Callout>
        ) : saveError ? (
          <Callout tone="error" role="alert" title="Not saved">
            {errorMessage(saveError)}
          </Callout>
        ) : null}
        <StrategyPicker draft={strategy} />
        <RolloutReviewNotes strategy={strategy.value} />
        <div>
          <label htmlFor={messageId} className="mb-1 block text-sm font-medium">
            Change note{" "}
            <span className="font-normal text-zinc-500">(optional, shown in History)</span>
          </label>
          <input
            id={messageId}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            maxLength={200}
            placeholder="e.g. keep pod IPs towards the CGNAT range"
            className="h-9 w-full rounded-md border-0 bg-white px-3 text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:ring-zinc-700"
          />
        </div>
      </div>
    </Dialog>
  );
}
