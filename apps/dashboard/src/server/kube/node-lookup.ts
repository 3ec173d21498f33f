// Kubernetes mode: does the cluster still have a Node? Lets the dashboard forget an offline
// node as soon as its Node object is deleted instead of after IPMASQ_OFFLINE_NODE_TTL. Needs
// `get` on nodes (the chart's dashboard ClusterRole grants it); without it every answer is
// "cannot tell" and offline nodes expire by time only (said once, at warn).
import type { Logger } from "pino";
import type { NodeExists } from "../fleet/node-expiry.js";
import { type KubeClients, statusCode } from "./client.js";

export function kubeNodeExists(clients: KubeClients, log: Logger): NodeExists {
  let warned = false;
  return async (name) => {
    try {
      await clients.core.readNode({ name });
      return true;
    } catch (e) {
      const code = statusCode(e);
      if (code === 404) return false;
      if (!warned) {
        warned = true;
        log.warn(
          { node: name, status: code, err: e },
          "cannot read Node objects: offline nodes are forgotten only after IPMASQ_OFFLINE_NODE_TTL (grant get on nodes to forget deleted nodes at once)",
        );
      }
      return undefined;
    }
  };
}

/** Node reads in flight at once when labels are collected for a canary selector. */
const LABEL_READS = 8;

/**
 * Labels of the named nodes, read one Node object each (the chart grants `get` on nodes, not
 * `list`). A node without a readable Node object is left out: a selector never matches it.
 */
export function kubeNodeLabels(clients: KubeClients, log: Logger) {
  return async (names: readonly string[]): Promise<Map<string, Record<string, string>>> => {
    const out = new Map<string, Record<string, string>>();
    const queue = [...names];
    const worker = async () => {
      for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
        try {
          const node = await clients.core.readNode({ name });
          out.set(name, node.metadata?.labels ?? {});
        } catch (e) {
          log.warn({ node: name, status: statusCode(e) }, "cannot read the Node's labels");
        }
      }
    };
    await Promise.all(Array.from({ length: LABEL_READS }, worker));
    return out;
  };
}
