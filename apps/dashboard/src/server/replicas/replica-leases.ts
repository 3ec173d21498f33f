// Replica liveness: every dashboard replica renews its own Lease `<prefix><pod name>` (every
// 5 s, leaseDurationSeconds 15) and follows the others' with one list-watch of the namespace's
// Leases. A Lease is judged by this replica's own monotonic clock only: it is live while its
// record changed less than leaseDurationSeconds ago *as observed here*, never by comparing the
// holder's renewTime with the local clock. This is what client-go's leader election does
// (k8s.io/client-go/tools/leaderelection: it keeps observedRecord and observedTime, the local
// time it saw the record change, and tests observedTime + LeaseDuration against its own clock,
// which Go reads monotonically). Every duration here is on `monotonic`: a wall clock stepped
// (NTP, a VM resumed) by more than a Lease duration made every other replica look dead, or kept
// a dead one live. The wall clock is only for what is written (renewTime) or shown.
import { type KubernetesObject, type V1Lease, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { apiMessage, type KubeClients, statusCode } from "../kube/client.js";
import { ListWatcher } from "../kube/list-watch.js";

export interface ReplicaLeaseOptions {
  namespace: string;
  /** Lease names are `${prefix}${replica}`. */
  prefix: string;
  /** This replica's pod name. */
  replica: string;
  renewMs?: number;
  durationSeconds?: number;
  /** Gone replicas' Leases are deleted this long after release / after their last renewal. */
  keep?: { releasedMs: number; unrenewedMs: number };
  /** The wall clock (ms since the epoch): only for what is written or shown (default Date.now). */
  clock?: () => number;
  /** The clock every duration is measured on (ms; default performance.now): never stepped. */
  monotonic?: () => number;
  /**
   * Reconnects to this replica whose status write is not done yet (status-writer.ts), written
   * on the Lease at each renewal (PENDING_ANNOTATION) for the staged rollout's owner.
   */
  reconnectsPending?: () => number;
  /**
   * Reporters connecting to this replica now (token being checked, hello and claim, refused for
   * now within their retry: gateway/connecting.ts): unreportedSince counts them for this replica
   * itself, whose own Lease it does not read (break9).
   */
  connectingHere?: () => number;
  /**
   * How long the reporters of a replica that stopped renewing take to reconnect to another one
   * and be queued there (staged-offline.ts RECONNECT_GRACE_MS; default 15 s): unreportedSince.
   */
  reconnectMs?: number;
}

/** A replica's reconnects not yet written to their NodeMasquerade, as of its last renewal. */
export const PENDING_ANNOTATION = "ipmasq.dev/reconnects-pending";

export interface ReplicaLiveness {
  live: boolean;
  /** Why not, in a sentence ("replica X stopped renewing its Lease at …"). */
  reason?: string;
  /** Not live: when this replica last saw its Lease renewed (its wall clock, to show), if ever. */
  lastRenewSeenAt?: number;
  /** Not live: how long ago (ms, monotonic) that was, if ever; durations are judged on this. */
  unrenewedForMs?: number;
}

/**
 * How long a gone replica's Lease is kept: released, a minute (the others see the release);
 * unrenewed, an hour (a replica partitioned away may come back).
 */
const KEEP = { releasedMs: 60_000, unrenewedMs: 3_600_000 };

export class ReplicaLeases {
  /** Per replica: the record last seen and the local time it was first seen. */
  private readonly observed = new Map<
    string,
    {
      raw: string;
      /** When it was first seen here (monotonic ms). */
      at: number;
      /** The same moment on the wall clock (shown, never subtracted). */
      wallAt: number;
      renewTime?: string;
      released?: boolean;
      rv?: string;
      /** Its PENDING_ANNOTATION at that renewal (undefined: not written, an older release). */
      pending?: number;
      /** The renewal seen before this one: when, and its PENDING_ANNOTATION. */
      prev?: { at: number; pending?: number };
    }
  >();
  /** A stale Lease being deleted (one at a time). */
  private collecting: Promise<void> | undefined;
  private readonly watcher: ListWatcher<KubernetesObject>;
  /** Monotonic ms, as every time kept here but wallAt. */
  private readonly startedAt: number;
  /** When this replica's own Lease was last written (monotonic); undefined: not yet. */
  private renewedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The renewal in flight, awaited by close() so it cannot re-create a deleted Lease. */
  private renewing: Promise<void> | undefined;
  problem: string | undefined;
  /** Monotonic ms: every duration. */
  private readonly now: () => number;
  /** Wall-clock ms: renewTime written, times shown. */
  private readonly wall: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly o: ReplicaLeaseOptions,
    private readonly log: Logger,
  ) {
    this.now = o.monotonic ?? (() => performance.now());
    this.wall = o.clock ?? Date.now;
    this.startedAt = this.now();
    this.watcher = new ListWatcher<KubernetesObject>({
      watch: clients.watch,
      path: `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases`,
      fieldSelector: "",
      list: () => clients.coordination.listNamespacedLease({ namespace: o.namespace }),
      onList: (items) => {
        for (const l of items) this.see(l as V1Lease);
      },
      onEvent: (type, l) => {
        if (type !== "DELETED") this.see(l as V1Lease);
        else this.observed.delete(this.replicaOf(l as V1Lease) ?? "");
      },
      log,
    });
  }

  private get durationMs(): number {
    return (this.o.durationSeconds ?? 15) * 1000;
  }

  /**
   * Do the other replicas take this one's word: was its own Lease written within its duration
   * (since it started, while the first write is tried)? Not while its Lease writes fail: they
   * judge it as they would a dead replica, whatever its other writes say (status-writer.ts).
   */
  renewedRecently(): boolean {
    return this.now() - (this.renewedAt ?? this.startedAt) < this.durationMs;
  }

  /** Is `replica` renewing its Lease? This replica always is. */
  liveness(replica: string): ReplicaLiveness {
    if (replica === this.o.replica) return { live: true };
    const seen = this.observed.get(replica);
    const now = this.now();
    if (!seen) {
      // Just started and the others' Leases not listed yet: give them the benefit of the doubt.
      // Once listed, a replica without a Lease is none (a status naming it vouches for nothing).
      if (this.watcher.health.lists === 0 && now - this.startedAt < this.durationMs)
        return { live: true };
      // Not listed (the list fails): whether it has one is not known here, not "none".
      if (this.watcher.health.lists === 0)
        return {
          live: false,
          reason: `the replica Leases cannot be listed here, so whether replica ${replica} is alive is not known`,
        };
      return { live: false, reason: `replica ${replica} has no Lease` };
    }
    const last = { lastRenewSeenAt: seen.wallAt, unrenewedForMs: now - seen.at };
    if (seen.released)
      return { live: false, reason: `replica ${replica} released its Lease (shut down)`, ...last };
    if (now - seen.at < this.durationMs) return { live: true };
    const at = seen.renewTime ? ` at ${seen.renewTime}` : "";
    return { live: false, reason: `replica ${replica} stopped renewing its Lease${at}`, ...last };
  }

  /**
   * Why whether `replica` is alive and still holds its nodes is not known here: it stopped
   * renewing its Lease without releasing it (a replica cut off from the API server keeps its
   * reporters; a dead one loses them — a Lease does not tell the two apart), or the Leases
   * cannot be listed. Undefined when known: live, released on shutdown, or without a Lease.
   */
  unknownState(replica: string): string | undefined {
    const l = this.liveness(replica);
    const seen = this.observed.get(replica);
    if (l.live || seen?.released || (!seen && this.watcher.health.lists > 0)) return undefined;
    return `${l.reason ?? `replica ${replica} is not live`}: whether it is alive and still holds the node is not known`;
  }

  /**
   * The other replicas renewing their Lease now, sorted; null until the Leases were listed
   * once (whether others are active is not known yet).
   */
  liveOthers(): string[] | null {
    if (this.watcher.health.lists === 0) return null;
    return [...this.observed.keys()]
      .filter((r) => r !== this.o.replica && this.liveness(r).live)
      .sort();
  }

  /**
   * The live replicas (this one: while reporters are connecting to it now) that have not shown,
   * in a renewal seen here at `since` (this replica's monotonic clock, ms) or later, that every reconnect to them is written to its
   * NodeMasquerade, each with why ("dash-b: 12 reconnects not yet written"); empty: every
   * node connected anywhere by about `since` says so in its object now. A node connected
   * nowhere by its object is then connected nowhere (staged-offline.ts). Renewals come every
   * renewMs (5 s); a replica of an older release writes no count and is listed until `since` is
   * long past (the caller's bound). Two renewals since must say none wait: the second leaves
   * the writes a renewal's time to show in this replica's watch of the NodeMasquerades. A replica that stopped renewing after `since` less the
   * reconnect window moves `since` on to a reconnect window after it went (its reporters
   * reconnect to the others then), and is listed until that.
   */
  unreportedSince(since: number): string[] {
    const { after, gone } = this.goneSince(since);
    const out = gone;
    // Reporters connecting to this replica itself are reconnects too: a node connected here is
    // known here at once, but one whose connect is still in progress (a slow TokenReview, refused
    // busy and retrying) is in no fleet state nor object yet (break9: the owner called it gone).
    const here = this.o.connectingHere?.() ?? 0;
    if (here > 0) out.push(`${this.o.replica}: ${here} reporters still connecting to it`);
    for (const [replica, seen] of this.observed) {
      if (replica === this.o.replica || !this.liveness(replica).live) continue;
      if (seen.at < after) out.push(`${replica}: no Lease renewal seen since`);
      else if (seen.pending === undefined)
        out.push(`${replica}: does not say (a replica of an older release)`);
      else if (seen.pending > 0) out.push(`${replica}: ${seen.pending} reconnects not yet written`);
      // Its Lease and the NodeMasquerades come on two watches here, in no set order: the write a
      // renewal says is done may not show here yet. Once two renewals since say none wait, every
      // reconnect queued by then was written a renewal (renewMs) before the last (break7).
      else if (!seen.prev || seen.prev.at < after || seen.prev.pending !== 0)
        out.push(`${replica}: its reconnects written, its next renewal waited for`);
    }
    return out.sort();
  }

  /**
   * The replicas that stopped renewing (or released their Lease) less than a reconnect window
   * before `since` or after: the reporters they held — some perhaps reconnected to them and never
   * written — reconnect to the others after they went, so the others' renewals count only from
   * a reconnect window after that (`after`); each listed (`gone`) until then (break7: its count
   * dropped out with its liveness, and a node reconnecting elsewhere was called gone).
   */
  private goneSince(since: number): { after: number; gone: string[] } {
    const reconnectMs = this.o.reconnectMs ?? 15_000;
    const now = this.now();
    const gone: string[] = [];
    let after = since;
    for (const [replica, seen] of this.observed) {
      if (replica === this.o.replica || this.liveness(replica).live) continue;
      const settled = (seen.released ? seen.at : seen.at + this.durationMs) + reconnectMs;
      if (settled <= since) continue;
      after = Math.max(after, settled);
      if (now >= settled) continue;
      const n = seen.pending ? `, ${seen.pending} reconnects to it not written,` : "";
      const until = new Date(this.wall() + (settled - now)).toISOString();
      gone.push(
        `${replica}: stopped renewing its Lease${n} and its reporters reconnect elsewhere until ${until}`,
      );
    }
    return { after, gone };
  }

  /**
   * Are the others' Leases followed now (listed, the watch open, this replica renewing)? Only
   * then is a Lease seen unrenewed here one its holder stopped renewing, not one whose renewals
   * this replica stopped seeing.
   */
  watching(): boolean {
    const h = this.watcher.health;
    return !this.stopped && h.lists > 0 && h.open && this.problem === undefined;
  }

  async start(): Promise<void> {
    this.renewing = this.renew();
    await this.renewing;
    // A first list that fails is retried: given up on, every other replica would be "without a
    // Lease" (their nodes unknown) and staged rollouts refused for this process's whole life.
    if (!this.stopped) this.watcher.startInBackground();
  }

  /** Why the replica Leases are not known yet, while their first list fails. */
  listProblem(): string | undefined {
    const h = this.watcher.health;
    return h.lists === 0 && h.lastError
      ? `replica Leases cannot be listed (${h.lastError}): whether other replicas are active is not known`
      : undefined;
  }

  /**
   * Stops renewing and releases this replica's Lease (holderIdentity emptied, as client-go's
   * ReleaseOnCancel does), so the other replicas stop vouching for its nodes at once instead of
   * a lease duration later. Best effort, at most 2 s.
   */
  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing?.catch(() => undefined);
    await Promise.race([this.release(), new Promise((r) => setTimeout(r, 2000).unref())]);
    await this.watcher.stop();
  }

  /** Stops renewing without a word (what a crash does; tests). */
  async halt(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.renewing?.catch(() => undefined);
    await this.watcher.stop();
  }

  private async release(): Promise<void> {
    const name = `${this.o.prefix}${this.o.replica}`;
    const namespace = this.o.namespace;
    try {
      const cur = await this.clients.coordination.readNamespacedLease({ name, namespace });
      if (cur.spec?.holderIdentity !== this.o.replica) return;
      await this.clients.coordination.replaceNamespacedLease({
        name,
        namespace,
        body: { ...cur, spec: { ...cur.spec, holderIdentity: "" } },
      });
    } catch (e) {
      if (statusCode(e) !== 404)
        this.log.warn({ err: apiMessage(e) }, "replica Lease not released on shutdown");
    }
  }

  private replicaOf(l: V1Lease): string | undefined {
    const name = l.metadata?.name ?? "";
    return name.startsWith(this.o.prefix) ? name.slice(this.o.prefix.length) : undefined;
  }

  private see(l: V1Lease): void {
    const replica = this.replicaOf(l);
    if (!replica) return;
    const annotation = l.metadata?.annotations?.[PENDING_ANNOTATION];
    const raw = JSON.stringify([l.spec ?? {}, annotation]);
    const prev = this.observed.get(replica);
    if (prev?.raw === raw) return;
    const count = annotation !== undefined && /^[0-9]{1,9}$/.test(annotation);
    const pending = count ? Number(annotation) : undefined;
    const renew = l.spec?.renewTime as unknown;
    const renewTime =
      renew instanceof Date ? renew.toISOString() : renew ? String(renew) : undefined;
    // Released on shutdown (holderIdentity emptied): not live from now on.
    const released = !l.spec?.holderIdentity;
    const rv = l.metadata?.resourceVersion;
    const last = prev && { at: prev.at, pending: prev.pending };
    this.observed.set(replica, {
      raw,
      at: this.now(),
      wallAt: this.wall(),
      renewTime,
      released,
      rv,
      pending,
      prev: last,
    });
  }

  /**
   * A singleton duty: deletes one Lease of a replica that is gone — released on shutdown a
   * minute ago, or not renewed for an hour (as observed here) — so pod names of past rollouts do
   * not pile up in the namespace and in every replica's watch. The delete is conditional on the
   * version seen, so a replica that came back meanwhile keeps its Lease.
   */
  collect(): void {
    if (this.collecting || this.watcher.health.lists === 0) return;
    const now = this.now();
    const keep = this.o.keep ?? KEEP;
    const stale = [...this.observed].find(
      ([replica, seen]) =>
        replica !== this.o.replica &&
        now - seen.at >= (seen.released ? keep.releasedMs : keep.unrenewedMs),
    );
    if (!stale) return;
    const [replica, seen] = stale;
    const name = `${this.o.prefix}${replica}`;
    this.collecting = this.clients.coordination
      .deleteNamespacedLease({
        name,
        namespace: this.o.namespace,
        body: { preconditions: { resourceVersion: seen.rv } },
      })
      .then(
        () => this.log.info({ lease: name }, "deleted the Lease of a replica that is gone"),
        (e) => {
          if (statusCode(e) === 404) this.observed.delete(replica);
          else
            this.log.warn({ lease: name, err: apiMessage(e) }, "stale replica Lease not deleted");
        },
      )
      .finally(() => {
        this.collecting = undefined;
      });
  }

  /** Creates or renews this replica's Lease, then again after renewMs. */
  private async renew(): Promise<void> {
    const name = `${this.o.prefix}${this.o.replica}`;
    const ns = this.o.namespace;
    const spec = {
      holderIdentity: this.o.replica,
      leaseDurationSeconds: this.o.durationSeconds ?? 15,
      renewTime: new V1MicroTime(this.wall()),
    };
    const pending = this.o.reconnectsPending;
    const annotations: Record<string, string> = pending
      ? { [PENDING_ANNOTATION]: String(pending()) }
      : {};
    try {
      try {
        const cur = await this.clients.coordination.readNamespacedLease({ name, namespace: ns });
        const metadata = {
          ...cur.metadata,
          annotations: { ...cur.metadata?.annotations, ...annotations },
        };
        await this.clients.coordination.replaceNamespacedLease({
          name,
          namespace: ns,
          body: { ...cur, metadata, spec: { ...cur.spec, ...spec } },
        });
      } catch (e) {
        if (statusCode(e) !== 404) throw e;
        await this.clients.coordination.createNamespacedLease({
          namespace: ns,
          body: {
            metadata: { name, namespace: ns, annotations },
            spec: { ...spec, acquireTime: spec.renewTime },
          },
        });
      }
      this.problem = undefined;
      this.renewedAt = this.now();
    } catch (e) {
      this.problem = `this replica's Lease ${ns}/${name} cannot be renewed: ${apiMessage(e)}`;
      this.log.warn({ err: this.problem }, "replica Lease not renewed");
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.renewing = this.renew();
    }, this.o.renewMs ?? 5000);
    this.timer.unref();
  }
}
