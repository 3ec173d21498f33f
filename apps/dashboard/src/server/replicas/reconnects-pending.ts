// How many reconnects to this replica the others cannot see yet, told on its Lease at each
// renewal (replica-leases.ts PENDING_ANNOTATION): a staged rollout's owner calls a node that
// went offline gone only once every replica says none wait (fleet/staged-offline.ts). Counted
// from what the others see, not from what this replica queued: a node connected here whose
// NodeMasquerade, as this replica's own watch shows it, does not say "held here, connected" —
// queued, in flight, written but not shown yet, or not even offered to the writer (the change
// feed flushes every 250 ms) — plus the reporters still connecting (their token being checked,
// their hello and claim waited for, or refused for now and retrying: gateway/connecting.ts).
// Before, only the writer's queue counted, and a node mid-reconnect could be judged gone.
import type { NodeMasquerade } from "./node-masquerade.js";

export interface PendingInputs {
  /** The nodes this replica holds a record of (connected or not). */
  nodes: Iterable<{ name: string; connected: boolean }>;
  /** This replica's name. */
  replica: string;
  /** The node's object as this replica's watch last delivered it. */
  observed: (name: string) => NodeMasquerade | undefined;
  /** Is the node's reconnect write queued or in flight (status-writer.ts)? */
  writing: (name: string) => boolean;
  /** How many reconnect writes are queued or in flight. */
  written: number;
  /** Reporters connecting here, not in the fleet state yet. */
  connecting: number;
}

/**
 * The count written on the Lease: the reconnect writes waiting, the connected nodes not shown
 * held here otherwise, and those connecting; bounded by the nodes held plus those connecting.
 */
export function reconnectsPending(o: PendingInputs): number {
  let n = o.connecting + o.written;
  for (const node of o.nodes) {
    if (!node.connected || o.writing(node.name)) continue;
    const st = o.observed(node.name)?.status;
    if (st?.connected !== true || st.replica !== o.replica) n++;
  }
  return n;
}
