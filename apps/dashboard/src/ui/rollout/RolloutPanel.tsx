"use client";
// The staged rollout of the newest change, live: its phase in Argo Rollouts' words, why it
// waits, each wave's applied / pending / failed nodes, who did what, and the operator's moves.
import type { RolloutWaveView, StagedRolloutView } from "@masq/shared";
import { useMutation } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { Dialog } from "../components/Dialog";
import { serverNow } from "../components/Time";
import { useStagedRollout } from "../live/live";
import { useCanEdit } from "../shell/me";
import { nextWaveText, type PhaseBadge, phaseBadge } from "./rollout-phase";
import { waveState } from "./wave-state";

const PHASE_CLASS: Record<PhaseBadge, string> = {
  progressing: "bg-sky-100 text-sky-900 dark:bg-sky-500/20 dark:text-sky-100",
  waiting: "bg-indigo-100 text-indigo-900 dark:bg-indigo-500/20 dark:text-indigo-100",
  paused: "bg-amber-100 text-amber-900 dark:bg-amber-500/20 dark:text-amber-100",
  aborted: "bg-red-100 text-red-900 dark:bg-red-500/20 dark:text-red-100",
  healthy: "bg-emerald-100 text-emerald-900 dark:bg-emerald-500/20 dark:text-emerald-100",
  degraded: "bg-red-100 text-red-900 dark:bg-red-500/20 dark:text-red-100",
};

/**
 * A timed wait's "next wave in 1 min 20 s", ticking each second on the dashboard's clock; the
 * absolute time, in the browser's locale and time zone, in its tooltip. Client-only (no
 * hydration mismatch).
 */
function NextWave({ until }: { until: number }) {
  const [now, setNow] = useState(0);
  useEffect(() => {
    setNow(serverNow());
    const t = setInterval(() => setNow(serverNow()), 1000);
    return () => clearInterval(t);
  }, []);
  if (now === 0) return null;
  return (
    <time
      dateTime={new Date(until).toISOString()}
      title={`next wave at ${new Date(until).toLocaleString()}`}
      className="tabular-nums"
    >
      {nextWaveText(until, now)}
    </time>
  );
}

function NodeList({ label, names, cls }: { label: string; names: string[]; cls: string }) {
  if (names.length === 0) return null;
  return (
    <p className="text-xs">
      <span className={`font-medium ${cls}`}>{label}:</span>{" "}
      <span className="font-mono break-all">{names.join(", ")}</span>
    </p>
  );
}

function Wave({ w, r }: { w: RolloutWaveView; r: StagedRolloutView }) {
  const pct = w.total === 0 ? 100 : Math.round((w.applied / w.total) * 100);
  const more = (shown: number, count: number) => (count > shown ? ` (+${count - shown} more)` : "");
  return (
    <li
      aria-label={`${w.name}: ${w.applied} of ${w.total} applied`}
      className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800"
    >
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
        <span className="font-semibold capitalize">{w.name}</span>
        <span className="text-zinc-600 tabular-nums dark:text-zinc-400">{waveState(w, r)}</span>
      </div>
      <div className="mt-2 h-1.5 overflow-hidden rounded-full bg-zinc-100 dark:bg-zinc-800">
        <div
          className={`h-full ${w.failed > 0 ? "bg-red-500" : "bg-emerald-500"}`}
          style={{ width: `${w.released ? pct : 0}%` }}
        />
      </div>
      <div className="mt-2 space-y-0.5">
        <NodeList
          label={`Failed${more(w.failedNodes.length, w.failed)}`}
          names={w.failedNodes.map((n) => `${n.name} (${n.reason})`)}
          cls="text-red-700 dark:text-red-400"
        />
        {w.released ? (
          <NodeList
            label={`Pending${more(w.pendingNodes.length, w.pending)}`}
            names={w.pendingNodes}
            cls="text-zinc-700 dark:text-zinc-300"
          />
        ) : null}
        <NodeList
          label={`Applied${more(w.appliedNodes.length, w.applied)}`}
          names={w.appliedNodes}
          cls="text-emerald-700 dark:text-emerald-400"
        />
      </div>
    </li>
  );
}

/** What the previous revision is to the nodes now: kept by those not reached, or history. */
function previousText(r: StagedRolloutView): string {
  return r.phase === "progressing" || r.phase === "paused"
    ? `nodes not reached keep revision ${r.previousRevision}`
    : `from revision ${r.previousRevision}`;
}

type Action = "promote" | "promote-full" | "retry" | "abort";

/** How long a move's buttons wait for the stream to bring the view after it. */
const AWAIT_VIEW_MS = 5000;

/**
 * A move answered: until the stream brings the view after it (a new `staged-rollout` object)
 * its buttons stay off, so a second click cannot promote a wave the first already released.
 * Bounded: a move asked of another replica's rollout may show later.
 */
function useAwaitingView(r: StagedRolloutView) {
  const [answeredOn, setAnsweredOn] = useState<StagedRolloutView | null>(null);
  useEffect(() => {
    if (!answeredOn) return;
    const t = setTimeout(() => setAnsweredOn(null), AWAIT_VIEW_MS);
    return () => clearTimeout(t);
  }, [answeredOn]);
  return { awaiting: answeredOn === r, answered: (seen: StagedRolloutView) => setAnsweredOn(seen) };
}

