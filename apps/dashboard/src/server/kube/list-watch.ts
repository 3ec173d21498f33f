// One object kept in sync with the API server by the informer pattern (client-go's Reflector,
// @kubernetes/client-node's ListWatch): list, watch from the *list's* resourceVersion with
// bookmarks, resume from the last version seen when a watch ends, and list again when the API
// server says that version is gone (410 Expired). Watching from an object's own
// resourceVersion instead fails for good once the watch cache has moved past it (a restart,
// other ConfigMaps changing) — the list's version is always current.
//
// Unlike client-node's ListWatch, it never stops on an error: failures are retried with capped,
// jittered exponential backoff, and its health (is a watch open, since when, why not) is
// published for /readyz and metrics.
import type { KubernetesObject, Watch } from "@kubernetes/client-node";
import { sleep } from "@masq/node-util";
import { retryDelay } from "@masq/shared";
import type { Logger } from "pino";
import { statusCode } from "./client.js";

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchHealth {
  /** A watch stream is open. */
  open: boolean;
  /** Epoch ms of the last change of `open`. */
  since: number;
  /** Failed list/watch attempts in a row (0 once a watch stays open or delivers events). */
  failures: number;
  /** Lists done (the first, plus one after each 410 or failure of the resumed watch). */
  lists: number;
  lastError?: string;
  /** The last failure was an API server that could not be reached (network error or 5xx). */
  unreachable: boolean;
}

export interface ListWatchOptions<T extends KubernetesObject> {
  watch: Pick<Watch, "watch">;
  /** Collection path, e.g. /api/v1/namespaces/kube-system/configmaps. */
  path: string;
  /** e.g. metadata.name=ip-masq-agent; "" lists and watches the whole collection. */
  fieldSelector: string;
  /** The same collection listed with the same selector. */
  list(): Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;
  /** The whole current set after each list (empty when the object does not exist). */
  onList(items: T[]): void;
  onEvent(type: EventType, obj: T): void;
  log: Logger;
  /**
   * Backoff after failures, growing 1.5× from `initial` to `max` (default 100 ms, 500 ms) while
   * the API server cannot be reached: it is watched again within half a second of its return
   * from a restart, for two cheap connection attempts a second meanwhile. Refusals it answers
   * (403, 404…) will not pass by themselves: those back off up to 30 s.
   */
  backoffMs?: { initial: number; max: number };
  clock?: () => number;
}

type WatchEnd = {
  error?: unknown;
  expired: boolean;
  delivered: number;
  openedAt?: number;
  /** The watch started from a list's version (not resumed from an event's). */
  fromList: boolean;
};

export class ListWatcher<T extends KubernetesObject> {
  private rv = "";
  /** `rv` is a list's version, not yet advanced by an event or bookmark. */
  private rvFromList = false;
  /** The last failure may pass by itself (retry fast), or not (a refusal: back off long). */
  private transient = true;
  private stopped = false;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly now: () => number;
  readonly health: WatchHealth;

  constructor(private readonly o: ListWatchOptions<T>) {
    this.now = o.clock ?? Date.now;
    this.health = { open: false, since: this.now(), failures: 0, lists: 0, unreachable: false };
  }

  /** Lists once (rejecting when that fails), then keeps watching in the background. */
  async start(): Promise<void> {
    await this.relist();
    this.loop = this.run();
  }

