// Several active dashboard replicas (issue 17): a rolling update that completes, a
// PodDisruptionBudget above one replica, topology spread over hostnames and zones, a Service
// reaching every ready replica, and exactly the RBAC the replicas share state with (Leases,
// NodeMasquerades).
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/scale-out.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import {
  LEASE_VERBS,
  NODE_MASQUERADE_VERBS,
  rbacExpectation,
  rbacViolations,
} from "./helpers/invariants.js";
import {
  CHART,
  container,
  ensureHelm,
  env,
  helm,
  type Json,
  type K8sObject,
  type Manifest,
  RELEASE,
  type Role,
  render,
  template,
  valueArgs,
} from "./helpers/render.js";

const base = { namespace: "kube-system", valuesFiles: [] };
const SELECTOR = {
  "app.kubernetes.io/name": "ipmasq-dashboard",
  "app.kubernetes.io/instance": "ipmasq",
  "app.kubernetes.io/component": "dashboard",
};
type Pdb = K8sObject & { spec: Json & { selector: { matchLabels: Json } } };
type Spread = Json & { topologyKey: string; whenUnsatisfiable: string; maxSkew: number };
const spreadOf = (m: Manifest) =>
  (m.dashboard.spec.template.spec as { topologySpreadConstraints?: Spread[] })
    .topologySpreadConstraints;

let three: Manifest;
let one: Manifest;
beforeAll(() => {
  ensureHelm();
  three = render({ ...base, set: ["dashboard.replicas=3"] });
  one = render(base);
});

