// Writes core/v1 Events through the real client-node as client-go's event broadcaster and
// recorder do (tools/record/event.go): `record` only queues and never blocks or throws; one
// worker correlates each event (event-correlator.ts) and creates it, or patches the earlier
// one (strategic merge; created anew when the earlier one is gone). Transport errors are
// retried up to 12 tries, 10 s apart (the first wait jittered); an API error is final.
// The queue holds 1,000 events; past that new ones are dropped, as the broadcaster does.
// Every request (create or patch) first takes a token of one bucket per recorder, 50/s with a
// burst of 100 by default: kubelet's event client, whose rest.Config QPS/Burst come from
// eventRecordQPS/eventBurst (cmd/kubelet/app/server.go; defaults in
// pkg/kubelet/apis/config/v1beta1/defaults.go) and whose client-go rate limiter waits for a
// token (rest.Request tryThrottle, flowcontrol.NewTokenBucketRateLimiter). The worker waits,
// so a burst of events fills the bounded queue and the excess is dropped, never written.
// One departure from client-go: the spam filter drops events, and a dropped last word (a node
// flapping, then Healed) would leave `kubectl describe` showing a state that is over. So the
// latest throttled event of each object is kept (bounded) and recorded again once the filter
// has a token for it, unless something newer about that object was written meanwhile.
import {
  type CoreV1Event,
  PatchStrategy,
  setHeaderOptions,
  type V1ObjectReference,
} from "@kubernetes/client-node";
import { retryDelay } from "@masq/shared";
import type { Logger } from "pino";
import { TokenBucket } from "../util/token-bucket.js";
import { type KubeClients, statusCode } from "./client.js";
import {
  CORRELATOR_DEFAULTS,
  type CorrelatorOptions,
  EventCorrelator,
  eventName,
  type RecordedEvent,
  toCoreEvent,
} from "./event-correlator.js";

/** What became of one recorded event (the `result` label of ipmasq_kube_events_total). */
export type EventResult = "created" | "patched" | "throttled" | "dropped" | "failed";

export interface EventRecorderOptions {
  clients: KubeClients;
  log: Logger;
  /** source.component and reportingComponent. */
  component: string;
  /** reportingInstance: this replica (its pod name). */
  instance: string;
  onResult?: (r: EventResult) => void;
  /** Events waiting to be written (client-go maxQueuedEvents). */
  maxQueued?: number;
  /** Tries per event (client-go maxTriesPerEvent). */
  maxTries?: number;
  /** Wait between tries in ms (client-go defaultSleepDuration). */
  retryMs?: number;
  correlator?: Partial<CorrelatorOptions>;
  /** Event API requests a second (kubelet eventRecordQPS, default 50). */
  writesPerSecond?: number;
  /** Requests allowed at once before the rate applies (kubelet eventBurst, default 100). */
  writeBurst?: number;
  /** Told the milliseconds a request waited for the write rate limit (metrics). */
  onWait?: (ms: number) => void;
  /** The wall clock: the events' times (default Date.now). */
  now?: () => number;
  /**
   * The clock the write rate, its waits and the correlator's spam filter are measured on
   * (default performance.now; `now` when only that is given, as tests step one clock).
   */
  monotonic?: () => number;
}

/** kubelet's defaults for its event client: eventRecordQPS 50, eventBurst 100. */
export const EVENT_WRITE_DEFAULTS = { writesPerSecond: 50, writeBurst: 100 } as const;

/** Objects whose last throttled event is kept for a later try (beyond: the oldest is dropped). */
const MAX_TRAILING = 4096;

export type EventType = "Normal" | "Warning";

/** Longest message written; longer ones are cut (events.k8s.io caps a note at 1 kB). */
export const MAX_EVENT_MESSAGE = 1024;

interface Queued {
  ref: V1ObjectReference | (() => Promise<V1ObjectReference>);
  type: EventType;
  reason: string;
  message: string;
  at: number;
  /** A kept last word written again: not counted twice (EventCorrelator.replay). */
  replay?: boolean;
}

