// Offline nodes do not stay forever. A node record exists because a reporter once said hello;
// once it is offline, it is forgotten when
//   - it has been silent for `offlineTtlMs` (IPMASQ_OFFLINE_NODE_TTL), or
//   - (Kubernetes mode) its Node object is gone, or
//   - more than `maxOffline` nodes are offline: the longest silent go first.
// Connected nodes are never forgotten (FleetState.forget refuses them).
import type { Logger } from "pino";
import type { FleetState } from "./fleet-state.js";

/** Whether the cluster still has this Node: undefined when that cannot be told (no access). */
export type NodeExists = (name: string) => Promise<boolean | undefined>;

/** Offline nodes kept at most unless told (the node roster keeps as many: node-roster.ts). */
export const DEFAULT_MAX_OFFLINE = 10_000;

export interface ExpiryOptions {
  /** Silence after which an offline node is forgotten; 0 keeps offline nodes. */
  offlineTtlMs: number;
  /** Offline nodes kept at most. */
  maxOffline?: number;
  nodeExists?: NodeExists;
  /** How often one offline node's Node object is looked up. */
  existsEveryMs?: number;
  /** Lookups in flight at most. */
  existsConcurrency?: number;
  now?: () => number;
  log: Logger;
}

export class NodeExpiry {
  private readonly checkedAt = new Map<string, number>();
  private inFlight = 0;
  private readonly now: () => number;

  constructor(
    private readonly fleet: FleetState,
    private readonly o: ExpiryOptions,
  ) {
    this.now = o.now ?? Date.now;
  }

  /** One pass: called every second by the server's sweeper. */
  sweep(): void {
    const now = this.now();
    const offline: { name: string; since: number }[] = [];
    for (const n of this.fleet.nodes.values()) {
      if (n.connected) continue;
      const since = n.lastSeenAt ?? 0;
      if (this.o.offlineTtlMs > 0 && now - since >= this.o.offlineTtlMs)
        this.forget(n.name, `offline for more than ${Math.round(this.o.offlineTtlMs / 1000)} s`);
      else offline.push({ name: n.name, since });
    }
    const max = this.o.maxOffline ?? DEFAULT_MAX_OFFLINE;
    if (offline.length > max) {
      offline.sort((a, b) => a.since - b.since);
      for (const { name } of offline.splice(0, offline.length - max))
        this.forget(name, `more than ${max} nodes offline; this one was silent longest`);
    }
    for (const name of this.checkedAt.keys())
      if (!this.fleet.nodes.get(name) || this.fleet.nodes.get(name)?.connected)
        this.checkedAt.delete(name);
    if (this.o.nodeExists) for (const { name } of offline) this.lookUp(name, now);
  }

  private lookUp(name: string, now: number): void {
    const every = this.o.existsEveryMs ?? 60_000;
    if (this.inFlight >= (this.o.existsConcurrency ?? 4)) return;
    if (now - (this.checkedAt.get(name) ?? Number.NEGATIVE_INFINITY) < every) return;
    this.checkedAt.set(name, now);
    this.inFlight++;
    this.o.nodeExists!(name)
      .then(
        (exists) => {
          if (exists === false && this.fleet.nodes.get(name)?.connected === false)
            this.forget(name, "its Node object was deleted");
        },
        (e) => this.o.log.warn({ node: name, err: e }, "cannot look up the Node object"),
      )
      .finally(() => {
        this.inFlight--;
      });
  }

  private forget(name: string, why: string): void {
    if (this.fleet.forget(name).ok) {
      this.checkedAt.delete(name);
      this.o.log.info({ node: name, why }, "forgot an offline node");
    }
  }
}
