// NodeMasquerades do not outlive their nodes. A singleton duty (the holder of the singleton
// Lease, so two replicas never race): an object no live replica holds is deleted when it was
// last observed longer than `offlineTtlMs` ago, or when its Node object is gone — the rules
// fleet/node-expiry.ts applies to a replica's own offline records. A node that reconnects
// afterwards gets its object created again by its new holder.
import type { Logger } from "pino";
import type { NodeExists } from "../fleet/node-expiry.js";
import { apiMessage, statusCode } from "../kube/client.js";
import type { NodeMasquerade } from "./node-masquerade.js";

/** How far ahead of this clock an observedAt is believed (clock skew between replicas). */
const FUTURE_SKEW_MS = 5 * 60_000;

export interface ObjectExpiryOptions {
  objects: { values(): Iterable<NodeMasquerade> };
  /** Is the replica named in a status renewing its Lease? */
  live: (replica: string) => boolean;
  remove: (name: string) => Promise<void>;
  /** 0 keeps objects of offline nodes (until their Node is gone). */
  offlineTtlMs: number;
  nodeExists?: NodeExists;
  /** How often one object's Node is looked up (default 60 s); lookups in flight at most 4. */
  existsEveryMs?: number;
  log: Logger;
  now?: () => number;
}

export class ObjectExpiry {
  private readonly checkedAt = new Map<string, number>();
  private inFlight = 0;
  private readonly deleting = new Set<string>();
  /**
   * Per object whose status says connected but whose holder is not live: when this replica
   * first saw it so (local clock). observedAt is when the node last *changed*, not a heartbeat:
   * a quiet node's is days old, and must not make its object expire the moment its holder dies.
   */
  private readonly unheldSince = new Map<string, number>();

  constructor(private readonly o: ObjectExpiryOptions) {}

  /** One pass (every second, on the singleton Lease holder only). */
  sweep(): void {
    const now = this.o.now?.() ?? Date.now();
    const seen = new Set<string>();
    for (const cr of this.o.objects.values()) {
      const name = cr.metadata.name;
      seen.add(name);
      const st = cr.status;
      if (st?.connected && this.o.live(st.replica)) {
        this.unheldSince.delete(name);
        continue;
      }
      const observed = this.lastHeldAt(cr, now);
      const ttl = this.o.offlineTtlMs;
      if (ttl > 0 && !Number.isNaN(observed) && now - observed >= ttl)
        this.delete(
          name,
          `not held by a live replica and unchanged for ${Math.round(ttl / 1000)} s`,
        );
      else this.lookUp(name, now);
    }
    for (const name of this.checkedAt.keys()) if (!seen.has(name)) this.checkedAt.delete(name);
    for (const name of this.unheldSince.keys()) if (!seen.has(name)) this.unheldSince.delete(name);
  }

  /**
   * When a live replica last vouched for the object: its observedAt, or for an object that
   * still says connected (its holder stopped renewing) the later of that and when this replica
   * first saw it so. observedAt is the node's last change, not a heartbeat: a quiet node's is
   * days old and must not make its object expire the moment its holder dies.
   */
  private lastHeldAt(cr: NodeMasquerade, now: number): number {
    const st = cr.status;
    const parsed = st ? Date.parse(st.observedAt) : Number.NaN;
    // A time ahead of this clock (a hand edit, a skewed holder) would keep the object forever:
    // it counts as unknown, the TTL running from when this replica first saw it.
    const observed = parsed > now + FUTURE_SKEW_MS ? Number.NaN : parsed;
    if (!st?.connected && !Number.isNaN(observed)) {
      this.unheldSince.delete(cr.metadata.name);
      return observed;
    }
    const since = this.unheldSince.get(cr.metadata.name) ?? now;
    this.unheldSince.set(cr.metadata.name, since);
    return Number.isNaN(observed) ? since : Math.max(observed, since);
  }

  private lookUp(name: string, now: number): void {
    const exists = this.o.nodeExists;
    if (!exists || this.inFlight >= 4) return;
    if (
      now - (this.checkedAt.get(name) ?? Number.NEGATIVE_INFINITY) <
      (this.o.existsEveryMs ?? 60_000)
    )
      return;
    this.checkedAt.set(name, now);
    this.inFlight++;
    exists(name)
      .then((found) => {
        if (found === false) this.delete(name, "its Node object was deleted");
      })
      .finally(() => {
        this.inFlight--;
      });
  }

  private delete(name: string, why: string): void {
    if (this.deleting.has(name)) return;
    this.deleting.add(name);
    this.o
      .remove(name)
      .then(
        () => this.o.log.info({ node: name, why }, "deleted a NodeMasquerade"),
        (e) => {
          if (statusCode(e) !== 404)
            this.o.log.warn({ node: name, err: apiMessage(e) }, "cannot delete a NodeMasquerade");
        },
      )
      .finally(() => this.deleting.delete(name));
  }
}
