// The periodic re-apply (enforce mode): one timer of resyncInterval (floored at MIN_RESYNC_MS;
// any length, timers.ts), re-armed after each resync; when it fires next is reported.
import { type LongTimer, setLongTimeout } from "@masq/shared";

export class ResyncTimer {
  private timer: LongTimer | undefined;
  private next: number | null = null;

  constructor(private readonly resync: () => Promise<void>) {}

  /** (Re)arms the timer for `delayMs`; clears it when `delayMs` is null. */
  arm(delayMs: number | null): void {
    this.clear();
    if (delayMs === null) return;
    this.next = Date.now() + delayMs;
    this.timer = setLongTimeout(() => {
      this.next = null;
      void this.resync();
    }, delayMs);
  }

  clear(): void {
    this.timer?.clear();
    this.timer = undefined;
    this.next = null;
  }

  /** Epoch ms of the next resync, or null when none is scheduled. */
  nextAt(): number | null {
    return this.next;
  }
}
