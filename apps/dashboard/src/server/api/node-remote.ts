// The node routes for nodes another dashboard replica holds (every replica active, issue 17):
// their page shows what their NodeMasquerade carries, and a resync is asked of the holder
// through spec.resyncRequest (an observe-mode node's upstream agent pod is restarted from here:
// that is a Kubernetes call any replica can make).
import {
  type BulkResyncResponse,
  type RemoteNodeDetail,
  type ResyncResponse,
  replicaPortForward,
} from "@masq/shared";
import { HttpError } from "../errors.js";
import type { RemoteSummary } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";

/**
 * `namespace`: the replicas' (POD_NAMESPACE), for the port-forward to the holder; null: unknown.
 * A node whose reporter is connected to a live replica is "held" there; one whose reporter left
 * a replica that is alive is offered that replica too, for its last known rules and history.
 * One whose holder died or whose object names no replica (or this one) has no replica to open.
 */
export function remoteNodeDetail(
  n: RemoteSummary,
  now: number,
  namespace: string | null = null,
): RemoteNodeDetail {
  const replica = n.heldBy.replica;
  const lastHolder = !n.connected && n.disconnected?.holderLive === true;
  const portForward = n.connected || lastHolder ? replicaPortForward(replica, namespace) : null;
  const counted =
    n.heldBy.differences === null
      ? "its differences not counted there yet"
      : `${n.heldBy.differences} difference(s) counted there`;
  const status = `this replica has the node's NodeMasquerade status (${counted}), not its rules`;
  const none = `the reporter is connected to no replica now (${n.summary})`;
  return {
    node: n,
    view: null,
    viewUnavailable: viewUnavailable(replica, status, portForward, lastHolder, none),
    heal: {
      kind: "unknown",
      reason: n.connected ? `the reporter is connected to replica ${replica}` : none,
    },
    snapshotAt: null,
    lastApply: null,
    pending: null,
    events: [],
    serverTime: now,
    rollout: null,
    heldElsewhere: { replica, portForward, ...(lastHolder ? { lastHolder } : {}) },
  };
}

/** Why the rules are not shown here, and where they are. */
function viewUnavailable(
  replica: string,
  status: string,
  portForward: string | null,
  lastHolder: boolean,
  none: string,
): string {
  if (portForward === null) return `${status}, and ${none}`;
  if (lastHolder)
    return `${status}, and ${none}; replica ${replica}, which held it last, shows its last known rules and history (${portForward}, then http://localhost:8080)`;
  return `held by replica ${replica}: ${status}; the replica holding it shows them (${portForward}, then http://localhost:8080)`;
}

const OBSERVE_OFF =
  "the upstream ip-masq-agent owns its rules; set IPMASQ_OBSERVE_RESYNC=true to let resync recreate that agent's pod";

/** One node held elsewhere: 409 when it cannot be resynced now, else asked of its holder. */
export async function resyncElsewhere(
  ctx: ApiContext,
  n: RemoteSummary,
  by: string,
): Promise<ResyncResponse> {
  if (!n.connected) throw new HttpError(409, `node ${n.name} is ${n.status}: ${n.summary}`);
  if (n.mode === "observe") {
    if (!ctx.observeResync)
      throw new HttpError(409, `node ${n.name} is in observe mode: ${OBSERVE_OFF}`);
    const pods = await ctx.observeResync.restart(n.name);
    return { requestId: `restart:${pods.join(",")}`, outcome: "sent" };
  }
  const requestId = await ctx.replicas!.requestResync(n.name, by);
  return { requestId, outcome: "requested", replica: n.heldBy.replica };
}

/**
 * The bulk resync's share held by other replicas (those matching the selection): each asked
 * of its holder through the replica's rate-limited request queue (replicas/resync-requests.ts);
 * a node that does not fit in the queue is skipped, saying so. Observe-mode nodes have their
 * upstream agent pod restarted from here, through the same queue (a failure is logged, not
 * answered: the call has returned by then).
 */
export async function resyncAllElsewhere(
  ctx: ApiContext,
  nodes: readonly RemoteSummary[],
  o: { wanted: Set<string> | undefined; status: string | undefined; by: string },
): Promise<{ requested: Requested[]; skipped: BulkResyncResponse["skipped"] }> {
  const requested: Requested[] = [];
  const skipped: BulkResyncResponse["skipped"] = [];
  // "All drifted" leaves out nodes whose holder says a resync would not change them.
  const chosen = nodes.filter(
    (n) =>
      (!o.wanted || o.wanted.has(n.name)) &&
      (!o.status || (n.status === o.status && n.resyncCannotHeal === undefined)),
  );
  for (const n of chosen) {
    if (!n.connected) {
      if (o.wanted) skipped.push({ name: n.name, reason: n.status });
      continue;
    }
    const r = askOne(ctx, n, o.by);
    if ("reason" in r) skipped.push(r);
    else requested.push(r);
  }
  return { requested, skipped };
}

type Requested = NonNullable<BulkResyncResponse["requested"]>[number];

/** One connected node of a bulk resync held elsewhere: queued (by whom it is done), or why not. */
function askOne(
  ctx: ApiContext,
  n: RemoteSummary,
  by: string,
): Requested | BulkResyncResponse["skipped"][number] {
  const queue = ctx.replicas!.resyncRequests;
  const restarter = ctx.observeResync;
  const observe = n.mode === "observe";
  if (observe && !restarter)
    return { name: n.name, reason: `node ${n.name} is in observe mode: ${OBSERVE_OFF}` };
  if (observe && queue.ask(n.name, by, () => restarter!.restart(n.name)))
    return { name: n.name, replica: ctx.replicas!.replica };
  if (!observe && queue.ask(n.name, by)) return { name: n.name, replica: n.heldBy.replica };
  return { name: n.name, reason: `too many resync requests waiting (${queue.backlog().waiting})` };
}
