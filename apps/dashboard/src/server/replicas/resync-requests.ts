// A bulk resync ("Resync all drifted") of nodes held by other replicas: one spec.resyncRequest
// write per node, which at 65,000 nodes must not reach the API server at once. Requests wait
// here, one per node (asked twice while waiting: asked once, by the newest asker), and are
// written at most `ratePerSecond` a second (the replica's status write rate), two at a time.
// An observe-mode node's resync (its upstream agent pod deleted, from this replica) waits in
// the same queue: it is API server writes too.
import type { Logger } from "pino";
import { RateLimitedQueue } from "../util/rate-limited-queue.js";

/** Requests waiting at most: more than any fleet one dashboard serves (docs/scale-out.md). */
export const MAX_WAITING_RESYNC_REQUESTS = 100_000;

export interface ResyncRequestsOptions {
  ratePerSecond: number;
  /** Writes spec.resyncRequest of the node's NodeMasquerade (ReplicaSync.requestResync). */
  send: (name: string, by: string) => Promise<unknown>;
  log: Logger;
  max?: number;
  /** The clock the rate is measured on: monotonic ms (default performance.now). */
  now?: () => number;
}

interface Ask {
  by: string;
  run?: () => Promise<unknown>;
}

export class ResyncRequests {
  readonly stats = { written: 0, failed: 0 };
  private readonly queue: RateLimitedQueue<Ask>;

  constructor(private readonly o: ResyncRequestsOptions) {
    this.queue = new RateLimitedQueue<Ask>({
      ratePerSecond: o.ratePerSecond,
      inFlight: 2,
      max: o.max ?? MAX_WAITING_RESYNC_REQUESTS,
      now: o.now,
      work: (name, ask) => this.write(name, ask),
    });
  }

  /**
   * Queues a request for `name` by `by` (or, with `run`, that call instead: an observe-mode
   * node's pod restart); false when the queue is full.
   */
  ask(name: string, by: string, run?: () => Promise<unknown>): boolean {
    return this.queue.put(name, { by, run });
  }

  /** What a bulk resync answers about the requests still to be written. */
  backlog(): { waiting: number; perSecond: number; drainSeconds: number } {
    return {
      waiting: this.queue.size,
      perSecond: this.o.ratePerSecond,
      drainSeconds: this.queue.drainSeconds(),
    };
  }

  close(): void {
    // Those who asked were told "requested": say which were not written before shutdown.
    if (this.queue.size > 0)
      this.o.log.warn({ dropped: this.queue.size }, "resync requests not written: shutting down");
    this.queue.close();
  }

  private async write(name: string, ask: Ask): Promise<void> {
    try {
      await (ask.run ? ask.run() : this.o.send(name, ask.by));
      this.stats.written++;
    } catch (e) {
      // Not retried: the person sees the node still drifted and can ask again.
      this.stats.failed++;
      this.o.log.warn({ node: name, err: (e as Error).message }, "resync request not written");
    }
  }
}
