"use client";
// One EventSource per tab (GET /api/events). Events are queued and applied at most once per
// animation frame, so a burst of server batches costs one React render.
import { type BackoffPolicy, type LiveEvents, type NodesResponse, retryDelay } from "@masq/shared";
import { useEffect, useRef, useSyncExternalStore } from "react";
import { ApiError, api } from "../api/client";
import { allNodes, endpoints } from "../api/endpoints";
import { noteServerTime } from "../components/Time";
import { type Connection, connectionOnError } from "./connection";
import {
  applyConfigEvent,
  applyFleet,
  applyHello,
  applyRollout,
  applyStaged,
  type FleetState,
  initialFleetState,
} from "./fleet-store";

export type { Connection };

/** A polled node list stands in for a hello when the stream does not deliver. */
type Queued =
  | {
      kind: "hello";
      data: LiveEvents["hello"] | Pick<NodesResponse, "nodes" | "summary" | "serverTime">;
      /** Fetched by the polling fallback, not sent by the stream: the page is not live. */
      polled?: true;
    }
  | { kind: "fleet"; data: LiveEvents["fleet"] }
  | { kind: "config"; data: LiveEvents["config"] }
  | { kind: "rollout"; data: LiveEvents["rollout"] }
  | { kind: "staged-rollout"; data: LiveEvents["staged-rollout"] };

export type LiveEventKind = Queued["kind"];
type EventListener = (q: Queued) => void;

const HELLO_TIMEOUT_MS = 4000;
/** Reopening the stream after it failed: 1 s doubling to 15 s. */
const RETRY: BackoffPolicy = { initialMs: 1000, maxMs: 15_000 };

class LiveFleet {
  private state: FleetState = initialFleetState();
  private connection: Connection = "connecting";
  private listeners = new Set<() => void>();
  private eventListeners = new Set<EventListener>();
  private queue: Queued[] = [];
  private flushScheduled = false;
  private es: EventSource | null = null;
  private users = 0;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private helloTimer: ReturnType<typeof setTimeout> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;

  getState = (): FleetState => this.state;
  getConnection = (): Connection => this.connection;

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  onEvent(l: EventListener): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  private setConnection(c: Connection): void {
    if (c === this.connection) return;
    this.connection = c;
    this.notify();
  }

  acquire(): () => void {
    this.users++;
    if (this.users === 1) this.open();
    return () => {
      this.users--;
      if (this.users === 0) this.close();
    };
  }

  private open(): void {
    if (typeof window === "undefined" || this.es) return;
    const es = new EventSource("/api/events", { withCredentials: true });
    this.es = es;
    const on = (kind: LiveEventKind) =>
      es.addEventListener(kind, (ev) => {
        let data: unknown;
        try {
          data = JSON.parse((ev as MessageEvent<string>).data);
        } catch {
          return;
        }
        this.enqueue({ kind, data } as Queued);
      });
    on("hello");
    on("fleet");
    on("config");
    on("rollout");
    on("staged-rollout");
    es.onopen = () => {
      this.retries = 0;
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.es = null;
        this.setConnection(connectionOnError(this.connection));
        void this.checkAuthThenRetry();
      } else {
        this.setConnection(connectionOnError(this.connection));
      }
    };
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.helloTimer = setTimeout(() => {
      if (!this.state.ready) void this.pollOnce();
    }, HELLO_TIMEOUT_MS);
  }

  private close(): void {
    this.es?.close();
    this.es = null;
    for (const t of [this.retryTimer, this.helloTimer]) if (t) clearTimeout(t);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.retryTimer = this.helloTimer = this.pollTimer = null;
  }

  private async checkAuthThenRetry(): Promise<void> {
    try {
      await api("/api/me"); // a 401 here redirects to /login
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
    }
    if (this.users === 0) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = null;
        if (this.users > 0) this.open();
      },
      retryDelay(this.retries++, RETRY),
    );
  }

  /**
   * The stream did not deliver a hello in time (a proxy buffering SSE?): load the node list and
   * the staged rollout, then again every 5 s while the stream stays silent.
   */
  private async pollOnce(): Promise<void> {
    try {
      const [nodes, staged] = await Promise.all([allNodes(), endpoints.rollout()]);
      if (this.state.ready) return;
      this.enqueuePolled(nodes, staged.rollout);
      this.setConnection("polling");
      if (!this.pollTimer) {
        this.pollTimer = setInterval(() => {
          if (this.connection !== "polling") return;
          Promise.all([allNodes(), endpoints.rollout()]).then(
            ([n, r]) => this.enqueuePolled(n, r.rollout),
            () => {},
          );
        }, 5000);
      }
    } catch {
      // the error states of the pages explain it
    }
  }

  private enqueuePolled(nodes: NodesResponse, staged: LiveEvents["staged-rollout"]): void {
    this.enqueue({ kind: "hello", data: nodes, polled: true });
    this.enqueue({ kind: "staged-rollout", data: staged });
  }

  private enqueue(q: Queued): void {
    this.queue.push(q);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    let done = false;
    const run = () => {
      if (done) return;
      done = true;
      this.flush();
    };
    if (typeof requestAnimationFrame === "function" && document.visibilityState === "visible") {
      requestAnimationFrame(run);
      setTimeout(run, 250); // rAF does not fire in background tabs
    } else setTimeout(run, 0);
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    let s = this.state;
    for (const q of batch) {
      switch (q.kind) {
        case "hello":
          noteServerTime(q.data.serverTime);
          s = applyHello(s, q.data);
          // A stream that connects but never delivers (a proxy buffering it) still has an open
          // EventSource: only the stream's own hello makes the page live.
          if (!q.polled) this.connection = "live";
          break;
        case "fleet":
          s = applyFleet(s, q.data);
          this.connection = "live";
          break;
        case "config":
          s = applyConfigEvent(s, q.data);
          break;
        case "rollout":
          s = applyRollout(s, q.data);
          break;
        case "staged-rollout":
          s = applyStaged(s, q.data);
          break;
      }
    }
    this.state = s;
    this.notify();
    for (const q of batch) for (const l of this.eventListeners) l(q);
  }
}

export const liveFleet = new LiveFleet();

const serverState = initialFleetState();

export function useFleetState(): FleetState {
  return useSyncExternalStore(liveFleet.subscribe, liveFleet.getState, () => serverState);
}

/**
 * The staged rollout as the server computed it, from the same stream and batch as the fleet
 * bar (fleet-store `staged`); `undefined` until the first hello.
 */
export function useStagedRollout(): FleetState["staged"] {
  return useSyncExternalStore(
    liveFleet.subscribe,
    () => liveFleet.getState().staged,
    () => undefined,
  );
}

export function useConnection(): Connection {
  return useSyncExternalStore(
    liveFleet.subscribe,
    liveFleet.getConnection,
    () => "connecting" as Connection,
  );
}

/** Keeps the stream open while mounted. */
export function useLiveStream(): void {
  useEffect(() => liveFleet.acquire(), []);
}

/** Calls `fn` for every live event of the given kinds (latest `fn`, stable subscription). */
export function useLiveEvent(kinds: readonly LiveEventKind[], fn: (q: Queued) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  const key = kinds.join(",");
  useEffect(() => {
    const set = new Set(key.split(","));
    return liveFleet.onEvent((q) => {
      if (set.has(q.kind)) ref.current(q);
    });
  }, [key]);
}
