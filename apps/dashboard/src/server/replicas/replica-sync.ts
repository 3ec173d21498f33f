// Every replica active (issue 17, docs/scale-out.md): this replica writes the NodeMasquerade
// status of the nodes it holds (status-writer.ts), follows every NodeMasquerade to show the
// nodes others hold (fleet-view.ts), performs the resyncs asked of its nodes on any replica
// (spec.resyncRequest → status.resyncObserved) and renews its own Lease so others can tell it
// is alive (replica-leases.ts). Shared state goes only through these Kubernetes objects.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type { ChangeFeed, FleetChanges } from "../fleet/change-feed.js";
import type { FleetState } from "../fleet/fleet-state.js";
import type { NodeExists } from "../fleet/node-expiry.js";
import { stagedRefusalOf } from "../fleet/staged-scope.js";
import type { KubeClients } from "../kube/client.js";
import { statusCode } from "../kube/client.js";
import type { FleetViewSources } from "./fleet-view.js";
import {
  heldStatus,
  lastBody,
  type NodeMasqueradeStatus,
  nodeMasqueradeSchema,
  rfc3339,
} from "./node-masquerade.js";
import { type NodeMasqueradeApi, nodeMasqueradeApi } from "./node-masquerade-api.js";
import { NodeMasqueradeWatch } from "./node-masquerade-watch.js";
import { ObjectExpiry } from "./object-expiry.js";
import { reconnectsPending } from "./reconnects-pending.js";
import { ReplicaLeases } from "./replica-leases.js";
import { ResyncRequests } from "./resync-requests.js";
import { StatusWriter } from "./status-writer.js";

export interface ReplicaSyncOptions {
  clients: KubeClients;
  /** This replica's pod name. */
  replica: string;
  /** Namespace of the replica Leases (the ConfigMap's). */
  namespace: string;
  /** Namespace of the replicas' pods (POD_NAMESPACE), for reaching the one holding a node. */
  podNamespace?: string;
  /** Replica Lease names are `${leasePrefix}${pod name}`. */
  leasePrefix: string;
  statusWritesPerSecond: number;
  log: Logger;
  /** NodeMasquerades no live replica holds are deleted after this long unchanged (0: never). */
  offlineTtlMs?: number;
  /** Whether the cluster still has a Node (their objects are deleted once it is gone). */
  nodeExists?: NodeExists;
  api?: NodeMasqueradeApi;
  leaseRenewMs?: number;
  leaseDurationSeconds?: number;
  /** How long gone replicas' Leases are kept before the singleton holder deletes them. */
  leaseKeep?: { releasedMs: number; unrenewedMs: number };
  /**
   * An object that says this replica holds a connection it does not have (written by a previous
   * process of this pod: a container restart keeps the pod name) is written disconnected when
   * its reporter has not connected here for this long (default 30 s: reporters reconnect
   * within the link's 30 s backoff cap).
   */
  orphanGraceMs?: number;
  /** The clocks (tests): durations on `monotonic` (default performance.now), never the wall's. */
  clock?: () => number;
  monotonic?: () => number;
}

export class ReplicaSync {
  readonly objects: NodeMasqueradeWatch;
  readonly writer: StatusWriter;
  readonly leases: ReplicaLeases;
  /** Bulk resync requests for nodes held elsewhere, rate-limited (resync-requests.ts). */
  readonly resyncRequests: ResyncRequests;
  private readonly api: NodeMasqueradeApi;
  private readonly expiry: ObjectExpiry;
  /** Per node, the resync request id this replica performed (echoed as resyncObserved). */
  private readonly performed = new Map<string, string>();
  private fleet: FleetState | undefined;
  /** Per object claiming a connection here that this process does not hold: first seen at (monotonic). */
  private readonly orphans = new Map<string, number>();
  private readonly objectListeners: ((names: string[]) => void)[] = [];
  /** Reporters connecting here, not in the fleet state yet (the gateway's count). */
  private connecting: () => number = () => 0;

  /** The replicas' pods' namespace, when known. */
  private monotonic(): number {
    return this.o.monotonic?.() ?? performance.now();
  }

  get podNamespace(): string | null {
    return this.o.podNamespace ?? null;
  }

