// Observe-mode resync: the upstream ip-masq-agent owns the node's rules, so "resync" means
// deleting its pod on that node; the DaemonSet recreates it and it re-applies at start.
import type { Logger } from "pino";
import type { ObserveResync } from "../api/context.js";
import { HttpError } from "../api/respond.js";
import type { KubeClients } from "./client.js";

export class UpstreamAgentRestarter implements ObserveResync {
  constructor(
    private readonly clients: KubeClients,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly log: Logger,
  ) {}

  async restart(node: string): Promise<string[]> {
    // `node` passed nodeNameSchema (a DNS name), so it cannot widen the field selector.
    const list = await this.clients.core.listNamespacedPod({
      namespace: this.namespace,
      labelSelector: this.selector,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const pods = list.items.flatMap((p) => (p.metadata?.name ? [p.metadata.name] : []));
    if (pods.length === 0)
      throw new HttpError(
        409,
        `no upstream ip-masq-agent pod (${this.selector} in ${this.namespace}) runs on node ${node}`,
      );
    for (const name of pods)
      await this.clients.core.deleteNamespacedPod({ namespace: this.namespace, name });
    this.log.info({ node, pods }, "deleted upstream ip-masq-agent pods for resync");
    return pods;
  }
}
