"use client";
// Edits one config source other than ip-masq-agent's `config` (a key of another ConfigMap, or a
// file): its text, then a review of what the merge becomes (the server's dry run: merged diff,
// what changes for traffic, conflicts it would add), then a save with the revision it was read
// at (someone else's edit meanwhile is a 409, never overwritten).
import type { SourceResponse, SourceValidateResponse } from "@masq/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { ApiError, errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { DiffChips } from "../components/DiffChips";
import { ErrorState, LoadingBlock, Skeleton } from "../components/States";
import { useToast } from "../components/Toaster";
import { impactSentence, savedSentence } from "../config/draft";
import { IssueLine } from "../config/Issues";
import { useCanEdit } from "../shell/me";
import { MergeNotice } from "./MergeNotice";

function Preview({ v }: { v: SourceValidateResponse }) {
  if (!v.ok)
    return (
      <div role="alert" className="space-y-1">
        {v.errors.map((e) => (
          <IssueLine key={e.message} issue={e} tone="error" />
        ))}
      </div>
    );
  return (
    <section className="space-y-3" aria-label="Merged result">
      <MergeNotice v={v} />
      <div>
        <h3 className="mb-1 text-sm font-semibold">
          {v.merge?.held || v.merge?.pushable === false
            ? "The merge, compared with what nodes run (no node gets it yet)"
            : "What nodes get (merged), compared with what they run"}
        </h3>
        <DiffChips diff={v.diff} scalars={v.diff.scalars} />
      </div>
      {v.impact.destinations.length > 0 ? (
        <ul className="list-disc space-y-1 pl-5 text-sm" aria-label="Impact">
          {v.impact.destinations.map((d) => (
            <li key={`${d.change}-${d.cidr}`}>{impactSentence(d)}</li>
          ))}
        </ul>
      ) : null}
      {v.warnings.map((w) => (
        <IssueLine key={w.message} issue={w} tone="warning" />
      ))}
    </section>
  );
}

/** Why a save failed: someone else's edit (409: load theirs), or the server's sentence. */
function SaveError({ error, sourceId }: { error: Error | null; sourceId: string }) {
  const qc = useQueryClient();
  if (!error) return null;
  if (error instanceof ApiError && error.status === 409 && error.body?.current)
    return (
      <Callout
        tone="warning"
        role="alert"
        title="Someone else changed this source meanwhile; nothing was overwritten"
        actions={
          <Button onClick={() => void qc.invalidateQueries({ queryKey: ["source", sourceId] })}>
            Load their version
          </Button>
        }
      />
    );
  return (
    <Callout tone="error" role="alert">
      {errorMessage(error)}
    </Callout>
  );
}

function SourceText(p: {
  label: string;
  canEdit: boolean;
  yaml: string;
  onChange: (yaml: string) => void;
}) {
  const id = useId();
  return (
    <>
      <label htmlFor={id} className="block text-sm font-medium">
        {p.label}{" "}
        <span className="font-normal text-zinc-500">
          ({p.canEdit ? "YAML or JSON, upstream format" : "read only: not an editable source"})
        </span>
      </label>
      <textarea
        id={id}
        value={p.yaml}
        readOnly={!p.canEdit}
        onChange={(e) => p.onChange(e.target.value)}
        rows={Math.min(24, Math.max(8, p.yaml.split("\n").length + 2))}
        spellCheck={false}
        className="block w-full rounded-md border-0 bg-zinc-50 p-3 font-mono text-sm leading-6 ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-950 dark:ring-zinc-700"
      />
    </>
  );
}

function Editor({ src }: { src: SourceResponse }) {
  const qc = useQueryClient();
  const toast = useToast();
  const canEdit = useCanEdit() && src.editable;
  const [yaml, setYaml] = useState(src.yaml);
  const [message, setMessage] = useState("");
  const [reviewed, setReviewed] = useState<string | null>(null);
  const review = useQuery({
    queryKey: ["validate-source", src.id, reviewed],
    queryFn: () => endpoints.validateSource(src.id, { yaml: reviewed! }),
    enabled: reviewed !== null,
    staleTime: 0,
    gcTime: 0,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () =>
      endpoints.saveSource(src.id, {
        yaml,
        resourceVersion: src.resourceVersion,
        ...(message.trim() ? { message: message.trim() } : {}),
      }),
    onSuccess: (r) => {
      // A source's save names no strategy: the server says how the merged revision rolls out.
      toast("success", savedSentence(src.label, r));
      setReviewed(null);
      void qc.invalidateQueries({ queryKey: ["config"] });
      void qc.invalidateQueries({ queryKey: ["source", src.id] });
    },
  });
  const blocked = !review.data?.ok || (review.data?.newConflicts.length ?? 0) > 0;
  return (
    <div className="space-y-3 p-4">
      <SourceText
        label={src.label}
        canEdit={canEdit}
        yaml={yaml}
        onChange={(text) => {
          setYaml(text);
          setReviewed(null);
        }}
      />
      {canEdit ? (
        <div className="flex flex-wrap items-center gap-2">
          <Button disabled={yaml === src.yaml} onClick={() => setReviewed(yaml)}>
            Review merged result
          </Button>
          <input
            aria-label="Change message"
            placeholder="What changed and why (optional)"
            value={message}
            maxLength={200}
            onChange={(e) => setMessage(e.target.value)}
            className="h-9 min-w-0 flex-1 rounded-md border-0 px-3 text-sm ring-1 ring-zinc-300 ring-inset dark:bg-zinc-950 dark:ring-zinc-700"
          />
          <Button
            variant="primary"
            busy={save.isPending}
            disabled={reviewed !== yaml || blocked}
            onClick={() => save.mutate()}
          >
            Save {src.source.name}
          </Button>
        </div>
      ) : null}
      {review.isPending && reviewed !== null ? (
        <p className="text-sm">Computing the merge…</p>
      ) : null}
      {review.data ? <Preview v={review.data} /> : null}
      {review.error ? <Callout tone="error">{errorMessage(review.error)}</Callout> : null}
      <SaveError error={save.error} sourceId={src.id} />
    </div>
  );
}

/** The editor of the source `id` (a sourceId), loading it first. */
export function SourceEditor({ id }: { id: string }) {
  const q = useQuery({
    queryKey: ["source", id],
    queryFn: ({ signal }) => endpoints.source(id, signal),
  });
  if (q.isPending)
    return (
      <LoadingBlock label="Loading the source…">
        <Skeleton className="h-48 w-full" />
      </LoadingBlock>
    );
  if (q.isError)
    return <ErrorState error={q.error} what="the source" onRetry={() => void q.refetch()} />;
  return (
    <div className="rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900">
      <Editor key={q.data.resourceVersion} src={q.data} />
    </div>
  );
}
