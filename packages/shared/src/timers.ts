// Timers for any delay. setTimeout/setInterval take at most 2^31-1 ms (about 24.8 days): Node
// runs a longer delay after 1 ms and browsers wrap it, so `resyncInterval: 600h` became a
// re-apply every millisecond. Longer waits are chained here in steps of MAX_TIMER_DELAY_MS.
// No I/O: only the runtime's own timer functions, the same in Node and in browsers, so the
// reporter, the dashboard server and the UI share it.
import { MAX_TIMER_DELAY_MS } from "./limits.js";

export interface LongTimer {
  /** Stops the timer: it never fires after this. */
  clear(): void;
  /** In Node, lets the process exit while only this timer is pending (Timeout.unref). */
  unref(): LongTimer;
}

type Handle = ReturnType<typeof setTimeout>;
const unrefHandle = (h: Handle) => (h as { unref?: () => void }).unref?.();

/**
 * The delay of the next timer in a chain towards `remainingMs` (NaN and negatives are 0, as
 * Node reads them; Infinity never arrives).
 */
export function timerStep(remainingMs: number): number {
  return Math.min(Number.isNaN(remainingMs) ? 0 : Math.max(0, remainingMs), MAX_TIMER_DELAY_MS);
}

/** setTimeout for any delay in milliseconds, chained when longer than MAX_TIMER_DELAY_MS. */
export function setLongTimeout(fn: () => void, ms: number): LongTimer {
  let remaining = Number.isNaN(ms) ? 0 : Math.max(0, ms);
  let handle: Handle | undefined;
  let unrefd = false;
  const arm = () => {
    const step = timerStep(remaining);
    remaining -= step;
    const last = remaining <= 0;
    handle = setTimeout(() => {
      handle = undefined;
      if (last) fn();
      else arm();
    }, step);
    if (unrefd) unrefHandle(handle);
  };
  arm();
  return {
    clear() {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
    unref() {
      unrefd = true;
      if (handle !== undefined) unrefHandle(handle);
      return this;
    },
  };
}

/**
 * setInterval for any period in milliseconds: a plain interval up to MAX_TIMER_DELAY_MS,
 * chained timeouts (each period counted from the previous run) beyond it.
 */
export function setLongInterval(fn: () => void, ms: number): LongTimer {
  if (ms <= MAX_TIMER_DELAY_MS) {
    const h = setInterval(fn, ms);
    return {
      clear: () => clearInterval(h),
      unref() {
        unrefHandle(h);
        return this;
      },
    };
  }
  let cleared = false;
  let unrefd = false;
  let current: LongTimer;
  const again = () => {
    current = setLongTimeout(() => {
      if (cleared) return;
      again();
      fn();
    }, ms);
    if (unrefd) current.unref();
  };
  again();
  return {
    clear() {
      cleared = true;
      current.clear();
    },
    unref() {
      unrefd = true;
      current.unref();
      return this;
    },
  };
}
