"use client";
// Virtualised node table on real <table> elements: only the rows in view (plus overscan)
// are in the DOM, spacer rows keep the scroll height, and aria-rowcount/aria-rowindex tell
// assistive technology (and tests) where each row sits among all of them. Rows are memoized
// by node object: a live batch re-renders only the rows whose node changed.
// Narrow screens keep what matters without a sideways scroll: below md (phones) the table is
// Node (with what differs under the name), Status and Resync; below lg the Revision column
// goes (a node's staged-rollout place moves under its name); below xl, OS and Mode go.
import type { NodeSummary } from "@masq/shared";
import { useVirtualizer } from "@tanstack/react-virtual";
import Link from "next/link";
import { memo, useRef } from "react";
import { Button } from "../components/Button";
import { LinuxIcon, RefreshIcon, WindowsIcon } from "../components/icons";
import { LastKnown, LivenessBadge } from "../components/Liveness";
import { StatusBadge } from "../components/StatusBadge";
import { RelativeTime } from "../components/Time";
import { useMediaQuery } from "../components/useMediaQuery";
import { resyncTitle } from "../node/resync-title";
import { type SortKey, worstSeverity } from "./filter";
import { RevisionCell, RolloutPlace } from "./RolloutPlace";
import { severityNotKnown } from "./severity";
import { shortSummary } from "./status";

export const ROW_HEIGHT = 52;

function nodeHref(name: string) {
  return `/nodes/${encodeURIComponent(name)}`;
}

