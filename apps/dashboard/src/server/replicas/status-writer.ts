// Writes the NodeMasquerade status of the nodes this replica holds: only on change (compared
// with what it last wrote), at most `ratePerSecond` writes a second (a token bucket) with a few
// in flight, coalesced so a node's newest state wins and the queue never holds more than one
// entry per node. A missing object is created first. An offline write is conditional on the
// version this replica last saw, and skipped when another replica holds the node now: the
// replica that lost a reporter must not overwrite the one that has it. A write saying this
// replica holds a node its object does not say so of (a reporter reconnected here, or a new
// node) goes before every other: a staged rollout's owner waits for these before it calls a
// node that went offline gone (staged-offline.ts), and this replica tells how many wait
// (`reconnectsPending`, on its Lease).
import type { Logger } from "pino";
import { apiMessage, statusCode } from "../kube/client.js";
import { RateLimitedQueue } from "../util/rate-limited-queue.js";
import { fullStatus, lastBody, type NodeMasquerade, type StatusBody } from "./node-masquerade.js";
import type { NodeMasqueradeApi } from "./node-masquerade-api.js";

export interface StatusWriterOptions {
  api: NodeMasqueradeApi;
  replica: string;
  /** Writes a second (default 50); the burst is the same number. */
  ratePerSecond: number;
  /** The object as the watch last delivered it, if any. */
  observed: (name: string) => NodeMasquerade | undefined;
  log: Logger;
  /** Writes in flight at once (default 4). */
  inFlight?: number;
  /** After a failed write the node is tried again this much later (default 1000 ms). */
  retryMs?: number;
  /** The wall clock: the times written (default Date.now). */
  now?: () => number;
  /**
   * The clock the write rate and the once-a-minute rewrite are measured on (default
   * performance.now; `now` when only that is given, as tests step one clock): on the wall
   * clock a step forward let a rewrite through at once, a step back held them off for the step.
   */
  monotonic?: () => number;
  /**
   * Is this replica's own Lease renewed (do the others take its word)? While not, the
   * singleton holder marks its nodes unknown every sweep; a status written back over that mark,
   * or a connected node's status change, is marked again at once (two replicas alternating
   * writes of one object), so it waits for redoDeferred. Absent: always.
   */
  vouched?: () => boolean;
}

export interface StatusWriterStats {
  writes: number;
  creates: number;
  /** Offers equal to what was last written (no write). */
  unchanged: number;
  /** Offline writes left out because another replica holds the node. */
  yielded: number;
  conflicts: number;
  failures: number;
  /** Objects of a dead holder written unknown (markUnheld). */
  unheld: number;
}

/** A write waiting: the node's newest body, or (unheld) a dead holder's object to mark. */
interface Pending {
  body: StatusBody;
  /** The object's version when it was found unheld: the write is conditional on it. */
  unheldAt?: string;
}

export class StatusWriter {
  /** The last write's failure while no write has succeeded since (for /readyz problems). */
  lastFailure: string | undefined;
  /** Newest body per node not yet written (oldest first). */
  private readonly queue: RateLimitedQueue<Pending>;
  private readonly written = new Map<string, string>();
  /** Per node, the body of the write in flight (its watch event may come before its answer). */
  private readonly writing = new Map<string, string>();
  /** Per node, when its status was last written again after someone else's edit (monotonic). */
  private readonly rewrittenAt = new Map<string, number>();
  /** Nodes held here whose object does not say so yet (queued first, or in flight). */
  private readonly reconnecting = new Set<string>();
  /** Per node, the retry of its failed write, waiting (cancelled by a newer offer). */
  private readonly retries = new Map<string, NodeJS.Timeout>();
  /**
   * Writes waiting for this replica's Lease to be renewed again (vouched): per node, its newest
   * state offered meanwhile, or undefined for a rewrite over someone else's edit.
   */
  private readonly deferred = new Map<string, StatusBody | undefined>();
  private closed = false;
  readonly stats: StatusWriterStats = {
    writes: 0,
    creates: 0,
    unchanged: 0,
    yielded: 0,
    conflicts: 0,
    failures: 0,
    unheld: 0,
  };

  constructor(private readonly o: StatusWriterOptions) {
    this.queue = new RateLimitedQueue({
      ratePerSecond: o.ratePerSecond,
      inFlight: o.inFlight ?? 4,
      now: () => this.mono(),
      work: (name, p) =>
        p.unheldAt === undefined ? this.write(name, p.body) : this.writeUnheld(name, p),
    });
  }

