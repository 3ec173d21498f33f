"use client";
// How current what the page shows of a node is: Live, Not responding (connected but silent:
// maybe hung) or Offline, and for the last two how old the node's last known state is.
import { type Freshness, NOT_HEARD_SINCE_RESTART, restoredNote } from "@masq/shared";
import type { ReactNode } from "react";
import { Callout } from "./Callout";
import { RelativeTime } from "./Time";

const DOT = {
  live: "bg-emerald-500",
  silent: "bg-amber-500",
  offline: "bg-zinc-400 dark:bg-zinc-500",
} as const;

const LABEL = { live: "Live", silent: "Not responding", offline: "Offline" } as const;

/** "● Live" / "● Not responding · 25s ago" / "● Offline · 3 min ago" (when last heard from). */
export function LivenessBadge({ node }: { node: Freshness }) {
  const l = node.liveness;
  return (
    <span
      className="inline-flex min-w-0 items-center gap-1.5"
      data-liveness={l}
      title={
        l === "live"
          ? "Connected; reports and heartbeats arriving"
          : l === "silent"
            ? "Connected, but nothing (not even a heartbeat) arrived lately: the reporter or its node may be hung"
            : (restoredNote(node) ?? "The reporter is disconnected")
      }
    >
      <span className={`size-2 shrink-0 rounded-full ${DOT[l]}`} aria-hidden="true" />
      <span
        className={
          l === "silent"
            ? "font-medium text-amber-800 dark:text-amber-300"
            : l === "live"
              ? "text-emerald-800 dark:text-emerald-300"
              : ""
        }
      >
        {LABEL[l]}
      </span>
      {l === "live" ? null : (
        <span className="truncate text-zinc-500 dark:text-zinc-400">
          · <RelativeTime value={node.lastSeenAt} />
        </span>
      )}
    </span>
  );
}

/** "last known, 3 min ago" for a node that is not live; nothing for a live one. */
export function LastKnown({ node, parens = false }: { node: Freshness; parens?: boolean }) {
  if (node.liveness === "live") return null;
  return (
    <span className="font-normal text-zinc-500 dark:text-zinc-400" data-testid="last-known">
      {parens ? "(" : ""}last known, <RelativeTime value={node.lastSeenAt} />
      {parens ? ")" : ""}
    </span>
  );
}

/** The rules arrived well before the node went quiet: worth saying when. */
function reportedLongBefore(n: Freshness): boolean {
  return n.lastReportAt !== null && n.lastSeenAt !== null && n.lastSeenAt - n.lastReportAt > 60_000;
}

/** The node page's warning that what follows is not current. */
export function StaleNotice({ node, children }: { node: Freshness; children?: ReactNode }) {
  if (node.liveness === "live") return null;
  const offline = node.liveness === "offline";
  const restored = restoredNote(node);
  return (
    <Callout
      tone="warning"
      role="status"
      className="mb-6"
      title={
        <>
          Last known state, <RelativeTime value={node.lastSeenAt} />:{" "}
          {restored
            ? NOT_HEARD_SINCE_RESTART
            : offline
              ? "the reporter is offline"
              : "the reporter is not responding"}
        </>
      }
    >
      {restored
        ? restored
        : offline
          ? "Everything below is what this node reported before its reporter disconnected; its rules may have changed since."
          : "It is still connected but has sent nothing, not even a heartbeat, for a while: it or its node may be hung. Everything below is what it reported before."}{" "}
      {reportedLongBefore(node) ? (
        <>
          It last sent its rules <RelativeTime value={node.lastReportAt} /> (it sends them when they
          change).
        </>
      ) : null}
      {children}
    </Callout>
  );
}