function Actions({ r, onAbort }: { r: StagedRolloutView; onAbort: () => void }) {
  const view = useAwaitingView(r);
  const m = useMutation({
    mutationFn: ({ action }: { action: Action; seen: StagedRolloutView }) =>
      action === "promote-full"
        ? endpoints.rolloutAction("promote", { full: true })
        : endpoints.rolloutAction(action),
    // The panel renders the stream's view (the same batch as the fleet bar), not this answer:
    // an answer can reach the page after an event made later.
    onSuccess: (_body, { seen }) => view.answered(seen),
  });
  const act = (action: Action) => m.mutate({ action, seen: r });
  const open = r.phase === "progressing" || r.phase === "paused";
  if (!open) return null;
  // Held (staged rollouts refused: leader election off, or Leases not listed): no move is offered.
  const held = r.held !== undefined;
  // A move answers once its state is stored (a moment): not asked twice meanwhile.
  const busy = m.isPending || view.awaiting;
  const last = held || busy || r.step >= r.waves.length - 1;
  const failed = !held && !busy && r.waves.some((w) => w.failed > 0);
  return (
    <div className="flex flex-wrap items-center gap-2">
      <Button size="sm" variant="primary" disabled={last} onClick={() => act("promote")}>
        Promote
      </Button>
      <Button size="sm" disabled={last} onClick={() => act("promote-full")}>
        Promote to the end
      </Button>
      <Button size="sm" disabled={!failed} onClick={() => act("retry")}>
        Retry failed nodes
      </Button>
      <Button size="sm" variant="danger" disabled={held} onClick={onAbort}>
        Abort
      </Button>
      {held ? (
        <span className="text-xs text-zinc-600 dark:text-zinc-400">
          To return every node to revision {r.previousRevision}, roll it back all at once in
          History.
        </span>
      ) : null}
      {/* The server's sentence: why the move was not made (e.g. another replica owns it). */}
      {m.isError ? (
        <span role="alert" className="text-sm text-red-700 dark:text-red-400">
          {errorMessage(m.error)}
        </span>
      ) : null}
      {m.data?.requested ? (
        <span role="status" className="text-xs text-zinc-600 dark:text-zinc-400">
          {m.data.requested}
        </span>
      ) : null}
    </div>
  );
}

function AbortDialog({ r, onClose }: { r: StagedRolloutView; onClose: () => void }) {
  const m = useMutation({ mutationFn: () => endpoints.rolloutAction("abort"), onSuccess: onClose });
  return (
    <Dialog
      open
      onClose={onClose}
      title="Abort the rollout?"
      description={
        <>
          Every node that applied revision {r.revision} returns to revision {r.previousRevision}.
          The stored config stays revision {r.revision} until the next save or rollback.
        </>
      }
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={m.isPending} onClick={() => m.mutate()}>
            Abort rollout
          </Button>
        </>
      }
    >
      {m.isError ? (
        <Callout tone="error" role="alert" title="Not aborted">
          {errorMessage(m.error)}
        </Callout>
      ) : (
        <p className="text-sm">Nodes not reached yet keep revision {r.previousRevision}.</p>
      )}
    </Dialog>
  );
}

export function RolloutPanel() {
  const canEdit = useCanEdit();
  const [aborting, setAborting] = useState(false);
  const r = useStagedRollout();
  if (!r) return null;
  const lastAction = r.actions.at(-1);
  const badge = phaseBadge(r);
  return (
    <section
      aria-label="Staged rollout"
      className="mb-4 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div className="min-w-0">
          <h2 className="flex flex-wrap items-center gap-2 text-sm font-semibold">
            Rollout of revision <span className="font-mono">{r.revision}</span>
            <span className={`rounded-full px-2 py-0.5 text-xs font-medium ${PHASE_CLASS[badge]}`}>
              {badge}
            </span>
          </h2>
          <p className="mt-1 text-sm" role="status">
            {r.message}
          </p>
          {badge === "waiting" && r.pause?.kind === "duration" ? (
            <p className="mt-0.5 text-sm font-medium">
              <NextWave until={r.pause.until} />
            </p>
          ) : null}
          <p className="mt-0.5 text-xs text-zinc-600 dark:text-zinc-400">
            Started by {r.startedBy}
            {r.previousRevision ? ` · ${previousText(r)}` : ""}
            {lastAction && lastAction.action !== "start"
              ? ` · last: ${lastAction.action} by ${lastAction.user}`
              : ""}
          </p>
        </div>
        {canEdit ? <Actions r={r} onAbort={() => setAborting(true)} /> : null}
      </div>
      <ol className="mt-3 grid gap-2 sm:grid-cols-2 lg:grid-cols-3">
        {r.waves.map((w) => (
          <Wave key={w.index} w={w} r={r} />
        ))}
      </ol>
      {aborting ? <AbortDialog r={r} onClose={() => setAborting(false)} /> : null}
    </section>
  );
}