  private mono(): number {
    return this.o.monotonic?.() ?? this.o.now?.() ?? performance.now();
  }

  /** Nodes waiting for a write. */
  get queued(): number {
    return this.queue.size;
  }

  /**
   * Nodes connected here whose NodeMasquerade does not say so yet (no object, another holder,
   * or disconnected), their write queued or in flight: 0 means every reconnect to this replica
   * offered so far is written.
   */
  get reconnectsPending(): number {
    return this.reconnecting.size;
  }

  /** Is `name`'s reconnect write queued or in flight? */
  reconnectWaits(name: string): boolean {
    return this.reconnecting.has(name);
  }

  /** The node's newest state; written when it differs from the last write. */
  offer(name: string, body: StatusBody): void {
    if (this.closed) return;
    const key = JSON.stringify(body);
    this.queue.delete(name);
    // A failed write's retry is of an older state: it must not land after this one (break7).
    this.cancelRetry(name);
    const st = this.o.observed(name)?.status;
    // Another replica wrote since (the node was held there for a while): write again.
    const holder = st?.replica;
    if (this.written.get(name) === key && (holder === undefined || holder === this.o.replica)) {
      this.stats.unchanged++;
      this.reconnecting.delete(name);
      // A change offered while unvouched is moot; whether the object still says this is not.
      if (this.deferred.has(name)) this.deferred.set(name, undefined);
      return;
    }
    const takeover = body.connected && (st?.replica !== this.o.replica || !st.connected);
    if (takeover) this.reconnecting.add(name);
    else if (!body.connected) this.reconnecting.delete(name);
    // While this replica's Lease is stale the others take no word of its about the nodes its
    // object names it for, and the singleton marks each such write unknown again at its next
    // sweep: the change is written once, when the Lease is renewed (redoDeferred).
    if (body.connected && holder === this.o.replica && this.o.vouched?.() === false) {
      this.deferred.set(name, body);
      return;
    }
    this.deferred.delete(name);
    this.queue.put(name, { body }, takeover);
  }

  /**
   * A node whose object names a holder that stopped renewing its Lease (`body`: that holder,
   * disconnected, health unknown): written through the same rate-limited queue, conditional on
   * the object's version now, so a node that reconnected anywhere meanwhile (its new holder's
   * write) wins. Never queued over a write of this replica's own for the node.
   */
  markUnheld(name: string, body: StatusBody): void {
    const rv = this.o.observed(name)?.metadata.resourceVersion;
    if (this.closed || rv === undefined || this.queue.has(name) || this.writing.has(name)) return;
    this.queue.put(name, { body, unheldAt: rv });
  }

  /**
   * The node's object changed (watch): a status that names this replica but is not what it
   * wrote (a `kubectl edit --subresource status` of health, drift or details) is written again,
   * as this replica last wrote it. Fields it did not write are left alone.
   */
  observedChanged(name: string): void {
    const st = this.o.observed(name)?.status;
    const mine = this.written.get(name);
    if (this.closed || !st || st.replica !== this.o.replica || mine === undefined) return;
    if (this.queue.has(name) || this.writing.has(name)) return;
    const body = JSON.parse(mine) as StatusBody;
    if (!body.connected || covers(lastBody(st), body)) return;
    if (this.o.vouched?.() === false) {
      if (!this.deferred.has(name)) this.deferred.set(name, undefined);
      return;
    }
    // At most once a minute per node: a field the API server changes on every write (a schema
    // that prunes or defaults it) must not turn into a write loop.
    const now = this.mono();
    if (now - (this.rewrittenAt.get(name) ?? Number.NEGATIVE_INFINITY) < 60_000) return;
    this.rewrittenAt.set(name, now);
    this.o.log.warn({ node: name }, "NodeMasquerade status changed by someone else; rewriting");
    this.written.delete(name);
    this.queue.put(name, { body });
  }

  /**
   * This replica's Lease is renewed again: the states offered and the rewrites (observedChanged)
   * that waited for it.
   */
  redoDeferred(): void {
    if (this.deferred.size === 0 || this.o.vouched?.() === false) return;
    const waiting = [...this.deferred];
    this.deferred.clear();
    for (const [name, body] of waiting)
      if (body) this.offer(name, body);
      else this.observedChanged(name);
  }

