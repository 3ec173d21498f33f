"use client";
// Relative time that stays current: one shared ticker for the whole page, rendered only on
// the client (no hydration mismatch).
import { useSyncExternalStore } from "react";
import { absoluteTime, relativeTime, toMillis } from "./time";

const TICK_MS = 5000;
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(l: () => void) {
  listeners.add(l);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
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

export function useNow(): number {
  return useSyncExternalStore(
    subscribe,
    () => now,
    () => 0,
  );
}

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
      {relativeTime(ms, Math.max(current, Date.now() - TICK_MS))}
    </time>
  );
}
