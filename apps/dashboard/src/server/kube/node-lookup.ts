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
