// GET /api/nodes, paged like a Kubernetes list: `limit` caps a page, and a page that is not the
// last carries `continue`, an opaque cursor to send back (with the same filters) for the next
// one. Without `limit` the whole (filtered) list comes back, as before. The cursor is the last
// name served: nodes are ordered by name, so pages never repeat a node; one added or removed
// meanwhile shows up or not depending on where it sorts, as with Kubernetes lists.
import type { NodeSummary, NodesResponse } from "@masq/shared";
import { NODE_STATUSES } from "@masq/shared";
import { HttpError } from "../errors.js";
import { type NodeRecord, toSummary } from "../fleet/node.js";

/** Largest page a client may ask for. */
export const MAX_PAGE = 5000;
const CURSOR_PREFIX = "n1:";

export interface NodeListQuery {
  status: string | null;
  /** Lower-case part of the name. */
  q: string;
  limit: number | undefined;
  /** Last name of the previous page. */
  after: string | undefined;
}

/** The paged part of the response (the shared NodesResponse). */
export type NodePage = Pick<NodesResponse, "nodes" | "continue" | "remainingItemCount">;

/** Reads status, q, limit and continue; 400 on anything malformed. */
export function parseNodeListQuery(params: URLSearchParams): NodeListQuery {
  const status = params.get("status");
  if (status !== null && !(NODE_STATUSES as readonly string[]).includes(status))
    throw new HttpError(400, `status must be one of ${NODE_STATUSES.join(", ")}`);
  const rawLimit = params.get("limit");
  let limit: number | undefined;
  if (rawLimit !== null) {
    limit = Number(rawLimit);
    if (!/^\d+$/.test(rawLimit) || limit < 1 || limit > MAX_PAGE)
      throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_PAGE}`);
  }
  const cont = params.get("continue");
  let after: string | undefined;
  if (cont !== null) {
    const decoded = Buffer.from(cont, "base64url").toString("utf8");
    if (!decoded.startsWith(CURSOR_PREFIX) || cont.length > 1024)
      throw new HttpError(400, "continue is not a cursor this server issued");
    after = decoded.slice(CURSOR_PREFIX.length);
  }
  return { status, q: (params.get("q") ?? "").toLowerCase(), limit, after };
}

/**
 * One page of the nodes matching the query, ordered by name; `summarize` turns each item into
 * its wire shape (records by default; with replicas, also other replicas' nodes).
 */
export function listNodes<T extends Pick<NodeRecord, "name" | "status"> = NodeRecord>(
  nodes: Iterable<T>,
  query: NodeListQuery,
  summarize: (n: T) => NodeSummary = toSummary as unknown as (n: T) => NodeSummary,
): NodePage {
  const matching: T[] = [];
  for (const n of nodes) {
    if (query.status !== null && n.status !== query.status) continue;
    if (query.q !== "" && !n.name.includes(query.q)) continue;
    if (query.after !== undefined && n.name <= query.after) continue;
    matching.push(n);
  }
  matching.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const page = query.limit === undefined ? matching : matching.slice(0, query.limit);
  const out: NodePage = { nodes: page.map(summarize) };
  if (page.length < matching.length) {
    out.continue = Buffer.from(`${CURSOR_PREFIX}${page.at(-1)!.name}`).toString("base64url");
    out.remainingItemCount = matching.length - page.length;
  }
  return out;
}
