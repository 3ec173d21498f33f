// GET /api/nodes/:name/kubectl: the kubectl commands for the node page (shared kubectl.ts),
// built from where the chart runs the reporters. The file store is a standalone dashboard:
// there is no cluster to run kubectl against, and the answer says so.
import {
  type KubectlResponse,
  kubectlCommands,
  type ReporterPods,
  replicaPortForward,
} from "@masq/shared";
import { HttpError } from "../errors.js";
import { remoteOf, remoteOs } from "../replicas/fleet-view.js";
import type { ApiContext } from "./context.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";

export interface KubectlSetting {
  /** The store is the Kubernetes ConfigMap: the nodes are a cluster's. */
  inCluster: boolean;
  /** Where the reporter pods run (IPMASQ_REPORTER_NAMESPACE + IPMASQ_REPORTER_SELECTOR). */
  pods: ReporterPods | null;
}

/** `os`: null when not known here (the reporter pod is found by either DaemonSet's label). */
export function kubectlResponse(
  name: string,
  os: "linux" | "windows" | null,
  k: KubectlSetting,
): KubectlResponse {
  if (!k.inCluster)
    return {
      commands: [],
      unavailable:
        "This dashboard runs standalone (file store): its nodes are not a Kubernetes cluster's, and it records no Kubernetes Events: the history of this node on this page is the record.",
    };
  const commands = kubectlCommands(name, os, k.pods);
  return k.pods
    ? { commands }
    : {
        commands,
        unavailable:
          "The reporter pods' namespace and labels are not set (IPMASQ_REPORTER_NAMESPACE, IPMASQ_REPORTER_SELECTOR; the chart sets them).",
      };
}

export function kubectlRoutes(ctx: ApiContext, k: KubectlSetting): Route[] {
  return [
    route({
      method: "GET",
      path: "/api/nodes/:name/kubectl",
      access: "viewer",
      handler({ res, params }) {
        const name = params.name ?? "";
        // A node another replica holds has a Node and a reporter Pod all the same, and one
        // more command when its reporter is connected there, or was until it left and that
        // replica is alive: opening that replica, which has its rules and timeline (its holder
        // dead, or naming none, there is none to open).
        const view = ctx.replicas?.sources();
        const held = view ? remoteOf(view, name) : undefined;
        if (held) {
          const r = kubectlResponse(held.name, remoteOs(held), k);
          const last = held.disconnected?.holderLive === true;
          if (!held.connected && !last) return sendJson(res, 200, r);
          const replica = held.heldBy.replica;
          const forward = replicaPortForward(replica, ctx.replicas?.podNamespace ?? null);
          r.commands.push({
            title: last
              ? `Replica ${replica}, which held it last (its last known rules and history), on http://localhost:8080`
              : `Replica ${replica}, which holds it, on http://localhost:8080`,
            command: forward,
          });
          return sendJson(res, 200, r);
        }
        const n = ctx.fleet.nodes.get(name);
        if (!n) throw new HttpError(404, `no node named ${params.name}`);
        sendJson(res, 200, kubectlResponse(n.name, n.hello.os, k));
      },
    }),
  ];
}
