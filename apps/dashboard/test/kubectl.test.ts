// GET /api/nodes/:name/kubectl: in a cluster (the chart's environment) the Node's and its
// reporter Pod's commands; standalone (file store) none, saying why; 404 for an unknown node.
import { describe, expect, it } from "vitest";
import { kubeTestCluster } from "./helpers/kube-server.js";
import { perTest, startServer } from "./helpers/server.js";

const k = kubeTestCluster();
const t = perTest();

describe("kubectl commands of a node", () => {
  it("in a cluster: the Node, its Events, the reporter Pod on it and its logs", async () => {
    await k.cluster();
    const s = await k.start();
    await k.reporter(s, "node-a");
    const r = await s.api("/api/nodes/node-a/kubectl");
    expect(r.status).toBe(200);
    expect(r.body.unavailable).toBeUndefined();
    expect(r.body.commands.map((c: { command: string }) => c.command)).toEqual([
      "kubectl describe node node-a",
      expect.stringContaining("involvedObject.name=node-a"),
      "kubectl get pods -n kube-system -l app.kubernetes.io/name=ipmasq-dashboard,app.kubernetes.io/instance=ipmasq,app.kubernetes.io/component=reporter --field-selector spec.nodeName=node-a -o wide",
      expect.stringMatching(
        /^kubectl logs -n kube-system --tail=200 \$\(kubectl get pods .* -o name\)$/,
      ),
    ]);
    expect((await s.api("/api/nodes/ghost/kubectl")).status).toBe(404);
  });

  it("standalone: no commands, and the reason", async () => {
    t.server = await startServer();
    await t.connect("node-b");
    const r = await t.server.api("/api/nodes/node-b/kubectl");
    expect(r.body).toEqual({ commands: [], unavailable: expect.stringMatching(/standalone/) });
  });
});