interface RowProps {
  node: NodeSummary;
  index: number;
  canEdit: boolean;
  pending: boolean;
  onResync: (name: string) => void;
  /** Phone width: the summary goes under the name (its column is hidden). */
  narrow: boolean;
  /** Below lg: the rollout place goes under the name (the Revision column is hidden). */
  compact: boolean;
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** Red "2 critical" or amber "1 warning": how bad the node's worst difference is. */
export function SeverityChip({
  node,
}: {
  node: Pick<NodeSummary, "critical" | "warnings" | "notKnownHere" | "heldBy">;
}) {
  // Zero would read as "no critical": a holder that records no severity, a judgement put off.
  const unknown = severityNotKnown(node);
  if (unknown !== null)
    return (
      <span
        data-severity="unknown"
        title={`severity not known here: ${unknown}`}
        className="mr-2 inline-flex shrink-0 items-center rounded px-1.5 py-0.5 text-xs ring-1 ring-inset ring-slate-400/40 text-slate-600 dark:text-slate-300"
      >
        severity ?
      </span>
    );
  const worst = worstSeverity(node);
  if (worst === "none") return null;
  const critical = worst === "critical";
  const title = [
    node.critical > 0 ? plural(node.critical, "critical difference") : "",
    node.warnings > 0 ? plural(node.warnings, "warning") : "",
  ]
    .filter(Boolean)
    .join(", ");
  return (
    <span
      data-severity={worst}
      title={title}
      className={`mr-2 inline-flex shrink-0 items-center rounded px-1.5 py-0.5 text-xs font-semibold ring-1 ring-inset ${
        critical
          ? "bg-red-600 text-white ring-red-700 dark:bg-red-500/80 dark:ring-red-400"
          : "bg-amber-100 text-amber-900 ring-amber-600/30 dark:bg-amber-500/20 dark:text-amber-200 dark:ring-amber-400/30"
      }`}
    >
      {critical ? `${node.critical} critical` : plural(node.warnings, "warning")}
    </span>
  );
}

/** Severity chip and summary; a node that is not live says how old that is, underneath. */
function WhatDiffers({ node }: { node: NodeSummary }) {
  const text = shortSummary(node);
  const live = node.liveness === "live";
  return (
    <span className="flex min-w-0 items-center">
      <SeverityChip node={node} />
      <span className="min-w-0">
        <span className="block truncate">
          {text || (live ? <span className="text-zinc-400 dark:text-zinc-500">—</span> : "in sync")}
        </span>
        {live ? null : (
          <span className="block truncate text-xs">
            <LastKnown node={node} />
          </span>
        )}
      </span>
    </span>
  );
}

const FleetRow = memo(function FleetRow({
  node,
  index,
  canEdit,
  pending,
  onResync,
  narrow,
  compact,
}: RowProps) {
  const nameId = `node-name-${index}`;
  const offline = node.status === "offline" || !node.connected;
  const title = resyncTitle(node, { canEdit, offline, subject: node.name });
  return (
    <tr
      aria-rowindex={index + 2}
      data-node={node.name}
      data-status={node.status}
      className="border-b border-zinc-100 text-sm hover:bg-zinc-50 dark:border-zinc-800/70 dark:hover:bg-zinc-800/40"
      style={{ height: ROW_HEIGHT }}
    >
      <td className="truncate py-0 pr-2 pl-3 sm:pr-3 sm:pl-4">
        <Link
          id={nameId}
          href={nodeHref(node.name)}
          prefetch={false}
          className="font-medium text-zinc-900 hover:text-indigo-600 hover:underline focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-100 dark:hover:text-indigo-400"
          title={node.name}
        >
          {node.name}
        </Link>
        <UnderName node={node} narrow={narrow} compact={compact} />
      </td>
      <td className={`truncate px-3 text-zinc-600 dark:text-zinc-400 ${HIDE.xl}`}>
        <span className="inline-flex items-center gap-1.5">
          {node.os === "windows" ? (
            <WindowsIcon className="size-3.5 shrink-0" />
          ) : (
            <LinuxIcon className="size-3.5 shrink-0" />
          )}
          {node.os === "windows" ? "Windows" : "Linux"}
        </span>
      </td>
      <td className={`truncate px-3 text-zinc-600 dark:text-zinc-400 ${HIDE.xl}`}>
        {node.mode === "observe" ? "Observe" : "Enforce"}
      </td>
      <td className="px-1 sm:px-3">
        <StatusBadge status={node.status} />
      </td>
      <td className={`truncate px-3 text-sm ${HIDE.lg}`}>
        <RevisionCell node={node} />
      </td>
      <td
        className={`px-3 ${HIDE.md} ${node.status === "in-sync" ? "text-zinc-500 dark:text-zinc-400" : "text-zinc-800 dark:text-zinc-200"}`}
        title={node.summary}
      >
        <WhatDiffers node={node} />
      </td>
      <td className={`truncate px-3 text-zinc-600 tabular-nums dark:text-zinc-400 ${HIDE.md}`}>
        <LivenessBadge node={node} />
      </td>
      <td className="pr-3 pl-1 text-right sm:pr-4 sm:pl-3">
        <Button
          size="sm"
          busy={pending}
          disabled={!canEdit || offline || node.resyncUnavailable !== undefined}
          title={title}
          aria-describedby={nameId}
          onClick={() => onResync(node.name)}
          icon={<RefreshIcon className="size-3.5" />}
        >
          Resync
        </Button>
      </td>
    </tr>
  );
});

/** Cells and columns shown from a breakpoint up (Tailwind md = 48rem, lg = 64rem, xl = 80rem). */
const HIDE = {
  md: "hidden md:table-cell",
  lg: "hidden lg:table-cell",
  xl: "hidden xl:table-cell",
} as const;
const HIDE_COL = {
  md: "hidden md:table-column",
  lg: "hidden lg:table-column",
  xl: "hidden xl:table-column",
} as const;

const HEADERS: {
  label: string;
  sort?: SortKey;
  /** Column width classes (phones first). */
  width: string;
  align?: "right";
  from?: "md" | "lg" | "xl";
}[] = [
  { label: "Node", sort: "name", width: "md:w-[24%] lg:w-[20%]" },
  { label: "OS", width: "w-[7.5rem]", from: "xl" },
  { label: "Mode", width: "w-[6.5rem]", from: "xl" },
  { label: "Status", sort: "status", width: "w-[6.5rem] sm:w-[8.5rem]" },
  // The applied revision and, during a staged rollout, the wave: sorted canary first.
  { label: "Revision", sort: "rollout", width: "w-[8.5rem]", from: "lg" },
  { label: "What differs", sort: "severity", width: "", from: "md" },
  { label: "Reporter", sort: "reporter", width: "w-[9rem] xl:w-[12rem]", from: "md" },
  { label: "Actions", width: "w-[6rem] sm:w-[7.5rem]", align: "right" },
];

function headerClass(h: (typeof HEADERS)[number], i: number): string {
  const pad =
    i === 0
      ? "pr-2 pl-3 sm:pr-3 sm:pl-4"
      : i === HEADERS.length - 1
        ? "pr-3 pl-1 sm:pr-4 sm:pl-3"
        : "px-1 sm:px-3";
  return `font-medium ${pad} ${h.align === "right" ? "text-right" : "text-left"} ${h.from ? HIDE[h.from] : ""}`;
}

/**
 * Under the name, what its hidden columns would say: on phones the rollout place and what
 * differs; below lg the rollout place.
 */
function UnderName({
  node,
  narrow,
  compact,
}: {
  node: NodeSummary;
  narrow: boolean;
  compact: boolean;
}) {
  if (narrow)
    return (
      <span className="block truncate text-xs text-zinc-600 dark:text-zinc-400">
        {node.rollout ? (
          <>
            <RolloutPlace node={node} />
            {" · "}
          </>
        ) : null}
        <MobileSummary node={node} />
      </span>
    );
  if (!compact || !node.rollout) return null;
  return (
    <span className="block truncate text-xs">
      <RolloutPlace node={node} />
    </span>
  );
}

/** Phones: what differs (or how old the news is) under the node's name. */
function MobileSummary({ node }: { node: NodeSummary }) {
  if (node.liveness !== "live")
    return (
      <>
        last known, <RelativeTime value={node.lastSeenAt} />
      </>
    );
  const worst = worstSeverity(node);
  const text = shortSummary(node) || "in sync";
  // The severity as colour (the chip does not fit beside the name): red critical, amber warning.
  const tone =
    worst === "critical"
      ? "font-medium text-red-700 dark:text-red-400"
      : worst === "warning"
        ? "text-amber-800 dark:text-amber-300"
        : "";
  return <span className={tone}>{text}</span>;
}

export function FleetTable({
  rows,
  totalRows,
  canEdit,
  pending,
  onResync,
  sort,
  onSort,
}: {
  rows: NodeSummary[];
  totalRows: number;
  canEdit: boolean;
  pending: ReadonlySet<string>;
  onResync: (name: string) => void;
  sort: SortKey;
  onSort: (s: SortKey) => void;
}) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const narrow = !useMediaQuery("(min-width: 48rem)");
  const compact = !useMediaQuery("(min-width: 64rem)");
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
    getItemKey: (i) => rows[i]?.name ?? i,
    initialRect: { width: 1200, height: 900 },
  });
  const items = virtualizer.getVirtualItems();
  const padTop = items[0]?.start ?? 0;
  const padBottom =
    items.length > 0 ? virtualizer.getTotalSize() - items[items.length - 1]!.end : 0;
  return (
    <div
      ref={scrollRef}
      className="max-h-[max(24rem,calc(100dvh-22rem))] overflow-auto overscroll-contain rounded-xl border border-zinc-200 bg-white shadow-sm dark:border-zinc-800 dark:bg-zinc-900"
    >
      <table
        aria-label="Nodes"
        aria-rowcount={rows.length + 1}
        aria-describedby="fleet-table-caption"
        className="w-full table-fixed border-collapse xl:min-w-[62rem]"
      >
        <colgroup>
          {HEADERS.map((h) => (
            <col key={h.label} className={`${h.width} ${h.from ? HIDE_COL[h.from] : ""}`} />
          ))}
        </colgroup>
        <thead className="sticky top-0 z-10">
          <tr
            aria-rowindex={1}
            className="h-10 bg-zinc-50 text-xs font-medium tracking-wide text-zinc-600 uppercase shadow-[inset_0_-1px_0] shadow-zinc-200 dark:bg-zinc-900 dark:text-zinc-400 dark:shadow-zinc-800"
          >
            {HEADERS.map((h, i) => (
              <th
                key={h.label}
                scope="col"
                aria-sort={h.sort ? (sort === h.sort ? "ascending" : "none") : undefined}
                className={headerClass(h, i)}
              >
                {h.sort ? (
                  <button
                    type="button"
                    onClick={() => onSort(h.sort!)}
                    className={`inline-flex items-center gap-1 uppercase hover:text-zinc-900 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:hover:text-zinc-100 ${sort === h.sort ? "text-zinc-900 dark:text-zinc-100" : ""}`}
                  >
                    {h.label}
                    <span aria-hidden="true" className={sort === h.sort ? "" : "opacity-0"}>
                      ↓
                    </span>
                  </button>
                ) : (
                  h.label
                )}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {padTop > 0 ? (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: an empty spacer that only holds the scroll height
            <tr aria-hidden="true" style={{ height: padTop }}>
              <td colSpan={HEADERS.length} />
            </tr>
          ) : null}
          {items.map((v) => {
            const node = rows[v.index];
            if (!node) return null;
            return (
              <FleetRow
                key={node.name}
                node={node}
                index={v.index}
                canEdit={canEdit}
                pending={pending.has(node.name)}
                onResync={onResync}
                narrow={narrow}
                compact={compact}
              />
            );
          })}
          {padBottom > 0 ? (
            // biome-ignore lint/a11y/noAriaHiddenOnFocusable: an empty spacer that only holds the scroll height
            <tr aria-hidden="true" style={{ height: padBottom }}>
              <td colSpan={HEADERS.length} />
            </tr>
          ) : null}
        </tbody>
      </table>
      <p id="fleet-table-caption" className="sr-only">
        {rows.length === totalRows
          ? plural(totalRows, "node")
          : `${rows.length} of ${plural(totalRows, "node")} shown`}
      </p>
    </div>
  );
}