  /**
   * Lists and watches in the background for good: a first list that fails is retried with
   * the backoff like any later one (`health.lists` stays 0 and `health.lastError` says why
   * meanwhile), for a follower that must not give up on one failure at its start.
   */
  startInBackground(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.wake?.();
    // A watch still connecting cannot be aborted yet (client-node hands out its controller
    // only once connected); it is aborted as soon as it connects.
    await Promise.race([this.loop, sleep(1000)]);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (!this.rv) {
        const listed = await this.relist().then(
          () => true,
          (e) => this.failed(e, "list"),
        );
        if (!listed) {
          await this.backoff();
          continue;
        }
      }
      const end = await this.watchOnce();
      if (this.stopped) return;
      this.setOpen(false);
      await this.afterWatch(end);
    }
  }

  /** Decides what follows a watch: resume, relist, or back off first. */
  private async afterWatch(end: WatchEnd): Promise<void> {
    const lasted = end.openedAt !== undefined && this.now() - end.openedAt > 5000;
    if (end.expired) {
      this.rv = ""; // the version is gone: list again, at once when resuming
      // Expired right after a list means the list's own version is already gone: back off.
      if (end.fromList && end.delivered === 0 && !lasted) {
        const gone = new Error("410 Gone: the watch cache no longer holds the listed version");
        this.failed(Object.assign(gone, { code: 410 }), "watch");
        await this.backoff();
      }
      return;
    }
    if (end.error !== undefined && !isTimeout(end.error)) {
      this.failed(end.error, "watch");
      await this.backoff();
      return;
    }
    // Closed by the server (its watch timeout, a restart) or our inactivity timeout: resume.
    // A stream that closes at once without events is retried with backoff, not in a loop.
    if (end.delivered === 0 && !lasted && !isTimeout(end.error)) {
      this.failed(Object.assign(new Error("the watch closed at once"), { code: 410 }), "watch");
      await this.backoff();
    }
  }

  private async relist(): Promise<void> {
    const list = await this.o.list();
    this.health.lists++;
    this.rv = list.metadata?.resourceVersion ?? "";
    this.rvFromList = true;
    this.o.onList(list.items);
  }

  /** One watch from `rv`; resolves when it ends. */
  private watchOnce(): Promise<WatchEnd> {
    return new Promise((resolve) => {
      const end: WatchEnd = { expired: false, delivered: 0, fromList: this.rvFromList };
      const onEvent = (type: string, obj: T & { code?: number }) => {
        if (type === "ERROR") {
          end.expired = obj.code === 410;
          if (!end.expired)
            end.error = Object.assign(new Error(describeStatus(obj)), { code: obj.code });
          this.abort?.abort();
          return;
        }
        end.delivered++;
        this.healthy();
        const rv = obj.metadata?.resourceVersion;
        if (rv) {
          this.rv = rv;
          this.rvFromList = false;
        }
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED")
          this.o.onEvent(type, obj);
      };
      let ended = false;
      const onDone = (err: unknown) => {
        ended = true;
        if (err && statusCode(err) === 410) end.expired = true;
        else if (err && !end.error) end.error = err;
        resolve(end);
      };
      const query = {
        ...(this.o.fieldSelector ? { fieldSelector: this.o.fieldSelector } : {}),
        resourceVersion: this.rv,
        allowWatchBookmarks: true,
      };
      this.o.watch
        .watch(this.o.path, query, onEvent, onDone)
        .then((c) => {
          // client-node resolves even when the request failed (after calling onDone).
          if (ended) return;
          this.abort = c;
          end.openedAt = this.now();
          if (this.stopped) c.abort();
          else this.setOpen(true);
        })
        .catch(onDone);
    });
  }

  private setOpen(open: boolean): void {
    if (this.health.open === open) return;
    this.health.open = open;
    this.health.since = this.now();
  }

  /** Events flow again: the watch is kept. */
  private healthy(): void {
    if (this.health.failures > 0)
      this.o.log.info({ path: this.o.path, failures: this.health.failures }, "watch restored");
    this.health.failures = 0;
    this.health.unreachable = false;
    this.health.lastError = undefined;
  }

  private failed(e: unknown, what: "list" | "watch"): false {
    const code = statusCode(e);
    this.health.failures++;
    // No HTTP status (refused, reset) or 5xx: the API server is away.
    this.health.unreachable = code === undefined || code >= 500;
    this.transient = this.health.unreachable || code === 410;
    this.health.lastError = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    // The first failure may be a routine reconnect; from the second on nobody is watching:
    // warn then, at 4, 8, 16, 32 failures and every 30th after (about once a minute).
    const f = this.health.failures;
    const level = f >= 2 && ((f & (f - 1)) === 0 || f % 30 === 0) ? "warn" : "debug";
    this.o.log[level](
      { path: this.o.path, err: e, failures: this.health.failures },
      `${what} of ${this.o.fieldSelector || this.o.path} failed; retrying`,
    );
    return false;
  }

  private backoff(): Promise<void> {
    const { initial, max } = this.o.backoffMs ?? { initial: 100, max: 500 };
    const cap = this.transient ? max : Math.max(max, 30_000);
    const ms = retryDelay(this.health.failures - 1, {
      initialMs: initial,
      maxMs: cap,
      factor: 1.5,
      jitter: [0.8, 1.2],
    });
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && e.name === "TimeoutError";
}

function describeStatus(s: { message?: string; reason?: string; code?: number }): string {
  return `${s.code ?? "?"} ${s.reason ?? ""}: ${s.message ?? "watch error"}`;
}