export class KubeEventRecorder {
  private readonly queue: Queued[] = [];
  private readonly correlator: EventCorrelator;
  /** Every create/patch request takes one token first (kubelet's event client QPS/burst). */
  private readonly writes: TokenBucket;
  private readonly now: () => number;
  /** Monotonic ms: the write rate and its waits. */
  private readonly mono: () => number;
  private running: Promise<void> | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  /** The latest throttled event per object (objectKey), to record once the filter allows. */
  private readonly trailing = new Map<string, Queued>();
  private trailingTimer: NodeJS.Timeout | undefined;
  /** Told what became of each event (metrics); settable after construction. */
  onResult: ((r: EventResult) => void) | undefined;
  /** Told how long a request waited for the write rate limit (metrics); settable. */
  onWait: ((ms: number) => void) | undefined;

  constructor(private readonly o: EventRecorderOptions) {
    this.now = o.now ?? Date.now;
    this.mono = o.monotonic ?? o.now ?? (() => performance.now());
    this.onResult = o.onResult;
    this.onWait = o.onWait;
    this.correlator = new EventCorrelator(o.correlator, this.now, this.mono);
    this.writes = new TokenBucket(
      o.writesPerSecond ?? EVENT_WRITE_DEFAULTS.writesPerSecond,
      o.writeBurst ?? EVENT_WRITE_DEFAULTS.writeBurst,
      this.mono,
    );
  }

