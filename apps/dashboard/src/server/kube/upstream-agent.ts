// Observe-mode resync: the upstream ip-masq-agent owns the node's rules, so "resync" means
// deleting its pod on that node; the DaemonSet recreates it and it re-applies at start.
// A pod already terminating is left alone (its replacement is on the way), and each delete
// carries the listed pod's UID as a precondition, so a newer pod that took the name is never
// deleted by mistake.
import type { V1Pod } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { HttpError } from "../errors.js";
import { apiMessage, type KubeClients, statusCode } from "./client.js";

/** The observe-mode resync of api/context.ts ObserveResync: 409 when no pod can be restarted. */
export class UpstreamAgentRestarter {
  constructor(
    private readonly clients: KubeClients,
    private readonly namespace: string,
    private readonly selector: string,
    private readonly log: Logger,
  ) {}

  async restart(node: string): Promise<string[]> {
    const pods = await this.podsOn(node);
    if (pods.length === 0)
      throw new HttpError(
        409,
        `no upstream ip-masq-agent pod (${this.selector} in ${this.namespace}) runs on node ${node}`,
      );
    const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
    if (live.length === 0) {
      const p = pods[0]!;
      throw new HttpError(
        409,
        `the upstream ip-masq-agent pod ${p.metadata?.name} on node ${node} is already terminating (since ${new Date(p.metadata!.deletionTimestamp!).toISOString()}); its replacement re-reads the config when it starts`,
      );
    }
    const deleted: string[] = [];
    for (const p of live) if (await this.delete(p)) deleted.push(p.metadata!.name!);
    this.log.info({ node, pods: deleted }, "deleted upstream ip-masq-agent pods for resync");
    return deleted;
  }

  private async podsOn(node: string): Promise<V1Pod[]> {
    try {
      // `node` passed nodeNameSchema (a DNS name), so it cannot widen the field selector.
      const list = await this.clients.core.listNamespacedPod({
        namespace: this.namespace,
        labelSelector: this.selector,
        fieldSelector: `spec.nodeName=${node}`,
      });
      return list.items.filter((p) => p.metadata?.name);
    } catch (e) {
      throw refused(e, `list pods in ${this.namespace}`);
    }
  }

  /** Deletes one pod if it is still the one listed; false when it is gone or was replaced. */
  private async delete(p: V1Pod): Promise<boolean> {
    const name = p.metadata!.name!;
    try {
      await this.clients.core.deleteNamespacedPod({
        namespace: this.namespace,
        name,
        body: { preconditions: { uid: p.metadata?.uid } },
      });
      return true;
    } catch (e) {
      const code = statusCode(e);
      if (code === 404 || code === 409) return false;
      throw refused(e, `delete pod ${this.namespace}/${name}`);
    }
  }
}

function refused(e: unknown, what: string): unknown {
  if (statusCode(e) !== 403) return e;
  return new HttpError(503, `the dashboard may not ${what}: ${apiMessage(e)}`);
}
