"use client";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect } from "react";
import { endpoints } from "../api/endpoints";
import { ArrowLeftIcon, ZapIcon } from "../components/icons";
import { ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { useFleetState } from "../live/live";
import { ChainsComparison } from "./ChainsComparison";
import { DifferencesCard } from "./DifferencesCard";
import { EventTimeline } from "./EventTimeline";
import { IpTester } from "./IpTester";
import { NodeFacts } from "./NodeFacts";
import { ResyncButton } from "./ResyncButton";
import { WindowsPanel } from "./WindowsPanel";

const CARD = "rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900";

function BackLink() {
  return (
    <Link
      href="/"
      className="mb-3 inline-flex items-center gap-1 text-sm text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
    >
      <ArrowLeftIcon className="size-3.5" /> All nodes
    </Link>
  );
}

function TesterCard({ name }: { name: string }) {
  return (
    <section aria-labelledby="tester-heading" className={CARD}>
      <h2 id="tester-heading" className="flex items-center gap-1.5 text-base font-semibold">
        <ZapIcon className="size-4 text-indigo-500" /> Would traffic be masqueraded?
      </h2>
      <p className="mt-0.5 mb-3 text-sm text-zinc-600 dark:text-zinc-400">
        Type a destination; the answer comes from this node&apos;s real rules.
      </p>
      <IpTester name={name} />
    </section>
  );
}

export function NodeView({ name }: { name: string }) {
  const qc = useQueryClient();
  const live = useFleetState().nodes.get(name);
  const q = useQuery({
    queryKey: ["node", name],
    queryFn: ({ signal }) => endpoints.node(name, signal),
  });

  // The fleet stream says this node changed: fetch its detail again.
  useEffect(() => {
    if (live) void qc.invalidateQueries({ queryKey: ["node", name] });
  }, [live, name, qc]);

  const detail = q.data;
  if (q.isPending) {
    return (
      <>
        <BackLink />
        <PageHeader title={name} />
        <LoadingBlock label="Loading node…">
          <Skeleton className="h-24 w-full" />
          <Skeleton className="h-64 w-full" />
        </LoadingBlock>
      </>
    );
  }
  if (q.isError || !detail) {
    return (
      <>
        <BackLink />
        <PageHeader title={name} />
        <ErrorState error={q.error} what={`node ${name}`} onRetry={() => void q.refetch()} />
      </>
    );
  }

  const node = { ...detail.node, ...(live ?? {}) };
  const windows = node.os === "windows";
  return (
    <>
      <BackLink />
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span className="break-all">{node.name}</span>
            <StatusBadge status={node.status} />
          </span>
        }
        description={<NodeFacts node={node} />}
        actions={
          <ResyncButton name={name} offline={node.status === "offline" || !node.connected} />
        }
      />
      <div className="grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-6">
          <DifferencesCard differences={detail.differences} observeMode={node.mode === "observe"} />
          {windows ? <WindowsPanel detail={detail} /> : <ChainsComparison detail={detail} />}
        </div>
        <div className="min-w-0 space-y-6">
          {windows ? null : <TesterCard name={name} />}
          <section aria-labelledby="events-heading" className={CARD}>
            <h2 id="events-heading" className="mb-3 text-base font-semibold">
              History of this node
            </h2>
            <EventTimeline events={detail.events} />
          </section>
        </div>
      </div>
    </>
  );
}
