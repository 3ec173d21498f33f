// Work keyed by name, done oldest first through a token bucket: the NodeMasquerade status
// writes and the resync requests for nodes held by other replicas, so the API server sees at
// most `ratePerSecond` writes a second from each (burst the same) with a few in flight.
import { TokenBucket } from "./token-bucket.js";

export interface RateLimitedQueueOptions<T> {
  ratePerSecond: number;
  /** Items being worked on at once at most. */
  inFlight: number;
  /** Keys waiting at most (default unbounded: callers bound it by what they key on). */
  max?: number;
  now?: () => number;
  /** Does one item; it must not throw (errors are the caller's to log and retry). */
  work: (key: string, value: T) => Promise<void>;
}

/**
 * Keys worked on from the first lane in a row at most while another key waits: the first lane
 * goes first, not alone (break7: keys put first again and again — reporters flapping between
 * replicas — starved every other write for as long as they came).
 */
export const FIRST_RUN = 4;

/**
 * One waiting value per key (the newest), keys in the order they were last put; keys put
 * `first` are worked on before every other (in their own order), FIRST_RUN in a row at most. A key is worked on once at a
 * time: a value put while its key is in flight waits for that work to end (two writes of one
 * object in flight could land in either order, the older last).
 */
export class RateLimitedQueue<T> {
  private readonly items = new Map<string, T>();
  /** Keys put `first`: worked on before `items`. */
  private readonly firstItems = new Map<string, T>();
  private readonly active = new Set<string>();
  private readonly bucket: TokenBucket;
  private running = 0;
  /** First-lane keys taken in a row while another key waited. */
  private firstRun = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: RateLimitedQueueOptions<T>) {
    this.bucket = new TokenBucket(o.ratePerSecond, o.ratePerSecond, o.now);
  }

  /** Keys waiting. */
  get size(): number {
    return this.items.size + this.firstItems.size;
  }

  has(key: string): boolean {
    return this.items.has(key) || this.firstItems.has(key);
  }

  /**
   * Queues `value` for `key`, replacing one waiting; `first`: before every key not put first (a
   * key waiting first stays first). False when closed or full.
   */
  put(key: string, value: T, first = false): boolean {
    if (this.closed) return false;
    if (!this.has(key) && this.size >= (this.o.max ?? Number.POSITIVE_INFINITY)) return false;
    const lane = first || this.firstItems.has(key) ? this.firstItems : this.items;
    this.delete(key);
    lane.set(key, value);
    this.pump();
    return true;
  }

  delete(key: string): void {
    this.items.delete(key);
    this.firstItems.delete(key);
  }

  /** Seconds until every key waiting now has had its turn at the rate. */
  drainSeconds(): number {
    return Math.ceil(this.size / this.o.ratePerSecond);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.items.clear();
    this.firstItems.clear();
  }

  private pump(): void {
    if (this.closed || this.timer) return;
    while (this.size > 0 && this.running < this.o.inFlight) {
      const next = this.nextIdle();
      if (!next) return;
      if (!this.bucket.take()) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.bucket.waitMs());
        this.timer.unref();
        return;
      }
      const [key, value] = next;
      this.delete(key);
      this.active.add(key);
      this.running++;
      void this.o.work(key, value).finally(() => {
        this.running--;
        this.active.delete(key);
        this.pump();
      });
    }
  }

  /**
   * The oldest waiting key not in flight, first ones first but for one other after FIRST_RUN
   * of them (at most `inFlight` skipped).
   */
  private nextIdle(): [string, T] | undefined {
    const first = idleIn(this.firstItems, this.active);
    const other = idleIn(this.items, this.active);
    if (first && (!other || this.firstRun < FIRST_RUN)) {
      this.firstRun = other ? this.firstRun + 1 : 0;
      return first;
    }
    this.firstRun = 0;
    return other;
  }
}

function idleIn<T>(items: Map<string, T>, active: Set<string>): [string, T] | undefined {
  for (const e of items) if (!active.has(e[0])) return e;
  return undefined;
}
