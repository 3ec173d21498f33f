// When drift is healed at once (heal=immediate): the first heal right away, then, while drift
// keeps coming back (something fights the agent), retryDelay(streak) apart: 500 ms doubling
// to 30 s. A report of "in sync" resets the streak.
import { type BackoffPolicy, retryDelay } from "@masq/shared";

/** Heals of drift that keeps coming back: at once, then 500 ms doubling to 30 s. */
export const HEAL_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 30_000 };

export class HealTimer {
  private timer: NodeJS.Timeout | undefined;
  private streak = 0;

  constructor(private readonly heal: () => void) {}

  /** Schedules a heal unless one is scheduled already. */
  later(): void {
    if (this.timer) return;
    const delay = this.streak === 0 ? 0 : retryDelay(this.streak, HEAL_BACKOFF);
    this.streak++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.heal();
    }, delay);
  }

  /** The node was seen in sync: the next drift is healed at once again. */
  reset(): void {
    this.streak = 0;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
