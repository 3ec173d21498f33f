// Keeps the dashboard's connections to the API server open between requests, and bounded.
// client-node 2.0.1 builds a new undici Agent for every request whenever the cluster has TLS
// options — a CA (every in-cluster config), client certificates or insecure-skip-tls-verify
// (KubeConfig.applySecurityAuthentication → createDispatcher) — so each call opened a new TCP
// connection, and a new TLS handshake in a cluster. Measured with the multi-replica benchmark:
// `connect` alone was ~9 % of a replica's busy CPU during a rollout. One set of Agents per
// distinct set of options is kept instead (undici's Agent pools and reuses keep-alive
// connections per origin, as client-go's shared transport does).
//
// undici's Agent opens as many connections per origin as requests are in flight (its
// `connections` is unlimited by default): ~3,000 were seen in a connect burst of 15,000
// reporters (a TokenReview each). So requests share a pool of at most `connections` per API
// server origin; past that they wait in the pool's queue (FIFO), they do not fail. Two kinds
// of request get their own pools so that a queue of ordinary calls never holds them back:
// - watches (`?watch=true`) hold their connection for minutes: they would take the pool's
//   connections for good. Their number is fixed by the code (one per list-watch).
// - Lease reads and renewals (coordination.k8s.io): a renewal stuck behind thousands of
//   queued TokenReviews would lose the Lease. kubelet likewise renews its node Lease through a
//   client of its own, unthrottled (cmd/kubelet/app/server.go: "a separate client for
//   heartbeat"), as kube-controller-manager does for leader election.
import type { KubeConfig } from "@kubernetes/client-node";
import { Agent, type Dispatcher, ProxyAgent } from "undici";

/** Connections per API server origin for ordinary requests (IPMASQ_KUBE_API_CONNECTIONS). */
export const DEFAULT_API_CONNECTIONS = 32;
/** Connections per origin for Lease requests (a few Leases, renewed every 2–5 s). */
export const LEASE_CONNECTIONS = 4;

/** Which pool a request takes, by its URL. */
export type Lane = "api" | "watch" | "lease";

/** The pool of a request URL: watches and Leases apart from the rest (see above). */
export function laneOf(url: string): Lane {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "api";
  }
  if (u.searchParams.get("watch") === "true") return "watch";
  if (u.pathname.startsWith("/apis/coordination.k8s.io/")) return "lease";
  return "api";
}

/** What client-node's createDispatcherOptions returns (config.js). */
type DispatcherOptions =
  | { type: "none" }
  | { type: "agent"; connect: Record<string, unknown> }
  | { type: "proxy"; uri: string; requestTls: Record<string, unknown>; connect: object }
  | { type: "socks"; uri: string; requestTls: Record<string, unknown> };

interface Target {
  createDispatcher(cluster: unknown, agentOptions: unknown): Dispatcher | undefined;
  createDispatcherOptions(cluster: unknown, agentOptions: unknown): DispatcherOptions;
  applySecurityAuthentication(ctx: RequestContextLike): Promise<void>;
}

interface RequestContextLike {
  getUrl(): string;
  getDispatcher(): Dispatcher | undefined;
  setDispatcher(d: Dispatcher): void;
}

type Pools = Record<Lane, Dispatcher>;

/** Distinct option sets kept (a rotated client certificate makes a new one); oldest closed. */
const MAX_OPTION_SETS = 4;

/**
 * Makes `kc` reuse its connections: per distinct set of connection options, three pools (see
 * above), the ordinary one capped at `connections` per origin (an integer ≥ 1). Returns `kc`.
 * A SOCKS proxy keeps client-node's own dispatcher (reused, not capped).
 */
export function reuseConnections(
  kc: KubeConfig,
  connections: number = DEFAULT_API_CONNECTIONS,
): KubeConfig {
  if (!Number.isInteger(connections) || connections < 1)
    throw new Error(`connections to the API server must be an integer ≥ 1, not ${connections}`);
  const target = kc as unknown as Target;
  if (typeof target.createDispatcher !== "function") return kc; // another client-node
  const create = target.createDispatcher.bind(kc);
  const authenticate = target.applySecurityAuthentication.bind(kc);
  const kept = new Map<string, Pools>();
  /** Each pool's siblings, to move a request to its lane. */
  const siblings = new WeakMap<Dispatcher, Pools>();
  target.createDispatcher = (cluster, agentOptions) => {
    const options = target.createDispatcherOptions(cluster, agentOptions);
    // The options as client-node maps them (TLS material included), plus where they lead.
    const c = cluster as { server?: string; proxyUrl?: string } | null;
    const key = JSON.stringify([c?.server, c?.proxyUrl, options]);
    let pools = kept.get(key);
    if (!pools) {
      pools = makePools(options, connections, () => create(cluster, agentOptions));
      kept.set(key, pools);
      siblings.set(pools.api, pools);
      if (kept.size > MAX_OPTION_SETS) closeOldest(kept);
    }
    return pools.api;
  };
  target.applySecurityAuthentication = async (ctx) => {
    await authenticate(ctx);
    const pools = siblings.get(ctx.getDispatcher() as Dispatcher);
    if (pools) ctx.setDispatcher(pools[laneOf(ctx.getUrl())]);
  };
  return kc;
}

function makePools(o: DispatcherOptions, connections: number, own: () => unknown): Pools {
  const make = (max: number | null): Dispatcher => {
    switch (o.type) {
      case "none":
        return new Agent({ connections: max });
      case "agent":
        return new Agent({ connect: o.connect, connections: max });
      case "proxy":
        return new ProxyAgent({
          uri: o.uri,
          requestTls: o.requestTls,
          connect: o.connect,
          connections: max,
        });
      case "socks":
        return own() as Dispatcher;
    }
  };
  if (o.type === "socks") {
    const d = make(null);
    return { api: d, watch: d, lease: d };
  }
  return { api: make(connections), watch: make(null), lease: make(LEASE_CONNECTIONS) };
}

function closeOldest(kept: Map<string, Pools>): void {
  const [oldest, pools] = kept.entries().next().value!;
  kept.delete(oldest);
  for (const d of new Set(Object.values(pools))) void d.close().catch(() => undefined);
}