  constructor(private readonly o: ReplicaSyncOptions) {
    this.api = o.api ?? nodeMasqueradeApi(o.clients.kc);
    this.objects = new NodeMasqueradeWatch({ api: this.api, watch: o.clients.watch, log: o.log });
    this.writer = new StatusWriter({
      api: this.api,
      replica: o.replica,
      ratePerSecond: o.statusWritesPerSecond,
      observed: (name) => this.objects.get(name),
      log: o.log,
      monotonic: o.monotonic,
      vouched: () => this.leases.renewedRecently(),
    });
    this.resyncRequests = new ResyncRequests({
      ratePerSecond: o.statusWritesPerSecond,
      send: (name, by) => this.requestResync(name, by),
      log: o.log,
      now: o.monotonic,
    });
    this.expiry = new ObjectExpiry({
      objects: this.objects,
      live: (r) => this.leases.liveness(r).live,
      remove: (name) => this.api.remove(name),
      offlineTtlMs: o.offlineTtlMs ?? 24 * 3600_000,
      nodeExists: o.nodeExists,
      log: o.log,
    });
    this.leases = new ReplicaLeases(
      o.clients,
      {
        namespace: o.namespace,
        prefix: o.leasePrefix,
        replica: o.replica,
        renewMs: o.leaseRenewMs,
        durationSeconds: o.leaseDurationSeconds,
        keep: o.leaseKeep,
        clock: o.clock,
        monotonic: o.monotonic,
        reconnectsPending: () => this.reconnectsPending(),
        connectingHere: () => this.connecting(),
      },
      o.log,
    );
  }

  get replica(): string {
    return this.o.replica;
  }

  /** Counts the reporters connecting here (the gateway's) with the reconnects on the Lease. */
  countConnecting(fn: () => number): void {
    this.connecting = fn;
  }

  /**
   * Reconnects to this replica the others cannot see yet, and reporters still connecting
   * (reconnects-pending.ts): on its Lease at each renewal, and in the metric.
   */
  reconnectsPending(): number {
    const nodes = this.fleet?.nodes.values() ?? [];
    return reconnectsPending({
      nodes,
      replica: this.o.replica,
      observed: (name) => this.objects.get(name),
      writing: (name) => this.writer.reconnectWaits(name),
      written: this.writer.reconnectsPending,
      connecting: this.connecting(),
    });
  }

  /** The fleet view's sources (for the API and the live stream). */
  sources(): FleetViewSources | undefined {
    if (!this.fleet) return undefined;
    return {
      fleet: this.fleet,
      objects: this.objects,
      replica: this.o.replica,
      liveness: (r) => this.leases.liveness(r),
    };
  }

  /** Follows the fleet; NodeMasquerade changes are told to browsers through `feed`. */
  attach(fleet: FleetState, feed: ChangeFeed): void {
    this.fleet = fleet;
    this.objects.onChange((names) => {
      for (const name of names) {
        this.takeResyncRequest(name);
        this.rewriteIfDeleted(fleet, name);
        if (fleet.nodes.get(name)?.connected) this.writer.observedChanged(name);
        else if (this.connectedToOther(name)) fleet.heldElsewhere(name);
        feed.node(name);
      }
      for (const fn of this.objectListeners) fn(names);
    });
  }

  /** Does `name`'s NodeMasquerade (as watched) name another live replica holding it connected? */
  private connectedToOther(name: string): boolean {
    const st = this.objects.get(name)?.status;
    if (!st?.connected || st.replica === "" || st.replica === this.o.replica) return false;
    return this.leases.liveness(st.replica).live;
  }

  /** Also tells `fn` of every NodeMasquerade change (the staged rollout's owner counts them). */
  onObjects(fn: (names: string[]) => void): void {
    this.objectListeners.push(fn);
  }

  /** A node held here whose object was deleted (expiry, a person): written again, as it is now. */
  private rewriteIfDeleted(fleet: FleetState, name: string): void {
    if (this.objects.get(name) || !fleet.nodes.get(name)?.connected) return;
    this.writer.forget(name);
    this.offer(fleet, name);
  }

