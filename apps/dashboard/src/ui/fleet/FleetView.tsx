"use client";
import type { FleetSummary, NodeStatus, NodeSummary } from "@masq/shared";
import { useCallback, useDeferredValue, useEffect, useMemo, useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { RefreshIcon, SearchIcon, ServerIcon, XIcon } from "../components/icons";
import { plural } from "../components/plural";
import { EmptyState, ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { useNow } from "../components/Time";
import { useToast } from "../components/Toaster";
import { useConnection, useFleetState } from "../live/live";
import { useResyncNode } from "../node/useResyncNode";
import { RolloutPanel } from "../rollout/RolloutPanel";
import { useCanEdit, useMe } from "../shell/me";
import { FleetConflictsNotice } from "../sources/FleetConflictsNotice";
import { bulkResyncButton, bulkResyncToasts } from "./bulk-resync";
import { FleetTable } from "./FleetTable";
import {
  describeFilter,
  type FleetFilter,
  type SeverityFilter,
  type SortKey,
  selectRows,
  worstSeverity,
} from "./filter";
import { firstNodeCommands, noReportersText } from "./no-reporters";
import { RolloutFilterSelect } from "./RolloutFilterSelect";
import { type AttentionCounts, SummaryBar } from "./SummaryBar";
import { isNodeStatus, statusLabel } from "./status";

function readUrlFilter(): FleetFilter {
  const p = new URLSearchParams(window.location.search);
  const s = p.get("status") ?? "";
  const v = p.get("severity");
  const severity: SeverityFilter = v === "critical" || v === "warning" ? v : "all";
  const rollout = p.get("rollout") ?? "all";
  return { status: isNodeStatus(s) ? s : "all", severity, q: p.get("q") ?? "", rollout };
}

function writeUrlFilter({ status, severity, q, rollout }: FleetFilter) {
  const p = new URLSearchParams();
  if (status !== "all") p.set("status", status);
  if (severity !== "all") p.set("severity", severity);
  if (rollout && rollout !== "all") p.set("rollout", rollout);
  if (q) p.set("q", q);
  const qs = p.toString();
  const url = `${window.location.pathname}${qs ? `?${qs}` : ""}`;
  if (url !== window.location.pathname + window.location.search)
    window.history.replaceState(window.history.state, "", url);
}

function NoReporters({ summary }: { summary: FleetSummary | null }) {
  const now = useNow();
  const text = noReportersText(summary, now);
  const [host, setHost] = useState("DASHBOARD_HOST:3000");
  const [scheme, setScheme] = useState<"ws" | "wss">("ws");
  useEffect(() => {
    setHost(window.location.host);
    setScheme(window.location.protocol === "https:" ? "wss" : "ws");
  }, []);
  return (
    <EmptyState icon={<ServerIcon className="size-10" />} title={text.title}>
      {text.reconnecting ? <p className="mb-3">{text.reconnecting}</p> : null}
      <p>
        Every node runs a reporter that reads its masquerade rules (the{" "}
        <code className="font-mono">IP-MASQ-AGENT</code> iptables chain, or the agent&apos;s
        nftables table) and keeps them as configured. In a cluster, install the Helm chart (it runs
        the reporter DaemonSet). On a single machine, give the node its own token (from this
        dashboard&apos;s data directory) and start its reporter:
      </p>
      <pre className="mt-3 rounded-lg bg-zinc-900 px-4 py-3 text-left font-mono text-xs break-all whitespace-pre-wrap text-zinc-100 dark:bg-black">
        <code>{firstNodeCommands(scheme, host).join("\n")}</code>
      </pre>
      <p className="mt-3">Nodes appear here within a second of connecting.</p>
    </EmptyState>
  );
}

function attentionOf(nodes: ReadonlyMap<string, NodeSummary>): AttentionCounts {
  const c: AttentionCounts = { critical: 0, warning: 0, silent: 0 };
  for (const n of nodes.values()) {
    const w = worstSeverity(n);
    if (w !== "none") c[w]++;
    if (n.liveness === "silent") c.silent++;
  }
  return c;
}

export function FleetView() {
  const state = useFleetState();
  const connection = useConnection();
  const me = useMe();
  const canEdit = useCanEdit();
  const toast = useToast();
  const resyncNode = useResyncNode();
  const [status, setStatus] = useState<NodeStatus | "all">("all");
  const [severity, setSeverity] = useState<SeverityFilter>("all");
  const [q, setQ] = useState("");
  const [rollout, setRollout] = useState("all");
  const [sort, setSort] = useState<SortKey>("name");
  const [pending, setPending] = useState<ReadonlySet<string>>(() => new Set());
  const [bulkBusy, setBulkBusy] = useState(false);
  const deferredQ = useDeferredValue(q);

  useEffect(() => {
    const f = readUrlFilter();
    setStatus(f.status);
    setSeverity(f.severity);
    setQ(f.q);
    setRollout(f.rollout ?? "all");
  }, []);

  const filter = useMemo(
    () => ({ status, severity, q: deferredQ, rollout }),
    [status, severity, deferredQ, rollout],
  );
  useEffect(() => writeUrlFilter(filter), [filter]);
  const attention = useMemo(() => attentionOf(state.nodes), [state.nodes]);
  const rows = useMemo(
    () => selectRows(state.nodes, state.names, filter, sort),
    [state.nodes, state.names, filter, sort],
  );

  const onResync = useCallback(
    async (name: string) => {
      setPending((p) => new Set(p).add(name));
      await resyncNode(name);
      setPending((p) => {
        const n = new Set(p);
        n.delete(name);
        return n;
      });
    },
    [resyncNode],
  );

  const resyncDrifted = async () => {
    setBulkBusy(true);
    try {
      const r = await endpoints.resync({ status: "drifted" });
      for (const [kind, text] of bulkResyncToasts(r)) toast(kind, text);
    } catch (e) {
      toast("error", `Resync failed: ${errorMessage(e)}`);
    } finally {
      setBulkBusy(false);
    }
  };

  const total = state.nodes.size;
  const bulk = bulkResyncButton(state.counts.drifted, state.summary?.driftedResync, canEdit);
  const filterText = describeFilter(filter, (s) => statusLabel(s));

  let body: React.ReactNode;
  if (!state.ready) {
    body =
      me.isError && connection !== "live" ? (
        <ErrorState error={me.error} what="the fleet" onRetry={() => window.location.reload()} />
      ) : (
        <LoadingBlock
          label="Loading nodes…"
          className="space-y-3 rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
        >
          {Array.from({ length: 6 }, (_, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: static placeholders
            <Skeleton key={i} className="h-8 w-full" />
          ))}
        </LoadingBlock>
      );
  } else if (total === 0) {
    body = <NoReporters summary={state.summary} />;
  } else {
    body =
      rows.length > 0 ? (
        <FleetTable
          rows={rows}
          totalRows={total}
          canEdit={canEdit}
          pending={pending}
          onResync={onResync}
          sort={sort}
          onSort={setSort}
        />
      ) : (
        <EmptyState title="No nodes match">
          <p>No node has {filterText}.</p>
          <Button
            className="mt-3"
            size="sm"
            onClick={() => {
              setStatus("all");
              setSeverity("all");
              setQ("");
              setRollout("all");
            }}
          >
            Clear filters
          </Button>
        </EmptyState>
      );
  }

  return (
    <>
      <PageHeader
        title="Fleet"
        description="Every node's masquerade rules (the agent's iptables chain, its nftables table, or a Windows node's ExceptionList) compared with the desired config, live."
        actions={
          me.data?.role === "viewer" ? (
            <span className="rounded-full bg-zinc-100 px-2.5 py-1 text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
              Read-only: viewers cannot resync
            </span>
          ) : (
            <Button
              variant="primary"
              disabled={bulk.disabled}
              busy={bulkBusy}
              onClick={() => void resyncDrifted()}
              icon={<RefreshIcon className="size-4" />}
              title={bulk.title}
            >
              {bulk.label}
            </Button>
          )
        }
      />
      {state.ready && connection === "reconnecting" ? (
        <Callout tone="warning" role="status" className="mb-4" title="Live updates interrupted">
          Reconnecting to the dashboard… what you see may be out of date.
        </Callout>
      ) : null}
      <FleetConflictsNotice />
      <RolloutPanel />
      {/* Zero counts before the first hello read as an empty fleet: the loading block says it. */}
      {state.ready ? (
        <SummaryBar
          counts={state.counts}
          attention={attention}
          severity={severity}
          onSeverity={setSeverity}
          total={total}
          revision={state.summary?.revision ?? null}
          desiredRevision={state.summary?.desiredRevision ?? null}
          abortedRevision={state.summary?.abortedRevision ?? null}
          rollout={state.summary?.rollout ?? null}
          selected={status}
          onSelect={setStatus}
        />
      ) : null}
      {state.ready && total === 0 ? null : (
        <div className="mb-3 flex flex-wrap items-center gap-3">
          <div className="relative w-full max-w-xs">
            <SearchIcon className="pointer-events-none absolute top-1/2 left-2.5 size-4 -translate-y-1/2 text-zinc-400" />
            <label htmlFor="node-search" className="sr-only">
              Search nodes by name
            </label>
            <input
              id="node-search"
              type="search"
              value={q}
              onChange={(e) => setQ(e.target.value)}
              placeholder="Search nodes by name"
              autoComplete="off"
              spellCheck={false}
              className="h-9 w-full rounded-md border-0 bg-white pr-8 pl-8 [&::-webkit-search-cancel-button]:appearance-none text-sm text-zinc-900 ring-1 ring-zinc-300 ring-inset placeholder:text-zinc-400 focus:ring-2 focus:ring-indigo-500 dark:bg-zinc-900 dark:text-zinc-100 dark:ring-zinc-700"
            />
            {q ? (
              <button
                type="button"
                aria-label="Clear search"
                onClick={() => setQ("")}
                className="absolute top-1/2 right-2 -translate-y-1/2 rounded p-0.5 text-zinc-400 hover:text-zinc-700 dark:hover:text-zinc-200"
              >
                <XIcon className="size-3.5" />
              </button>
            ) : null}
          </div>
          <RolloutFilterSelect nodes={state.nodes} value={rollout} onChange={setRollout} />
          {state.ready && total > 0 ? (
            <p className="text-sm text-zinc-600 dark:text-zinc-400" aria-live="polite">
              {rows.length === total
                ? plural(total, "node", "nodes", total.toLocaleString("en-US"))
                : `${rows.length.toLocaleString("en-US")} of ${plural(total, "node", "nodes", total.toLocaleString("en-US"))}`}
              {filterText ? ` · ${filterText}` : ""}
            </p>
          ) : null}
        </div>
      )}
      {body}
    </>
  );
}
