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
  /** The clock rate and cooldown are measured on: monotonic ms (default performance.now). */
  now?: () => number;
  /**
   * A key put `first` again this soon after it was last worked on from the first lane goes with
   * the others (default 30 s): one flapping between replicas is not re-queued first for ever.
   */
  firstCooldownMs?: number;
  /** Does one item; it must not throw (errors are the caller's to log and retry). */
  work: (key: string, value: T) => Promise<void>;
}

/**
 * One waiting value per key (the newest), keys in the order they were last put; keys put
 * `first` are worked on before every other (in their own order), unless the key was worked on
 * from the first lane within `firstCooldownMs` (break7: a key put first again and again — a
 * reporter flapping between replicas — starved every other write for as long as it came). A key is worked on once at a
 * time: a value put while its key is in flight waits for that work to end (two writes of one
 * object in flight could land in either order, the older last).
 */
export class RateLimitedQueue<T> {
  private readonly items = new Map<string, T>();
  /** Keys put `first`: worked on before `items`. */
  private readonly firstItems = new Map<string, T>();
  private readonly active = new Set<string>();
  /** When each key was last worked on from the first lane (oldest first), within the cooldown. */
  private readonly firstAt = new Map<string, number>();
  private readonly bucket: TokenBucket;
  private running = 0;
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
    const now = this.now();
    const again = now - (this.firstAt.get(key) ?? Number.NEGATIVE_INFINITY) < this.cooldownMs;
    const lane = (first && !again) || this.firstItems.has(key) ? this.firstItems : this.items;
    this.delete(key);
    lane.set(key, value);
    this.pump();
    return true;
  }

  /**
   * The key's last turn from the first lane did not count (its work failed and is tried again):
   * put first again, it goes first, cooldown or not.
   */
  unnoteFirst(key: string): void {
    this.firstAt.delete(key);
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
      if (this.firstItems.has(key)) this.notedFirst(key);
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

  private get cooldownMs(): number {
    return this.o.firstCooldownMs ?? 30_000;
  }

  private now(): number {
    return this.o.now?.() ?? performance.now();
  }

  /** `key` worked on from the first lane now; those past the cooldown forgotten. */
  private notedFirst(key: string): void {
    const now = this.now();
    this.firstAt.delete(key);
    this.firstAt.set(key, now);
    for (const [k, at] of this.firstAt) {
      if (now - at < this.cooldownMs) break;
      this.firstAt.delete(k);
    }
  }

  /** The oldest waiting key not in flight, first ones first (at most `inFlight` skipped). */
  private nextIdle(): [string, T] | undefined {
    for (const e of this.firstItems) if (!this.active.has(e[0])) return e;
    for (const e of this.items) if (!this.active.has(e[0])) return e;
    return undefined;
  }
}
