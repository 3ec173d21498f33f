// What kubelet's event recorder does before it writes a core/v1 Event (client-go
// tools/record/events_cache.go, EventCorrelator with its defaults), so the dashboard's Events
// flood the API server no more than a kubelet's do:
// 1. aggregation: events that differ only in message (same source, object, type, reason,
//    reporting controller/instance), 10 distinct messages within 600 s of the last one, become
//    one event "(combined from similar events): <message>";
// 2. dedup: an event seen before (every field but the times equal) becomes a patch of the
//    first one's count, lastTimestamp and message;
// 3. spam filter: a token bucket per source + object + type, 25 events of burst refilled at
//    one per 300 s; over it the event is dropped (after it was counted in step 2, as upstream).
// Every cache is an LRU of 4,096 entries.
import type { CoreV1Event, V1ObjectReference } from "@kubernetes/client-node";
import { TokenBucket } from "../util/token-bucket.js";

export const CORRELATOR_DEFAULTS = {
  lruCacheEntries: 4096,
  aggregateMaxEvents: 10,
  aggregateIntervalMs: 600_000,
  spamBurst: 25,
  spamQps: 1 / 300,
};

export type CorrelatorOptions = typeof CORRELATOR_DEFAULTS;

/** The fields the correlator reads and writes (a core/v1 Event). */
export interface RecordedEvent {
  namespace: string;
  name: string;
  /** Set once the API server stored it (from its answer). */
  resourceVersion?: string;
  involvedObject: V1ObjectReference;
  type: "Normal" | "Warning";
  reason: string;
  message: string;
  source: { component: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  count: number;
  firstTimestamp: Date;
  lastTimestamp: Date;
}

/** What to do with one event: skip it, create it, or patch the earlier one with `patch`. */
export type Correlated =
  | { skip: true }
  | {
      skip: false;
      event: RecordedEvent;
      patch?: { count: number; lastTimestamp: string; message: string };
    };

/** A Map kept in use order, dropping the least recently used entry past `max` (k8s.io/utils/lru). */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v === undefined) return undefined;
    this.map.delete(k);
    this.map.set(k, v);
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(k: string): void {
    this.map.delete(k);
  }
  get size(): number {
    return this.map.size;
  }
}

const ref = (o: V1ObjectReference) => [o.kind, o.namespace, o.name, o.uid, o.apiVersion];
const join = (parts: (string | undefined)[]) => parts.map((p) => p ?? "").join("");

/** getEventKey: source, object (with fieldPath), type, reason, message. */
export const eventKey = (e: RecordedEvent) =>
  join([
    e.source.component,
    e.source.host,
    ...ref(e.involvedObject).slice(0, 3),
    e.involvedObject.fieldPath,
    ...ref(e.involvedObject).slice(3),
    e.type,
    e.reason,
    e.message,
  ]);

/** getSpamKey: source, object, type. */
const spamKey = (e: RecordedEvent) =>
  join([e.source.component, e.source.host, ...ref(e.involvedObject), e.type]);

/** EventAggregatorByReasonFunc: everything but the message. */
const aggregateKey = (e: RecordedEvent) =>
  join([
    e.source.component,
    e.source.host,
    ...ref(e.involvedObject),
    e.type,
    e.reason,
    e.reportingComponent,
    e.reportingInstance,
  ]);

interface Observation {
  count: number;
  firstTimestamp: Date;
  name: string;
  resourceVersion?: string;
}

export class EventCorrelator {
  private readonly spam: Lru<TokenBucket>;
  private readonly aggregates: Lru<{ messages: Set<string>; last: number }>;
  private readonly seen: Lru<Observation>;
  private readonly o: CorrelatorOptions;
  private readonly now: () => number;
  /**
   * The spam filter's and the aggregation window's clock (default performance.now; `now` when
   * only that is given, as tests step one clock): a wall step forward refilled every bucket.
   */
  private readonly mono: () => number;

  /** `now`: the wall clock, for the events' times and names (default Date.now). */
  constructor(opts: Partial<CorrelatorOptions> = {}, now?: () => number, monotonic?: () => number) {
    this.now = now ?? Date.now;
    this.mono = monotonic ?? now ?? (() => performance.now());
    this.o = { ...CORRELATOR_DEFAULTS, ...opts };
    this.spam = new Lru(this.o.lruCacheEntries);
    this.aggregates = new Lru(this.o.lruCacheEntries);
    this.seen = new Lru(this.o.lruCacheEntries);
  }

