"use client";
import type { NodeEvent } from "@masq/shared";
import { useMemo } from "react";
import { RelativeTime } from "../components/Time";
import { absoluteTime, toMillis } from "../components/time";

/** Colour of an event dot: by the status it moved to, else by its kind. */
export function eventTone(kind: string, message = ""): string {
  // "from → to: why", or a new node's "to (first report): why".
  const moved = kind === "status" ? /^(?:\S+ → )?([a-z-]+)/.exec(message) : null;
  const to =
    moved?.[1] ?? /→\s*(in-sync|drifted|applying|error|unknown|offline)\b/.exec(message)?.[1];
  if (to === "in-sync") return "bg-emerald-500";
  if (to === "drifted") return "bg-amber-500";
  if (to === "applying") return "bg-sky-500";
  if (to === "error") return "bg-red-500";
  if (to === "unknown") return "bg-orange-500";
  if (to === "offline") return "bg-zinc-400";
  const k = kind.toLowerCase();
  if (/(fail|error|refus)/.test(k)) return "bg-red-500";
  if (k === "silent") return "bg-amber-500";
  if (k === "responding") return "bg-emerald-500";
  if (/drift/.test(k)) return "bg-amber-500";
  if (/(heal|sync|ok|applied)/.test(k)) return "bg-emerald-500";
  if (/(apply|resync|desired)/.test(k)) return "bg-sky-500";
  return "bg-zinc-400";
}

function EventItem({ e }: { e: NodeEvent }) {
  const ms = toMillis(e.time);
  return (
    <li className="relative">
      <span
        className={`absolute top-1.5 -left-[21px] size-2.5 rounded-full ring-2 ring-white dark:ring-zinc-900 ${eventTone(e.kind, e.message)}`}
        aria-hidden="true"
      />
      <p className="text-sm text-zinc-900 dark:text-zinc-100">
        <span className="mr-2 rounded bg-zinc-100 px-1.5 py-0.5 text-xs font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
          {e.kind}
        </span>
        {e.message}
        {e.beforeRestart ? (
          <span
            className="ml-2 rounded border border-zinc-300 px-1.5 py-0.5 text-xs text-zinc-500 dark:border-zinc-700 dark:text-zinc-400"
            title="Kept from before the dashboard last restarted"
          >
            before restart
          </span>
        ) : null}
      </p>
      <p className="text-xs text-zinc-500 dark:text-zinc-400">
        <RelativeTime value={e.time} />
        {ms !== null ? <span className="ml-2 hidden sm:inline">{absoluteTime(ms)}</span> : null}
      </p>
    </li>
  );
}

/** The node's history, newest first (the 100 latest). */
export function EventTimeline({ events }: { events: NodeEvent[] }) {
  const sorted = useMemo(
    () => [...events].sort((a, b) => (toMillis(b.time) ?? 0) - (toMillis(a.time) ?? 0)),
    [events],
  );
  if (sorted.length === 0)
    return <p className="text-sm text-zinc-500 dark:text-zinc-400">No events yet.</p>;
  return (
    <ol
      className="relative space-y-3 border-l border-zinc-200 pl-4 dark:border-zinc-800"
      aria-label="Node events"
    >
      {sorted.slice(0, 100).map((e, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: events have no id
        <EventItem key={i} e={e} />
      ))}
    </ol>
  );
}
