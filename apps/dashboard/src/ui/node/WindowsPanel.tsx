"use client";
// A Windows node's OutBoundNAT exception lists, entry by entry, as the server marked them
// (shared node-view windowsNodeView).
import type { ExceptionListView, ExceptionMark, WindowsNodeView } from "@masq/shared";
import type { ReactNode } from "react";
import { Callout } from "../components/Callout";
import { WindowsIcon } from "../components/icons";

const AMBER =
  "bg-amber-50 text-amber-900 ring-amber-600/25 dark:bg-amber-500/10 dark:text-amber-200";

const MARK_STYLE: Record<ExceptionMark["state"], { cls: string; prefix: string }> = {
  same: {
    cls: "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300",
    prefix: "",
  },
  missing: {
    cls: "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-500/10 dark:text-red-300",
    prefix: "missing ",
  },
  unexpected: { cls: AMBER, prefix: "extra " },
  unreadable: { cls: AMBER, prefix: "unreadable " },
};

function ExceptionList({ list }: { list: ExceptionListView }) {
  return (
    <div className="mt-4">
      <p className="mb-2 text-xs text-zinc-500 dark:text-zinc-400">
        {list.form} at <span className="font-mono">{list.pointer}</span>
      </p>
      <ul className="flex flex-wrap gap-1.5" aria-label="ExceptionList">
        {list.entries.map((x) => (
          <li
            key={`${x.state}-${x.cidr}`}
            className={`rounded-md px-2 py-0.5 font-mono text-xs ring-1 ring-inset ${MARK_STYLE[x.state].cls}`}
          >
            {MARK_STYLE[x.state].prefix}
            {x.cidr}
          </li>
        ))}
      </ul>
    </div>
  );
}

/** A Windows node's OutBoundNAT exception lists (`view` null: not reported yet). */
export function WindowsPanel({
  view,
  unavailable,
  lastKnown,
}: {
  view: WindowsNodeView | null;
  unavailable: string | null;
  lastKnown?: ReactNode;
}) {
  return (
    <section
      aria-labelledby="win-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <h2 id="win-heading" className="flex items-center gap-2 text-base font-semibold">
        <WindowsIcon className="size-4 text-sky-600 dark:text-sky-400" /> Windows node: OutBoundNAT
        ExceptionList
        {lastKnown ? <span className="text-sm">{lastKnown}</span> : null}
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Windows has no iptables. Destinations in the CNI config&apos;s ExceptionList are not
        SNAT&apos;d
        {view?.path ? (
          <>
            {" "}
            (<span className="font-mono">{view.path}</span>)
          </>
        ) : null}
        .
      </p>
      {view?.readError ? (
        <Callout tone="error" className="mt-3">
          Could not read the CNI config: {view.readError}
        </Callout>
      ) : null}
      {!view ? (
        <p className="mt-3 text-sm text-zinc-500">Nothing to show: {unavailable}.</p>
      ) : view.lists.length === 0 ? (
        <p className="mt-3 text-sm text-zinc-500">No OutBoundNAT policy found.</p>
      ) : null}
      {view?.lists.map((l) => (
        <ExceptionList key={l.pointer} list={l} />
      ))}
    </section>
  );
}
