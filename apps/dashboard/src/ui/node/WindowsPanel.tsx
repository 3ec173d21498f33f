"use client";
import type { Difference } from "@masq/shared";
import type { NodeDetail, WindowsList } from "../api/types";
import { Callout } from "../components/Callout";
import { WindowsIcon } from "../components/icons";
import { type ExceptionMark, markExceptions } from "./exceptions";

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

function ExceptionList({
  list,
  differences,
}: {
  list: WindowsList;
  differences: readonly Difference[];
}) {
  return (
    <div className="mt-4">
      <p className="mb-2 text-xs text-zinc-500 dark:text-zinc-400">
        {list.form} at <span className="font-mono">{list.pointer}</span>
      </p>
      <ul className="flex flex-wrap gap-1.5" aria-label="ExceptionList">
        {markExceptions(list, differences).map((x) => (
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

/** A Windows node's OutBoundNAT exception lists, marked with the server's differences. */
export function WindowsPanel({ detail }: { detail: NodeDetail }) {
  const snap = detail.windows?.snapshot ?? {};
  const lists = snap.lists ?? [];
  return (
    <section
      aria-labelledby="win-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <h2 id="win-heading" className="flex items-center gap-2 text-base font-semibold">
        <WindowsIcon className="size-4 text-sky-600 dark:text-sky-400" /> Windows node: OutBoundNAT
        ExceptionList
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Windows has no iptables. Destinations in the CNI config&apos;s ExceptionList are not
        SNAT&apos;d
        {snap.path ? (
          <>
            {" "}
            (<span className="font-mono">{snap.path}</span>)
          </>
        ) : null}
        .
      </p>
      {snap.readError ? (
        <Callout tone="error" className="mt-3">
          Could not read the CNI config: {snap.readError}
        </Callout>
      ) : null}
      {lists.length === 0 ? (
        <p className="mt-3 text-sm text-zinc-500">No OutBoundNAT policy found.</p>
      ) : null}
      {lists.map((l) => (
        <ExceptionList key={l.pointer} list={l} differences={detail.differences} />
      ))}
    </section>
  );
}
