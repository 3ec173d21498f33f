"use client";
import type { Revision, RollbackImpactResponse, RolloutStrategy } from "@masq/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { ApiError, errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { Dialog } from "../components/Dialog";
import { DiffChips } from "../components/DiffChips";
import { HistoryIcon, UndoIcon } from "../components/icons";
import { EmptyState, ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { RelativeTime } from "../components/Time";
import { useToast } from "../components/Toaster";
import { absoluteTime, toMillis } from "../components/time";
import { rolledBackSentence } from "../config/draft";
import { useStagedRollout } from "../live/live";
import { useRefetchOnLive } from "../live/refetch-on-live";
import { RolloutReviewNotes } from "../rollout/RolloutReviewNotes";
import { StrategyPicker, useStrategyDraft } from "../rollout/StrategyPicker";
import { useCanEdit } from "../shell/me";
import { CompareBody, ComparePanel } from "./ComparePanel";
import { unchangedRollbackNote } from "./rollback-note";
import { rolloutActionsSummary } from "./rollout-summary";

/** The strategy picker of the rollback dialog, reporting a valid strategy (or null). */
function RollbackStrategy({
  initial,
  refusal,
  onChange,
}: {
  initial: RolloutStrategy | undefined;
  /** Why waves cannot be picked now (other dashboard replicas are active), if so. */
  refusal: string | null;
  onChange: (s: RolloutStrategy | null) => void;
}) {
  const draft = useStrategyDraft(initial, refusal);
  useEffect(() => onChange(draft.value), [draft.value, onChange]);
  return <StrategyPicker draft={draft} />;
}

/** Who started, paused, promoted or aborted the revision's rollout, and when. */
function RolloutActions({ rollout }: { rollout: NonNullable<Revision["rollout"]> }) {
  return (
    <details className="mt-3 text-sm">
      <summary className="cursor-pointer text-zinc-700 dark:text-zinc-300">
        {rolloutActionsSummary(rollout)}
      </summary>
      <ol className="mt-2 space-y-1">
        {rollout.actions.map((a) => (
          <li key={`${a.time}-${a.action}-${a.detail}`} className="text-xs">
            <span className="font-medium">{a.action}</span> by {a.user} ·{" "}
            <RelativeTime value={a.time} /> · {a.detail}
          </li>
        ))}
      </ol>
    </details>
  );
}

/** Every staged rollout of a revision (with other sources, of merges made from it), newest first. */
function RevisionRollouts({ rev }: { rev: Revision }) {
  const rollouts = rev.rollouts ?? (rev.rollout ? [rev.rollout] : []);
  return rollouts.map((r) => <RolloutActions key={r.resourceVersion} rollout={r} />);
}

function RollbackDialog({
  target,
  current,
  onClose,
}: {
  target: Revision;
  current: Revision;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const toast = useToast();
  const config = useQuery({
    queryKey: ["config"],
    queryFn: ({ signal }) => endpoints.config(signal),
  });
  const m = useMutation({
    mutationFn: (strategy?: RolloutStrategy) =>
      endpoints.rollback(target.resourceVersion, current.resourceVersion, strategy),
    onSuccess: (r) => {
      toast("success", rolledBackSentence(r.revision, target.revision, r));
      void qc.invalidateQueries({ queryKey: ["history"] });
      void qc.invalidateQueries({ queryKey: ["config"] });
      onClose();
    },
  });
  const [strategy, setStrategy] = useState<RolloutStrategy | null>(null);
  const impact = useRollbackImpact(target, current);
  const same = impact.data ? unchangedRollbackNote(impact.data) !== null : false;
  const conflict =
    m.error instanceof ApiError && m.error.status === 409 ? m.error.body?.current : undefined;
  return (
    <Dialog
      open
      wide
      onClose={onClose}
      title={`Roll back to revision ${target.revision}?`}
      description={
        same ? (
          <>
            This saves a new revision with the config of revision {target.revision}, the one nodes
            run now: nothing changes on them. Revision {current.revision} stays in the history.
          </>
        ) : (
          <>
            This saves a new revision with the config of revision {target.revision}; every node
            applies it, at once or in waves as chosen below. Revision {current.revision} stays in
            the history.
          </>
        )
      }
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="danger"
            busy={m.isPending}
            disabled={Boolean(conflict) || !config.data}
            onClick={() => m.mutate(strategy ?? undefined)}
            icon={<UndoIcon className="size-4" />}
          >
            Roll back
          </Button>
        </>
      }
    >
      <RollbackImpact target={target} current={current} />
      {config.data ? (
        <div className="mt-4">
          <RollbackStrategy
            initial={config.data.rolloutStrategy}
            refusal={config.data.stagedRefusal ?? null}
            onChange={setStrategy}
          />
          <RolloutReviewNotes strategy={strategy} />
        </div>
      ) : null}
      {conflict ? (
        <Callout
          tone="warning"
          role="alert"
          className="mt-4"
          title={`Someone else saved revision ${conflict.revision} meanwhile`}
        >
          Nothing was changed. Close this dialog: the list now shows their revision; roll back again
          from there if you still want to.
        </Callout>
      ) : m.isError ? (
        <Callout tone="error" role="alert" className="mt-4" title="Not rolled back">
          {errorMessage(m.error)}
        </Callout>
      ) : null}
    </Dialog>
  );
}

/**
 * What a rollback changes on the nodes, as the server computed it: from what they run (after an
 * aborted rollout the stable revision; with several sources the merge) to what they would get.
 */
function RollbackImpact({ target, current }: { target: Revision; current: Revision }) {
  const q = useRollbackImpact(target, current);
  if (q.isPending) return <p className="text-sm text-zinc-500">Comparing…</p>;
  if (q.isError)
    return <ErrorState error={q.error} what="the comparison" onRetry={() => void q.refetch()} />;
  const c = q.data;
  const unchanged = unchangedRollbackNote(c);
  return (
    <>
      {unchanged ? (
        <Callout tone="info" className="mb-3" title="Same config as nodes run">
          {unchanged}
        </Callout>
      ) : null}
      <ImpactBody c={c} />
    </>
  );
}

/** The server's comparison of what nodes run with what the rollback would send them. */
function useRollbackImpact(target: Revision, current: Revision) {
  const r = useStagedRollout();
  return useQuery({
    // Asked again when what nodes run may have changed: a new save, an abort, a finished rollout.
    queryKey: [
      "rollback-impact",
      target.resourceVersion,
      current.resourceVersion,
      r?.phase,
      r?.aborted,
    ],
    queryFn: ({ signal }) => endpoints.rollbackImpact(target.resourceVersion, signal),
  });
}

function ImpactBody({ c }: { c: RollbackImpactResponse }) {
  return (
    <>
      <h3 className="mb-2 text-sm font-semibold">What changes compared with what nodes run</h3>
      {c.known ? (
        <>
          {c.refusal ? (
            <Callout tone="warning" className="mb-2" title="This rollback would be refused">
              {c.refusal}
            </Callout>
          ) : null}
          <CompareBody
            fromLabel={`Nodes run (revision ${c.from.revision})`}
            toLabel={c.merged ? `Revision ${c.to.revision}, merged` : `Revision ${c.to.revision}`}
            notes={c.notes}
            keys={c.keys}
            diff={c.diff}
            impact={c.impact}
          />
        </>
      ) : (
        <p className="text-sm text-zinc-500">Not known: {c.reason}.</p>
      )}
    </>
  );
}

function RevisionItem({
  rev,
  current,
  isCurrent,
  canEdit,
  onRollback,
}: {
  rev: Revision;
  current?: Revision;
  isCurrent: boolean;
  canEdit: boolean;
  onRollback: () => void;
}) {
  const [open, setOpen] = useState(false);
  const ms = toMillis(rev.time);
  return (
    <li className="relative pl-8">
      <span
        className={`absolute top-1 left-0 grid size-5 place-items-center rounded-full ring-4 ring-zinc-50 dark:ring-zinc-950 ${isCurrent ? "bg-indigo-600 text-white" : "bg-zinc-300 dark:bg-zinc-700"}`}
        aria-hidden="true"
      >
        {isCurrent ? <span className="size-1.5 rounded-full bg-white" /> : null}
      </span>
      <article
        aria-label={`Revision ${rev.revision}`}
        className={`rounded-xl border bg-white p-4 dark:bg-zinc-900 ${isCurrent ? "border-indigo-300 dark:border-indigo-500/50" : "border-zinc-200 dark:border-zinc-800"}`}
      >
        <div className="flex flex-wrap items-start justify-between gap-3">
          <div className="min-w-0">
            <h2 className="flex flex-wrap items-center gap-2 text-sm font-semibold text-zinc-900 dark:text-zinc-100">
              Revision <span className="font-mono">{rev.revision}</span>
              {rev.valid === false ? (
                <span className="rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium text-red-800 dark:bg-red-500/20 dark:text-red-200">
                  invalid, not pushed to nodes
                </span>
              ) : null}
              {isCurrent ? (
                <span className="rounded-full bg-indigo-100 px-2 py-0.5 text-xs font-medium text-indigo-800 dark:bg-indigo-500/20 dark:text-indigo-200">
                  current
                </span>
              ) : null}
            </h2>
            <p className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">
              {rev.author || "unknown"} · <RelativeTime value={rev.time} />
              {ms !== null ? (
                <span className="ml-1 text-zinc-500">({absoluteTime(ms)})</span>
              ) : null}
            </p>
            {rev.message ? (
              <p className="mt-1 text-sm text-zinc-800 dark:text-zinc-200">{rev.message}</p>
            ) : null}
          </div>
          <div className="flex items-center gap-2">
            <Button
              size="sm"
              variant="ghost"
              onClick={() => setOpen((o) => !o)}
              aria-expanded={open}
            >
              {open ? "Hide YAML" : "Show YAML"}
            </Button>
            {!isCurrent && canEdit && current && rev.valid !== false ? (
              <Button
                size="sm"
                onClick={onRollback}
                icon={<UndoIcon className="size-3.5" />}
                aria-label={`Roll back to revision ${rev.revision}`}
              >
                Roll back
              </Button>
            ) : null}
          </div>
        </div>
        <div className="mt-3">
          <DiffChips diff={rev.diff} scalars={rev.diff.scalars} empty="First revision" />
        </div>
        <RevisionRollouts rev={rev} />
        {open ? (
          <>
            {/* The store's own version, when it is not the revision number (the ConfigMap's). */}
            {rev.resourceVersion !== String(rev.revision) ? (
              <p className="mt-3 text-xs text-zinc-500">
                resourceVersion <span className="font-mono">{rev.resourceVersion}</span>
              </p>
            ) : null}
            <pre className="mt-3 overflow-x-auto rounded-lg bg-zinc-50 p-3 font-mono text-xs text-zinc-800 dark:bg-zinc-950 dark:text-zinc-200">
              {rev.yaml}
            </pre>
          </>
        ) : null}
      </article>
    </li>
  );
}

export function HistoryView() {
  const canEdit = useCanEdit();
  const q = useQuery({ queryKey: ["history"], queryFn: ({ signal }) => endpoints.history(signal) });
  const [target, setTarget] = useState<Revision | null>(null);
  useRefetchOnLive(["config", "hello"], ["history"]);
  const header = (
    <PageHeader
      title="History"
      description="Every saved revision of the config, newest first. Roll back to any of them."
    />
  );
  if (q.isPending) {
    return (
      <>
        {header}
        <LoadingBlock label="Loading history…">
          <Skeleton className="h-24 w-full" />
          <Skeleton className="h-24 w-full" />
        </LoadingBlock>
      </>
    );
  }
  if (q.isError) {
    return (
      <>
        {header}
        <ErrorState error={q.error} what="the history" onRetry={() => void q.refetch()} />
      </>
    );
  }
  const revisions = q.data.revisions;
  const current = revisions[0];
  return (
    <>
      {header}
      {revisions.length === 0 ? (
        <EmptyState icon={<HistoryIcon className="size-10" />} title="No revisions yet">
          The first save of the config creates revision history here.
        </EmptyState>
      ) : (
        <>
          <ComparePanel revisions={revisions} />
          <ol className="relative space-y-4 before:absolute before:top-2 before:bottom-2 before:left-[9px] before:w-px before:bg-zinc-200 dark:before:bg-zinc-800">
            {revisions.map((r, i) => (
              <RevisionItem
                key={r.resourceVersion}
                rev={r}
                current={current}
                isCurrent={i === 0}
                canEdit={canEdit}
                onRollback={() => setTarget(r)}
              />
            ))}
          </ol>
        </>
      )}
      {target && current ? (
        <RollbackDialog target={target} current={current} onClose={() => setTarget(null)} />
      ) : null}
    </>
  );
}
