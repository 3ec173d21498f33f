"use client";
// Times that stay current: one shared ticker for the whole page, rendered only on the client
// (no hydration mismatch). Ages are measured on the dashboard's clock: every answer that
// carries `serverTime` corrects for a browser clock that is off.
import { useSyncExternalStore } from "react";
import { absoluteTime, relativeTime, toMillis, untilTime } from "./time";

const TICK_MS = 5000;
/** Dashboard clock minus browser clock, from the last `serverTime` seen. */
let offset = 0;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

/** Records the dashboard's clock reading of an answer that just arrived. */
export function noteServerTime(serverTime: number | undefined): void {
  if (typeof serverTime === "number" && Number.isFinite(serverTime))
    offset = serverTime - Date.now();
}

/** Now on the dashboard's clock. */
export function serverNow(): number {
  return Date.now() + offset;
}

function subscribe(l: () => void) {
  listeners.add(l);
  if (!timer) {
    now = serverNow();
    timer = setInterval(() => {
      now = serverNow();
      for (const x of listeners) x();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(l);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** Now on the dashboard's clock, updated every few seconds; 0 while rendering on the server. */
export function useNow(): number {
  return useSyncExternalStore(
    subscribe,
    () => now,
    () => 0,
  );
}

/** "12s ago", kept current. */
export function RelativeTime({
  value,
  fallback = "never",
}: {
  value: number | string | null | undefined;
  fallback?: string;
}) {
  const current = useNow();
  const ms = toMillis(value);
  if (ms === null) return <span className="text-zinc-500 dark:text-zinc-400">{fallback}</span>;
  if (current === 0) return <time dateTime={new Date(ms).toISOString()}>{absoluteTime(ms)}</time>;
  return (
    <time dateTime={new Date(ms).toISOString()} title={absoluteTime(ms)}>
      {relativeTime(ms, Math.max(current, serverNow() - TICK_MS))}
    </time>
  );
}

/** "in 42s" for a time to come, kept current. */
export function UntilTime({ value }: { value: number }) {
  const current = useNow();
  if (current === 0)
    return <time dateTime={new Date(value).toISOString()}>{absoluteTime(value)}</time>;
  return (
    <time dateTime={new Date(value).toISOString()} title={absoluteTime(value)}>
      {untilTime(value, Math.max(current, serverNow() - TICK_MS))}
    </time>
  );
}