  /** Events waiting to be written (at most maxQueued). */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Queues an Event about `ref` (a Node: kind "Node", name, uid = the name, as kubelet refers
   * to its node; a namespaced object: its namespace, name and uid). Returns at once.
   */
  record(ref: Queued["ref"], type: EventType, reason: string, message: string): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueued ?? 1000)) {
      this.onResult?.("dropped");
      return;
    }
    const text =
      message.length > MAX_EVENT_MESSAGE ? `${message.slice(0, MAX_EVENT_MESSAGE - 1)}…` : message;
    this.queue.push({ ref, type, reason, message: text, at: this.now() });
    this.running ??= this.drain();
  }

  /** Resolves once every queued event was written, dropped or given up. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops: queued events are dropped, a wait between tries ends. */
  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.trailing.clear();
    clearTimeout(this.trailingTimer);
    this.wake?.();
    await this.idle();
  }

  /**
   * The one worker. It clears `running` itself the moment it finds the queue empty, so a
   * record() after that starts a new worker (no event is left waiting for the next one).
   */
  private async drain(): Promise<void> {
    for (;;) {
      const q = this.closed ? undefined : this.queue.shift();
      if (!q) {
        this.running = undefined;
        return;
      }
      try {
        await this.write(q);
      } catch (e) {
        this.o.log.warn({ err: e, reason: q.reason }, "cannot record a Kubernetes Event");
        this.onResult?.("failed");
      }
    }
  }

  private async write(q: Queued): Promise<void> {
    const ref = typeof q.ref === "function" ? await q.ref() : q.ref;
    const at = new Date(q.at);
    const event: RecordedEvent = {
      // Events about cluster-scoped objects (Nodes) live in "default", as client-go puts them.
      namespace: ref.namespace || "default",
      name: eventName(ref.name ?? "", q.at),
      involvedObject: ref,
      type: q.type,
      reason: q.reason,
      message: q.message,
      source: { component: this.o.component },
      reportingComponent: this.o.component,
      reportingInstance: this.o.instance,
      count: 1,
      firstTimestamp: at,
      lastTimestamp: at,
    };
    const c = q.replay ? this.correlator.replay(event) : this.correlator.correlate(event);
    const object = objectKey(ref);
    if (c.skip) {
      this.keepTrailing(object, q);
      return this.onResult?.("throttled");
    }
    this.trailing.delete(object);
    const max = this.o.maxTries ?? 12;
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.send(c.event, c.patch);
      if (outcome !== "retry") return this.onResult?.(outcome);
      if (attempt + 1 >= max || this.closed) break;
      const ms = this.o.retryMs ?? 10_000;
      await this.sleep(
        retryDelay(0, { initialMs: ms, maxMs: ms, jitter: attempt === 0 ? [0, 1] : [1, 1] }),
      );
    }
    this.o.log.warn({ reason: q.reason, tries: max }, "gave up recording a Kubernetes Event");
    this.onResult?.("failed");
  }

  /** One try (recordEvent): patch or create; "retry" only when the API could not be reached. */
  private async send(
    e: RecordedEvent,
    patch: { count: number; lastTimestamp: string; message: string } | undefined,
  ): Promise<"created" | "patched" | "failed" | "retry"> {
    const core = this.o.clients.core;
    let err: unknown;
    if (patch) {
      try {
        await this.throttle();
        const out = await core.patchNamespacedEvent(
          { name: e.name, namespace: e.namespace, body: patch },
          setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch),
        );
        this.remember(out, e);
        return "patched";
      } catch (x) {
        err = x;
      }
    }
    if (!patch || statusCode(err) === 404) {
      try {
        await this.throttle();
        const body = toCoreEvent({ ...e, resourceVersion: undefined });
        const out = await core.createNamespacedEvent({ namespace: e.namespace, body });
        this.remember(out, e);
        return "created";
      } catch (x) {
        err = x;
      }
    }
    const code = statusCode(err);
    if (code === undefined) return "retry";
    this.o.log.warn(
      { err, status: code, reason: e.reason, object: e.involvedObject.name },
      "the API server refused a Kubernetes Event (not retried)",
    );
    return "failed";
  }

  private remember(out: CoreV1Event, sent: RecordedEvent): void {
    this.correlator.updateState({
      ...sent,
      name: out.metadata?.name ?? sent.name,
      resourceVersion: out.metadata?.resourceVersion,
      count: out.count ?? sent.count,
      firstTimestamp: out.firstTimestamp ? new Date(out.firstTimestamp) : sent.firstTimestamp,
    });
  }

  /** Keeps `q` as the object's last word and arms one timer for a token's refill time. */
  private keepTrailing(object: string, q: Queued): void {
    this.trailing.delete(object);
    this.trailing.set(object, q);
    if (this.trailing.size > MAX_TRAILING)
      this.trailing.delete(this.trailing.keys().next().value as string);
    if (this.trailingTimer) return;
    const qps = this.o.correlator?.spamQps ?? CORRELATOR_DEFAULTS.spamQps;
    this.trailingTimer = setTimeout(() => this.flushTrailing(), Math.ceil(1000 / qps));
    this.trailingTimer.unref();
  }

  /** Records each kept last word again (throttled again: kept again, for the next refill). */
  private flushTrailing(): void {
    this.trailingTimer = undefined;
    const due = [...this.trailing.values()];
    this.trailing.clear();
    for (const q of due) {
      if (this.closed || this.queue.length >= (this.o.maxQueued ?? 1000)) return;
      this.queue.push({ ...q, at: this.now(), replay: true });
    }
    this.running ??= this.drain();
  }

  /** Waits for a token of the write rate limit (a close ends the wait). */
  private async throttle(): Promise<void> {
    const start = this.mono();
    for (let ms = this.writes.waitMs(); ms > 0 && !this.closed; ms = this.writes.waitMs())
      await this.sleep(ms);
    this.writes.take();
    const waited = this.mono() - start;
    if (waited > 0) this.onWait?.(waited);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      t.unref();
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }
}

/** One key per involved object (kind, namespace, name). */
function objectKey(ref: V1ObjectReference): string {
  return `${ref.kind ?? ""}/${ref.namespace ?? ""}/${ref.name ?? ""}`;
}