  /**
   * Does the API server's NodeMasquerade of `name`, read now (a GET: the watch may lag), name a
   * connected holder other than this replica (this replica's own record is the truth of the
   * nodes it holds)? False for none; rejects when the read fails or the object is not one
   * (zod), so the caller takes it as not known (staged-offline.ts).
   */
  async connectedElsewhere(name: string): Promise<boolean> {
    const st = await this.statusFresh(name);
    // A replica that stopped renewing its Lease vouches for nothing (fleet-view.ts).
    const holder = st?.connected === true ? st.replica : "";
    return holder !== "" && holder !== this.o.replica && this.leases.liveness(holder).live;
  }

  /** Does the API server hold a NodeMasquerade of `name` with a status, read now (a GET)? */
  async existsFresh(name: string): Promise<boolean> {
    return (await this.statusFresh(name)) !== undefined;
  }

  /** The status of `name`'s NodeMasquerade read now (undefined: none); rejects on failure. */
  private async statusFresh(name: string): Promise<NodeMasqueradeStatus | undefined> {
    if (!this.api.get) throw new Error("NodeMasquerades cannot be read one at a time here");
    const raw = await this.api.get(name);
    if (raw === null) return undefined;
    const cr = nodeMasqueradeSchema.safeParse(raw);
    if (!cr.success) throw new Error(`NodeMasquerade ${name} is not valid: ${cr.error.message}`);
    return cr.data.status;
  }

  /** Has the first list of NodeMasquerades been read (the nodes other replicas hold known)? */
  listed(): boolean {
    return this.objects.health.lists > 0;
  }

  /** Starts in the background: a missing CRD or RBAC is a problem shown by /readyz, not a crash. */
  start(): void {
    void this.leases.start();
    // A first list that fails (the API server restarting, a 503, continue tokens expiring) is
    // retried: given up on, this replica would serve without the nodes others hold for good.
    this.objects.startInBackground();
  }

  /** Every second: the singleton duties, on the holder of the singleton Lease only. */
  sweep(singleton: boolean): void {
    if (singleton && this.objects.health.lists > 0) this.expiry.sweep();
    if (singleton && this.objects.health.lists > 0) this.markDeadHolders();
    if (singleton) this.leases.collect();
    if (this.objects.health.lists > 0) this.releaseOrphans(this.monotonic());
    this.writer.redoDeferred();
  }

  /**
   * Objects saying "held here, connected" for nodes this process holds no connection for
   * (a previous process of this pod wrote them; its Lease is renewed again under the same name,
   * so the other replicas would go on trusting them): written disconnected after a grace.
   */
  private releaseOrphans(now: number): void {
    const fleet = this.fleet;
    if (!fleet) return;
    const seen = new Set<string>();
    for (const cr of this.objects.values()) {
      const name = cr.metadata.name;
      const st = cr.status;
      if (!st?.connected || st.replica !== this.o.replica || fleet.nodes.get(name)?.connected)
        continue;
      seen.add(name);
      const since = this.orphans.get(name) ?? now;
      this.orphans.set(name, since);
      if (now - since < (this.o.orphanGraceMs ?? 30_000)) continue;
      this.writer.forget(name);
      if (fleet.nodes.has(name)) {
        this.offer(fleet, name);
        continue;
      }
      // Not known to be offline: its reporter most likely reconnected to another replica
      // through the Service, whose status write may wait behind thousands (break7). That
      // replica's write replaces this one; until then the node is unknown, as a dead holder's.
      this.writer.offer(name, {
        ...lastBody(st),
        connected: false,
        health: unheldHealth(st),
        message: `no reporter connected to replica ${this.o.replica} since it restarted, and no other replica has reported it yet; last known: ${st.health}`,
      });
    }
    for (const name of this.orphans.keys()) if (!seen.has(name)) this.orphans.delete(name);
  }

