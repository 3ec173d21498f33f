// Coalesces fleet changes so browsers get at most one update per interval, listing only the
// nodes that changed since the last one (5,000 reporters must not flood a browser).
import { type LongTimer, setLongTimeout } from "@masq/shared";

export interface FleetChanges {
  changed: string[];
  removed: string[];
  config: boolean;
  rollout: boolean;
}

export class ChangeFeed {
  private changed = new Set<string>();
  private removed = new Set<string>();
  private config = false;
  private rollout = false;
  private timer: LongTimer | undefined;
  /** Monotonic ms: on Date.now(), a wall clock stepped back a minute held every update a minute. */
  private lastFlush = Number.NEGATIVE_INFINITY;

  /** `flush` receives each coalesced batch; it may be given later with onFlush. */
  constructor(
    private readonly intervalMs: number,
    private flush?: (c: FleetChanges) => void,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Sets the receiver of coalesced batches, for a receiver that needs what is built with this
   * feed (the server's publisher reads the fleet, which reports to the feed). Batches emitted
   * before a receiver is set are dropped.
   */
  onFlush(flush: (c: FleetChanges) => void): void {
    this.flush = flush;
  }

  node(name: string): void {
    this.removed.delete(name);
    this.changed.add(name);
    this.schedule();
  }

  nodeRemoved(name: string): void {
    this.changed.delete(name);
    this.removed.add(name);
    this.schedule();
  }

  configChanged(): void {
    this.config = true;
    this.schedule();
  }

  rolloutChanged(): void {
    this.rollout = true;
    this.schedule();
  }

  close(): void {
    this.timer?.clear();
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.timer) return;
    // The first change after a quiet period goes out at once; bursts wait for the interval.
    const wait = Math.max(0, this.lastFlush + this.intervalMs - this.now());
    this.timer = setLongTimeout(() => this.emit(), wait).unref();
  }

  private emit(): void {
    this.timer = undefined;
    this.lastFlush = this.now();
    const c: FleetChanges = {
      changed: [...this.changed],
      removed: [...this.removed],
      config: this.config,
      rollout: this.rollout,
    };
    this.changed.clear();
    this.removed.clear();
    this.config = false;
    this.rollout = false;
    this.flush?.(c);
  }
}
