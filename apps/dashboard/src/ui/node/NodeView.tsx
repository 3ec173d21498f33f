"use client";
// One node: what differs and what it means, desired vs actual rule by rule, the IP tester,
// when it heals on its own, its history. Everything is the server's node detail (shared
// node-view); when the node is not live the page says it shows the last known state.
import type { Freshness, NodeDetail } from "@masq/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useEffect, useRef } from "react";
import { endpoints } from "../api/endpoints";
import { ArrowLeftIcon, ZapIcon } from "../components/icons";
import { LastKnown, LivenessBadge, StaleNotice } from "../components/Liveness";
import { ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { noteServerTime, RelativeTime } from "../components/Time";
import { useFleetState } from "../live/live";
import { refetchForEvent } from "../live/refetch-on-live";
import { NodeRolloutNotice } from "../rollout/NodeRolloutNotice";
import { ChainsComparison } from "./ChainsComparison";
import { DifferencesCard } from "./DifferencesCard";
import { EventTimeline } from "./EventTimeline";
import { ForgetButton } from "./ForgetButton";
import { HealCard } from "./HealCard";
import { heldElsewhereNotes } from "./held-elsewhere";
import { IpTester, RulesSource } from "./IpTester";
import { CommandRow, KubectlCard } from "./KubectlCard";
import { NodeFacts } from "./NodeFacts";
import { ResyncButton } from "./ResyncButton";
import { WindowsPanel } from "./WindowsPanel";

type Held = NonNullable<NodeDetail["heldElsewhere"]>;

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

/** The command that opens the replica holding the node, with what it is for. */
function OpenHolder({ held }: { held: Held }) {
  const open = heldElsewhereNotes(held).open;
  if (open === null || held.portForward === null) return null;
  return (
    <div className="mt-3" data-testid="open-holder">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">{open}</p>
      <ul className="mt-1">
        <CommandRow
          c={{ title: `Replica ${held.replica} on localhost:8080`, command: held.portForward }}
        />
      </ul>
    </div>
  );
}

function TesterCard({ name, node, held }: { name: string; node: Freshness; held?: Held }) {
  return (
    <section aria-labelledby="tester-heading" className={CARD}>
      <h2 id="tester-heading" className="flex items-center gap-1.5 text-base font-semibold">
        <ZapIcon className="size-4 text-indigo-500" /> Would traffic be masqueraded?
      </h2>
      {held ? (
        <>
          <p className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">
            {heldElsewhereNotes(held).tester}
          </p>
          <OpenHolder held={held} />
        </>
      ) : (
        <>
          <p className="mt-0.5 mb-3 text-sm text-zinc-600 dark:text-zinc-400">
            Type a destination; the answer comes <RulesSource rules={node} />.
          </p>
          <IpTester name={name} rulesAt={node.lastReportAt} />
        </>
      )}
    </section>
  );
}

async function fetchNode(name: string, signal: AbortSignal): Promise<NodeDetail> {
  const d = await endpoints.node(name, signal);
  noteServerTime(d.serverTime);
  return d;
}

function Loaded({ name, detail }: { name: string; detail: NodeDetail }) {
  const live = useFleetState().nodes.get(name);
  const node = { ...detail.node, ...(live ?? {}) };
  // Optional fields a live row leaves out when there is nothing to say: the live row decides.
  const resyncUnavailable = live ? live.resyncUnavailable : detail.node.resyncUnavailable;
  const resyncCannotHeal = live ? live.resyncCannotHeal : detail.node.resyncCannotHeal;
  const place = live ? live.rollout : detail.rollout;
  const view = detail.view;
  const lastKnown = <LastKnown node={node} parens />;
  return (
    <>
      <BackLink />
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span className="break-all">{node.name}</span>
            <StatusBadge status={node.status} />
            <span className="text-sm font-normal">
              {node.liveness === "offline" ? (
                <span className="text-zinc-500 dark:text-zinc-400">
                  last seen <RelativeTime value={node.lastSeenAt} />
                </span>
              ) : (
                <LivenessBadge node={node} />
              )}
            </span>
          </span>
        }
        description={<NodeFacts node={node} />}
        actions={
          <span className="flex items-center gap-2">
            <ForgetButton name={name} offline={!node.connected} />
            <ResyncButton
              name={name}
              offline={!node.connected}
              unavailable={resyncUnavailable}
              cannotHeal={resyncCannotHeal}
            />
          </span>
        }
      />
      <StaleNotice node={node} />
      <NodeRolloutNotice place={place} />
      <div className="grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-6">
          <DifferencesCard
            differences={view?.report.differences ?? null}
            unavailable={detail.viewUnavailable}
            observeMode={node.mode === "observe"}
            node={node}
          />
          {node.os === "windows" ? (
            <WindowsPanel
              view={view?.os === "windows" ? view : null}
              unavailable={detail.viewUnavailable}
              lastKnown={lastKnown}
            />
          ) : (
            <ChainsComparison
              view={view?.os === "linux" ? view : null}
              unavailable={detail.viewUnavailable}
              lastKnown={lastKnown}
              resyncUnavailable={resyncUnavailable}
            />
          )}
          <KubectlCard name={name} className={CARD} />
        </div>
        <div className="min-w-0 space-y-6">
          {node.os === "windows" ? null : (
            <TesterCard name={name} node={node} held={detail.heldElsewhere} />
          )}
          <HealCard
            heal={detail.heal}
            status={node.status}
            cannotHeal={resyncCannotHeal !== undefined}
            notHealed={view?.os === "linux" ? view.notHealedByResync : []}
            lastApply={detail.lastApply}
          />
          <section aria-labelledby="events-heading" className={CARD}>
            <h2 id="events-heading" className="mb-3 text-base font-semibold">
              History of this node
            </h2>
            {detail.heldElsewhere ? (
              <p
                className="text-sm text-zinc-600 dark:text-zinc-400"
                data-testid="history-elsewhere"
              >
                {heldElsewhereNotes(detail.heldElsewhere).history}
              </p>
            ) : (
              <EventTimeline events={detail.events} />
            )}
          </section>
        </div>
      </div>
    </>
  );
}

export function NodeView({ name }: { name: string }) {
  const qc = useQueryClient();
  const live = useFleetState().nodes.get(name);
  const q = useQuery({
    queryKey: ["node", name],
    queryFn: ({ signal }) => fetchNode(name, signal),
  });

  // The fleet stream says this node changed: fetch its detail again, with an answer made after
  // the change (a first fetch still out is not joined: refetch-on-live.ts).
  // The row it mounted with is the one the first fetch answers after.
  const fetchedFor = useRef(live);
  useEffect(() => {
    if (!live || live === fetchedFor.current) return;
    fetchedFor.current = live;
    void refetchForEvent(qc, ["node", name]);
  }, [live, name, qc]);

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
  if (q.isError || !q.data) {
    return (
      <>
        <BackLink />
        <PageHeader title={name} />
        <ErrorState error={q.error} what={`node ${name}`} onRetry={() => void q.refetch()} />
      </>
    );
  }
  return <Loaded name={name} detail={q.data} />;
}