describe("dashboard replicas > 1", () => {
  it("renders a PodDisruptionBudget selecting the dashboard pods, one replica down at a time", () => {
    const pdb = three.one<Pdb>("PodDisruptionBudget");
    expect(pdb.metadata.namespace).toBe("kube-system");
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: SELECTOR } });
    expect(three.dashboard.spec.template.metadata.labels).toMatchObject(SELECTOR);
  });

  it("renders no PodDisruptionBudget for one replica (it would block every drain or mean nothing)", () => {
    expect(one.all("PodDisruptionBudget")).toEqual([]);
  });

  it.each([
    {
      desc: "minAvailable as a count",
      set: [
        "dashboard.podDisruptionBudget.minAvailable=2",
        "dashboard.podDisruptionBudget.maxUnavailable=",
      ],
      want: { minAvailable: 2 },
    },
    {
      desc: "minAvailable as a percentage",
      set: [
        "dashboard.podDisruptionBudget.minAvailable=50%",
        "dashboard.podDisruptionBudget.maxUnavailable=",
      ],
      want: { minAvailable: "50%" },
    },
    {
      desc: "maxUnavailable as a percentage",
      set: ["dashboard.podDisruptionBudget.maxUnavailable=34%"],
      want: { maxUnavailable: "34%" },
    },
  ])("takes the budget's $desc", ({ set, want }) => {
    const pdb = render({ ...base, set: ["dashboard.replicas=3", ...set] }).one<Pdb>(
      "PodDisruptionBudget",
    );
    expect(pdb.spec).toEqual({ ...want, selector: { matchLabels: SELECTOR } });
  });

  it.each([
    {
      desc: "both bounds",
      set: ["dashboard.podDisruptionBudget.minAvailable=2"],
      want: /not both/,
    },
    {
      desc: "neither bound",
      set: ["dashboard.podDisruptionBudget.maxUnavailable="],
      want: /set minAvailable or maxUnavailable/,
    },
    {
      desc: "a malformed bound",
      set: ["dashboard.podDisruptionBudget.maxUnavailable=half"],
      want: /podDisruptionBudget\/maxUnavailable/,
    },
    {
      desc: "a malformed spread rule",
      set: ["dashboard.topologySpread.whenUnsatisfiable=Sometimes"],
      want: /whenUnsatisfiable/,
    },
  ])("refuses $desc with a clear error", ({ set, want }) => {
    const r = template({ ...base, set: ["dashboard.replicas=3", ...set] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(want);
  });

  it("spreads the replicas over hostnames and zones, preferring (ScheduleAnyway), within one rollout", () => {
    const spread = spreadOf(three);
    expect(spread).toEqual(
      ["kubernetes.io/hostname", "topology.kubernetes.io/zone"].map((topologyKey) => ({
        topologyKey,
        maxSkew: 1,
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: SELECTOR },
        matchLabelKeys: ["pod-template-hash"],
      })),
    );
  });

  it("lets the spread be required, dropped, or replaced by your own constraints", () => {
    const strict = render({
      ...base,
      set: ["dashboard.replicas=3", "dashboard.topologySpread.whenUnsatisfiable=DoNotSchedule"],
    });
    expect(spreadOf(strict)?.map((c) => c.whenUnsatisfiable)).toEqual([
      "DoNotSchedule",
      "DoNotSchedule",
    ]);
    const none = render({
      ...base,
      set: ["dashboard.replicas=3", "dashboard.topologySpread.topologyKeys=null"],
    });
    expect(spreadOf(none)).toBeUndefined();
    const own = render({
      ...base,
      set: [
        "dashboard.replicas=3",
        "dashboard.topologySpreadConstraints[0].topologyKey=example.com/rack",
        "dashboard.topologySpreadConstraints[0].maxSkew=2",
        "dashboard.topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule",
      ],
    });
    expect(spreadOf(own)).toEqual([
      {
        topologyKey: "example.com/rack",
        maxSkew: 2,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: SELECTOR },
      },
    ]);
  });

  it("rolls out one new replica at a time, none taken down first, and has every pod know its name", () => {
    expect(three.dashboard.spec.replicas).toBe(3);
    expect(three.dashboard.spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    // The replica Lease and NodeMasquerade status.replica carry the pod name.
    expect(env(container(three.dashboard), "POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe(
      "metadata.name",
    );
    // Readiness is /readyz on every replica (no longer the Lease holder's alone).
    expect(container(three.dashboard).readinessProbe?.httpGet).toEqual({
      path: "/readyz",
      port: "http",
    });
  });

  it("has the Service select every dashboard pod, keeping each client on one replica", () => {
    const spec = three.service.spec as Json;
    expect(spec.selector).toEqual(SELECTOR);
    expect(spec.sessionAffinity).toBe("ClientIP");
    expect(spec.publishNotReadyAddresses).toBeUndefined();
  });

  it("has the reporters reach any ready replica on each connection, so one lost without a close is left within seconds", () => {
    const spec = three.reporterService.spec;
    expect(spec.selector).toEqual(SELECTOR);
    expect(spec.sessionAffinity).toBe("None");
    // Its own component label: the ServiceMonitor (dashboard Service's labels) scrapes each
    // pod once.
    expect(three.reporterService.metadata.labels?.["app.kubernetes.io/component"]).toBe(
      "reporter-gateway",
    );
  });

  it("grants exactly the RBAC the replicas share state with: Leases and NodeMasquerades", () => {
    expect(rbacViolations(three, rbacExpectation(three, "kube-system", false))).toEqual([]);
    const rules = [...three.all<Role>("Role"), ...three.all<Role>("ClusterRole")].flatMap((r) =>
      r.rules
        .filter((rule) =>
          rule.resources?.some((x) => x === "leases" || x.startsWith("nodemasquerades")),
        )
        .map((rule) => ({ kind: r.kind, namespace: r.metadata.namespace, ...rule })),
    );
    expect(rules).toEqual([
      {
        kind: "Role",
        namespace: "kube-system",
        apiGroups: ["coordination.k8s.io"],
        resources: ["leases"],
        verbs: LEASE_VERBS,
      },
      ...Object.entries(NODE_MASQUERADE_VERBS).map(([resource, verbs]) => ({
        kind: "ClusterRole",
        namespace: undefined,
        apiGroups: ["ipmasq.dev"],
        resources: [resource],
        verbs,
      })),
      // For people, not the dashboard: aggregated into view/edit/admin, bound to nobody
      // (rbac.test.ts, "reading NodeMasquerades without being a cluster admin").
      {
        kind: "ClusterRole",
        namespace: undefined,
        apiGroups: ["ipmasq.dev"],
        resources: ["nodemasquerades"],
        verbs: ["get", "list", "watch"],
      },
    ]);
  });

  it.each([
    {
      desc: "the Leases they coordinate through",
      set: "dashboard.leaderElection.enabled=false",
      want: /leaderElection/,
    },
    {
      desc: "NodeMasquerades to see each other's nodes",
      set: "dashboard.replicaSync.enabled=false",
      want: /replicaSync/,
    },
  ])("refuses several replicas without $desc", ({ set, want }) => {
    const r = template({ ...base, set: ["dashboard.replicas=3", set] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(want);
  });

  it("tells every replica to share the fleet and how fast it may write statuses", () => {
    const c = container(three.dashboard);
    expect(env(c, "IPMASQ_REPLICA_SYNC")?.value).toBe("true");
    expect(env(c, "IPMASQ_STATUS_WRITES_PER_SECOND")?.value).toBe("50");
    expect(env(c, "IPMASQ_LEASE")?.value).toBe("ipmasq-ipmasq-dashboard");
  });

  it("without replica sync (one replica) grants nothing on NodeMasquerades", () => {
    const solo = render({ ...base, set: ["dashboard.replicaSync.enabled=false"] });
    expect(env(container(solo.dashboard), "IPMASQ_REPLICA_SYNC")?.value).toBe("false");
    expect(rbacViolations(solo, rbacExpectation(solo, "kube-system", false))).toEqual([]);
    const rules = [...solo.all<Role>("Role"), ...solo.all<Role>("ClusterRole")].flatMap(
      (r) => r.rules,
    );
    expect(rules.filter((r) => r.apiGroups?.includes("ipmasq.dev"))).toEqual([]);
    // …and the check fails when the chart grants them anyway, or misses them when it syncs.
    const e = rbacExpectation(three, "kube-system", false);
    expect(rbacViolations(three, { ...e, replicaSync: false })).toContain(
      "list nodemasquerades granted=true but IPMASQ_REPLICA_SYNC=false",
    );
    expect(rbacViolations(solo, { ...e, replicaSync: true }).join("\n")).toContain(
      "watch nodemasquerades granted=false but IPMASQ_REPLICA_SYNC=true",
    );
  });
});

describe("install notes", () => {
  const notes = (set: string[]) => {
    const args = ["install", RELEASE, CHART, "--dry-run=client", "--namespace", "kube-system"];
    const r = helm([...args, ...valueArgs({ valuesFiles: [], set })]);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.slice(r.stdout.indexOf("NOTES:"));
  };

  it("show every node's state with kubectl, and how to follow a rollout of several replicas", () => {
    const many = notes(["dashboard.replicas=3"]);
    expect(many).toContain("kubectl get nodemasquerades");
    expect(many).toContain(
      "kubectl --namespace kube-system rollout status deployment/ipmasq-ipmasq-dashboard-dashboard",
    );
    const single = notes([]);
    expect(single).toContain("kubectl get nodemasquerades");
    expect(single).not.toContain("rollout status");
  });

  it.each([
    {
      desc: "3 replicas at the default write rate",
      input: ["dashboard.replicas=3"],
      want: ["(3 expected", "at most 3 x 50 = 150 objects a second", "N / 150 seconds"],
    },
    {
      desc: "5 replicas at 200 writes/s",
      input: ["dashboard.replicas=5", "dashboard.replicaSync.statusWritesPerSecond=200"],
      want: ["(5 expected", "at most 5 x 200 = 1000 objects a second", "N / 1000 seconds"],
    },
  ])("with several replicas say what to check: $desc", ({ input, want }) => {
    const many = notes(input);
    for (const w of want) expect(many).toContain(w);
    expect(many).toContain(
      "kubectl --namespace kube-system get leases | grep ipmasq-ipmasq-dashboard",
    );
    expect(many).toContain("kubectl get nmasq --no-headers | wc -l");
    // The sizing doc by URL: a packaged chart has no docs/ directory.
    expect(many).toContain(
      "https://github.com/masq-dashboard/masq-dashboard/blob/main/docs/scale-out.md#capacity-and-sizing",
    );
    expect(many).not.toMatch(/sizing: docs\//);
    // Per-replica capacity as scale-out.md sizes it (it said 6,000, a figure two rounds old).
    expect(many).toContain("a replica holds 7,500-10,400 nodes up to 30,000");
    expect(many).toContain("~4,400 where each node's nat rules are its own");
    expect(many).toContain("kubectl port-forward pod/<replica> 8080:http");
    expect(many).toContain("--include-crds");
  });
});
