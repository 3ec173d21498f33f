// Keeps the dashboard's connections to the API server open between requests. client-node
// 2.0.1 builds a new undici Agent for every request whenever the cluster has TLS options — a
// CA (every in-cluster config), client certificates or insecure-skip-tls-verify
// (KubeConfig.applySecurityAuthentication → createDispatcher) — so each call opened a new TCP
// connection, and a new TLS handshake in a cluster: every NodeMasquerade status write, Event
// and Lease renewal. Measured with the multi-replica benchmark: `connect` alone was ~9 % of a
// replica's busy CPU during a rollout. One Agent per distinct set of options is kept instead
// (undici's Agent pools and reuses keep-alive connections per origin, as client-go's shared
// transport does).
import type { KubeConfig } from "@kubernetes/client-node";

/** What client-node's createDispatcher returns: an undici dispatcher, or none (plain HTTP). */
interface Dispatcher {
  close(): Promise<void>;
}

type CreateDispatcher = (cluster: unknown, agentOptions: unknown) => Dispatcher | undefined;

/** Distinct option sets kept (a rotated client certificate makes a new one); oldest closed. */
const MAX_DISPATCHERS = 4;

/** Makes `kc` reuse one dispatcher per distinct set of connection options. Returns `kc`. */
export function reuseConnections(kc: KubeConfig): KubeConfig {
  const target = kc as unknown as {
    createDispatcher: CreateDispatcher;
    createDispatcherOptions(cluster: unknown, agentOptions: unknown): unknown;
  };
  if (typeof target.createDispatcher !== "function") return kc; // another client-node
  const create = target.createDispatcher.bind(kc);
  const kept = new Map<string, Dispatcher | undefined>();
  target.createDispatcher = (cluster, agentOptions) => {
    // The options as client-node maps them (TLS material included), plus where they lead.
    const c = cluster as { server?: string; proxyUrl?: string } | null;
    const key = JSON.stringify([
      c?.server,
      c?.proxyUrl,
      target.createDispatcherOptions(cluster, agentOptions),
    ]);
    if (kept.has(key)) return kept.get(key);
    const d = create(cluster, agentOptions);
    kept.set(key, d);
    if (kept.size > MAX_DISPATCHERS) {
      const [oldest, old] = kept.entries().next().value!;
      kept.delete(oldest);
      void old?.close().catch(() => undefined);
    }
    return d;
  };
  return kc;
}
