// RBAC for exactly what is used: every Kubernetes call in apps/dashboard/src is granted by the
// chart (with every optional feature on), and every grant is used by some call. A new call
// without its grant, or a grant no code needs, fails here with the call's file:line.
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/kube-calls.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import { grantsTo } from "./helpers/invariants.js";
import { callsIn, dashboardKubeCalls, permission } from "./helpers/kube-calls.js";
import { ensureHelm, type Manifest, render } from "./helpers/render.js";

// Every grant the chart can give: observe-mode resync, reporter pods, recreated ConfigMaps,
// Events, several replicas (Leases, NodeMasquerades).
const EVERYTHING = [
  "dashboard.replicas=3",
  "dashboard.observeResync=true",
  "auth.reporterNodeFromPod=true",
  "dashboard.recreateConfigMaps=true",
  "dashboard.kubeEvents=true",
];

let m: Manifest;
beforeAll(() => {
  ensureHelm();
  m = render({ namespace: "kube-system", valuesFiles: [], set: EVERYTHING });
});

const granted = () => {
  const sa = m.dashboard.spec.template.spec.serviceAccountName!;
  return new Set(
    grantsTo(m, "kube-system", sa).map((g) => permission({ ...g, group: g.apiGroup })),
  );
};

describe("the chart's RBAC and the dashboard's Kubernetes calls", () => {
  it("attributes every call in the dashboard's source", () => {
    const calls = dashboardKubeCalls();
    expect(calls.filter((c) => c.resource.startsWith("unknown:")).map((c) => c.at)).toEqual([]);
    // The scan finds the calls this chart exists for, so an empty scan cannot pass.
    expect(calls.map(permission)).toEqual(
      expect.arrayContaining(["core/configmaps:watch", "ipmasq.dev/nodemasquerades/status:patch"]),
    );
  });

  it("grants every call the dashboard makes", () => {
    const g = granted();
    const missing = dashboardKubeCalls().filter((c) => !g.has(permission(c)));
    expect(missing.map((c) => `${permission(c)} at ${c.at}`)).toEqual([]);
  });

  it("grants nothing the dashboard does not call", () => {
    const used = new Set(dashboardKubeCalls().map(permission));
    expect([...granted()].filter((p) => !used.has(p)).sort()).toEqual([]);
  });
});

/** Source text with template-literal placeholders, written #{…} here. */
const tpl = (text: string) => text.replaceAll("#{", "$" + "{");

describe("callsIn", () => {
  it.each([
    {
      desc: "a typed client call",
      input: "await this.clients.core.readNamespacedConfigMap({ namespace, name });",
      want: ["core/configmaps:get"],
    },
    {
      desc: "a status subresource",
      input: "coordination.replaceNamespacedLeaseStatus({})",
      want: ["coordination.k8s.io/leases/status:update"],
    },
    {
      desc: "a custom object call on NodeMasquerades",
      input: "api.patchClusterCustomObjectStatus({ ...NODE_MASQUERADE, name }, merge)",
      want: ["ipmasq.dev/nodemasquerades/status:patch"],
    },
    {
      desc: "a list-watch path built from constants",
      input: tpl(
        "path: `/apis/#{NODE_MASQUERADE.group}/#{NODE_MASQUERADE.version}/#{NODE_MASQUERADE.plural}`,",
      ),
      want: ["ipmasq.dev/nodemasquerades:list", "ipmasq.dev/nodemasquerades:watch"],
    },
    {
      desc: "a namespaced core path",
      input: tpl("path: `/api/v1/namespaces/#{namespace}/configmaps`,"),
      want: ["core/configmaps:list", "core/configmaps:watch"],
    },
    {
      desc: "a kind the scanner does not know",
      input: "core.listNamespacedSecret({ namespace })",
      want: ["?/unknown:core.listNamespacedSecret(:list"],
    },
    { desc: "not an API call", input: "readFileSync(path); list.push(x); core.size()", want: [] },
  ])("$desc", ({ input, want }) => {
    expect(callsIn(input, "x.ts").map(permission)).toEqual(want);
  });
});