  /**
   * A singleton duty: objects that say "connected" to a replica whose Lease has gone unrenewed
   * for its duration (it died; its reporters may never reconnect) are written disconnected,
   * health unknown, naming that replica and when, so `kubectl get nodemasquerades` stops
   * showing their last in-sync (the dashboards' views already say unknown). Never while this
   * replica's own view of the Leases is in doubt, never for a node this replica holds, and
   * conditional on the object's version: a node reconnecting anywhere wins.
   */
  private markDeadHolders(): void {
    if (!this.leases.watching()) return;
    const duration = (this.o.leaseDurationSeconds ?? 15) * 1000;
    for (const cr of this.objects.values()) {
      const st = cr.status;
      const name = cr.metadata.name;
      if (!st?.connected || st.replica === this.o.replica || st.replica === "") continue;
      if (this.fleet?.nodes.get(name)?.connected) continue;
      const l = this.leases.liveness(st.replica);
      // A Lease released on shutdown too is given its duration: its reporters reconnect
      // within a second or two and their new holders' writes replace these objects anyway.
      // Measured on the monotonic clock (replica-leases.ts): a wall clock stepped forward marked
      // a live replica's nodes unheld.
      if (l.live || l.unrenewedForMs === undefined || l.unrenewedForMs < duration) continue;
      this.writer.markUnheld(name, {
        ...lastBody(st),
        connected: false,
        health: unheldHealth(st),
        message: `${l.reason ?? `replica ${st.replica} is not live`}; last known: ${st.health}`,
      });
    }
  }

  /**
   * Why a staged rollout cannot run correctly here (other replicas not known yet, or active
   * without a singleton Lease to elect the rollout's owner: `elected` false); null when it can.
   */
  stagedRefusal(elected = true): string | null {
    return stagedRefusalOf(this.leases.liveOthers(), elected);
  }

  problems(): string[] {
    const h = this.objects.health;
    const unlisted =
      h.lists === 0 && h.lastError
        ? `NodeMasquerades cannot be listed (${h.lastError}): nodes held by other replicas are not shown`
        : undefined;
    const p = [unlisted, this.leases.problem, this.leases.listProblem()];
    if (this.writer.lastFailure)
      p.push(
        `NodeMasquerade status writes fail (${this.writer.lastFailure}): the other replicas do not see the changes of the nodes this replica holds`,
      );
    if (h.lists > 0 && !h.open && h.lastError)
      p.push(`NodeMasquerade watch: ${this.objects.health.lastError}`);
    return p.filter((x): x is string => x !== undefined);
  }

  /** A batch of fleet changes: offer each changed local node's status to the writer. */
  fleetChanged(c: FleetChanges): void {
    const fleet = this.fleet;
    if (!fleet) return;
    for (const name of c.removed) {
      this.writer.forget(name);
      this.performed.delete(name);
    }
    for (const name of c.changed) this.offer(fleet, name);
  }

  private offer(fleet: FleetState, name: string): void {
    const body = heldStatus(fleet, name, this.o.replica, this.performed.get(name));
    if (body) this.writer.offer(name, body);
  }

  /**
   * A resync for a node another replica holds: writes spec.resyncRequest (creating the object
   * when missing); the holder performs it. Returns the request id.
   */
  async requestResync(name: string, by: string): Promise<string> {
    const request = {
      id: randomUUID(),
      requestedBy: `${by} (via replica ${this.o.replica})`.slice(0, 256),
      requestedAt: rfc3339(new Date()),
    };
    try {
      await this.api.patchResyncRequest(name, request);
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
      await this.api.create(name);
      await this.api.patchResyncRequest(name, request);
    }
    return request.id;
  }

  /** Performs a resync asked on any replica for a node held here, once per request id. */
  private takeResyncRequest(name: string): void {
    const fleet = this.fleet;
    const cr = this.objects.get(name);
    const req = cr?.spec?.resyncRequest;
    if (!fleet || !req || !fleet.nodes.get(name)?.connected) return;
    if (cr.status?.resyncObserved === req.id || this.performed.get(name) === req.id) return;
    this.performed.set(name, req.id);
    const r = fleet.resync(name, req.requestedBy);
    if (!r.ok)
      fleet.noteEvent(
        name,
        "resync-failed",
        `resync ${req.id} asked by ${req.requestedBy}: ${r.error}`,
      );
    this.offer(fleet, name);
  }

  async close(): Promise<void> {
    this.writer.close();
    this.resyncRequests.close();
    await Promise.all([this.objects.stop(), this.leases.close()]);
  }
}

/**
 * The health of a node written unheld (its holder gone, or not held by this restarted process):
 * `unknown`, but `applying` kept for one whose post-apply rules were not judged, so no replica
 * counts it done by the rollout's definition (rollout-done.ts remoteAppliedState; break9).
 */
function unheldHealth(st: NodeMasqueradeStatus): NodeMasqueradeStatus["health"] {
  return st.health === "applying" ? "applying" : "unknown";
}