  /** EventCorrelate: aggregate, then count, then the spam filter. */
  correlate(e: RecordedEvent): Correlated {
    const [aggregated, key] = this.aggregate(e);
    const observed = this.observe(aggregated, key);
    if (!this.allow(observed.event)) return { skip: true };
    return { skip: false, ...observed };
  }

  /**
   * A throttled event tried again (the recorder's kept last word). It was counted when first
   * correlated, so it is not counted twice: only the spam filter decides.
   */
  replay(e: RecordedEvent): Correlated {
    if (!this.allow(e)) return { skip: true };
    const last = this.seen.get(eventKey(e));
    if (!last || last.count === 0) return { skip: false, event: e };
    const event: RecordedEvent = {
      ...e,
      name: last.name,
      resourceVersion: last.resourceVersion,
      firstTimestamp: last.firstTimestamp,
      count: last.count,
    };
    const lastTimestamp = e.lastTimestamp.toISOString();
    return { skip: false, event, patch: { count: last.count, lastTimestamp, message: e.message } };
  }

  /** What the API server answered (its name and resourceVersion), for the next patch. */
  updateState(e: RecordedEvent): void {
    this.seen.set(eventKey(e), {
      count: e.count,
      firstTimestamp: e.firstTimestamp,
      name: e.name,
      resourceVersion: e.resourceVersion,
    });
  }

  private aggregate(e: RecordedEvent): [RecordedEvent, string] {
    const now = this.now();
    const mono = this.mono();
    const akey = aggregateKey(e);
    let rec = this.aggregates.get(akey);
    if (!rec || mono - rec.last > this.o.aggregateIntervalMs)
      rec = { messages: new Set(), last: 0 };
    rec.messages.add(e.message);
    rec.last = mono;
    this.aggregates.set(akey, rec);
    if (rec.messages.size < this.o.aggregateMaxEvents) return [e, eventKey(e)];
    // Keep the set at most max - 1 large (upstream pops any one).
    rec.messages.delete(rec.messages.values().next().value as string);
    const at = new Date(now);
    const combined: RecordedEvent = {
      namespace: e.namespace,
      name: eventName(e.involvedObject.name ?? "", now),
      involvedObject: e.involvedObject,
      type: e.type,
      reason: e.reason,
      message: `(combined from similar events): ${e.message}`,
      source: e.source,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
    };
    return [combined, akey];
  }

  private observe(
    e: RecordedEvent,
    key: string,
  ): { event: RecordedEvent; patch?: { count: number; lastTimestamp: string; message: string } } {
    const last = this.seen.get(key);
    const event = { ...e };
    let patch: { count: number; lastTimestamp: string; message: string } | undefined;
    if (last && last.count > 0) {
      event.name = last.name;
      event.resourceVersion = last.resourceVersion;
      event.firstTimestamp = last.firstTimestamp;
      event.count = last.count + 1;
      patch = {
        count: event.count,
        lastTimestamp: event.lastTimestamp.toISOString(),
        message: event.message,
      };
    }
    this.seen.set(key, {
      count: event.count,
      firstTimestamp: event.firstTimestamp,
      name: event.name,
      resourceVersion: event.resourceVersion,
    });
    return patch ? { event, patch } : { event };
  }

  private allow(e: RecordedEvent): boolean {
    const key = spamKey(e);
    // flowcontrol's passive rate limiter: full at the start.
    const bucket =
      this.spam.get(key) ?? new TokenBucket(this.o.spamQps, this.o.spamBurst, this.mono);
    const ok = bucket.take();
    this.spam.set(key, bucket);
    return ok;
  }
}

/** util.GenerateEventName: "<object name>.<unix nanoseconds in hex>". */
export function eventName(objectName: string, nowMs: number): string {
  return `${objectName}.${(BigInt(Math.floor(nowMs)) * 1_000_000n + BigInt(seq++ % 1_000_000)).toString(16)}`;
}
let seq = 0;

/** The core/v1 Event the API receives for a correlated event. */
export function toCoreEvent(e: RecordedEvent): CoreV1Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: e.name, namespace: e.namespace },
    involvedObject: e.involvedObject,
    type: e.type,
    reason: e.reason,
    message: e.message,
    source: e.source,
    reportingComponent: e.reportingComponent,
    reportingInstance: e.reportingInstance,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
  };
}