  /** Forgets a node (removed from the fleet): nothing more is written for it. */
  forget(name: string): void {
    this.deferred.delete(name);
    this.queue.delete(name);
    this.cancelRetry(name);
    this.written.delete(name);
    this.rewrittenAt.delete(name);
    this.reconnecting.delete(name);
  }

  close(): void {
    this.closed = true;
    this.queue.close();
    for (const name of [...this.retries.keys()]) this.cancelRetry(name);
    this.reconnecting.clear();
  }

  private async write(name: string, body: StatusBody): Promise<void> {
    const seen = this.o.observed(name);
    const other = seen?.status;
    if (!body.connected && other && other.replica !== this.o.replica && other.connected) {
      this.stats.yielded++;
      this.written.set(name, JSON.stringify(body));
      return;
    }
    const status = fullStatus(body, other, new Date(this.o.now?.() ?? Date.now()));
    const rv = body.connected ? undefined : seen?.metadata.resourceVersion;
    this.writing.set(name, JSON.stringify(body));
    try {
      await this.patchOrCreate(name, status, rv, seen === undefined);
      this.stats.writes++;
      this.lastFailure = undefined;
      this.written.set(name, JSON.stringify(body));
      // Written (unless a newer takeover of it waits: it stays pending until that one lands).
      if (!this.queue.has(name)) this.reconnecting.delete(name);
    } catch (e) {
      const code = statusCode(e);
      if (code === 409) this.stats.conflicts++;
      else {
        this.stats.failures++;
        this.lastFailure = `${code ?? "no answer"}: ${apiMessage(e)}`;
      }
      this.o.log.warn(
        { node: name, code, err: apiMessage(e) },
        "NodeMasquerade status not written; retrying",
      );
      // A reconnect's write that failed is still a reconnect: its retry goes first again.
      this.queue.unnoteFirst(name);
      this.retry(name, body);
    } finally {
      this.writing.delete(name);
    }
  }

  /** Marks a dead holder's object unless it changed since it was found so (no retry: swept again). */
  private async writeUnheld(name: string, p: Pending): Promise<void> {
    const seen = this.o.observed(name);
    const st = seen?.status;
    const rv = seen?.metadata.resourceVersion;
    if (!st?.connected || st.replica !== p.body.replica || rv !== p.unheldAt) return;
    try {
      const now = new Date(this.o.now?.() ?? Date.now());
      await this.o.api.patchStatus(name, fullStatus(p.body, st, now), rv);
      this.stats.unheld++;
    } catch (e) {
      const code = statusCode(e);
      if (code === 409) this.stats.conflicts++;
      else this.stats.failures++;
      this.o.log.warn(
        { node: name, code, err: apiMessage(e) },
        "the NodeMasquerade of a dead replica's node not marked unknown",
      );
    }
  }

  private async patchOrCreate(
    name: string,
    status: ReturnType<typeof fullStatus>,
    rv: string | undefined,
    missing: boolean,
  ): Promise<void> {
    if (!missing) {
      try {
        return await this.o.api.patchStatus(name, status, rv);
      } catch (e) {
        if (statusCode(e) !== 404) throw e;
      }
    }
    try {
      await this.o.api.create(name);
      this.stats.creates++;
    } catch (e) {
      if (statusCode(e) !== 409) throw e;
    }
    await this.o.api.patchStatus(name, status);
  }

  /**
   * Tries again later unless a newer state was offered meanwhile (offer cancels it, even when
   * that state was written before the retry's time); a takeover still first.
   */
  private retry(name: string, body: StatusBody): void {
    this.cancelRetry(name);
    const t = setTimeout(() => {
      this.retries.delete(name);
      if (!this.closed && !this.queue.has(name))
        this.queue.put(name, { body }, this.reconnecting.has(name));
    }, this.o.retryMs ?? 1000);
    t.unref();
    this.retries.set(name, t);
  }

  private cancelRetry(name: string): void {
    clearTimeout(this.retries.get(name));
    this.retries.delete(name);
  }
}

/**
 * Does the observed status carry every field of `body` as written? (null is no field: a merge
 * patch deletes it; keys compared in any order.)
 */
function covers(observed: StatusBody, body: StatusBody): boolean {
  const o = observed as Record<string, unknown>;
  return Object.entries(body).every(([k, v]) => v === null || v === undefined || same(o[k], v));
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] != null);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] != null);
  if (ka.length !== kb.length) return false;
  return kb.every((k) =>
    same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
