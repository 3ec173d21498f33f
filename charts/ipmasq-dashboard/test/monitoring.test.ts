// The optional monitoring objects: a PrometheusRule with the five alerts, a ServiceMonitor and
// a Grafana dashboard ConfigMap for the sidecar, all off by default; helm lint passes with
// them on, and every alert and panel expression parses (Prometheus' grammar) and selects only
// metrics the dashboard really registers (apps/dashboard/src/server/metrics.ts).
//
// Run: npx vitest run --project integration charts/ipmasq-dashboard/test/monitoring.test.ts
import { beforeAll, describe, expect, it } from "vitest";
import { registerRolloutMetrics } from "../../../apps/dashboard/src/server/fleet/rollout-metrics.js";
import { createMetrics } from "../../../apps/dashboard/src/server/metrics.js";
import { exposedNames, promqlViolations, readPromql } from "./helpers/promql.js";
import {
  CHART,
  ensureHelm,
  helm,
  type Json,
  type K8sObject,
  KUBE_VERSION,
  type Manifest,
  render,
  valueArgs,
} from "./helpers/render.js";

const ON = [
  "monitoring.prometheusRule.enabled=true",
  "monitoring.serviceMonitor.enabled=true",
  "monitoring.grafanaDashboard.enabled=true",
  "monitoring.prometheusRule.labels.release=kube-prometheus-stack",
];
const variant = { namespace: "kube-system", valuesFiles: [], set: ON };

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
type RuleDoc = K8sObject & { spec: { groups: { name: string; rules: Rule[] }[] } };

let on: Manifest;
let off: Manifest;
let known: Set<string>;

beforeAll(async () => {
  ensureHelm();
  on = render(variant);
  off = render({ ...variant, set: [] });
  const metrics = createMetrics({ defaultMetrics: true });
  const { registry } = metrics;
  // The config-store gauges exist once a store with a status (Kubernetes) is attached.
  metrics.setStoreStatus(() => undefined);
  registerRolloutMetrics(registry, { view: () => null });
  known = await exposedNames(registry);
});

const rules = () => on.one<RuleDoc>("PrometheusRule").spec.groups.flatMap((g) => g.rules);
const dashboard = () =>
  JSON.parse(
    on.one<K8sObject & { data: Record<string, string> }>("ConfigMap", (c) =>
      c.metadata.name.endsWith("grafana-dashboard"),
    ).data["ipmasq-dashboard.json"]!,
  ) as Json & { panels: { title: string; targets: { expr: string }[] }[] };

describe("monitoring objects", () => {
  it("are off by default", () => {
    expect(off.all("PrometheusRule")).toEqual([]);
    expect(off.all("ServiceMonitor")).toEqual([]);
    expect(off.all("ConfigMap").filter((c) => c.metadata.labels?.grafana_dashboard)).toEqual([]);
  });

  it("pass helm lint --strict when enabled", () => {
    const r = helm([
      "lint",
      CHART,
      "--strict",
      "--kube-version",
      KUBE_VERSION,
      ...valueArgs(variant),
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });

  it("alert on drifted nodes, apply failures, offline reporters, a paused rollout and a dashboard down", () => {
    const doc = on.one<RuleDoc>("PrometheusRule");
    expect(doc.apiVersion).toBe("monitoring.coreos.com/v1");
    expect(doc.metadata.labels?.release).toBe("kube-prometheus-stack");
    expect(rules().map((r) => r.alert)).toEqual([
      "IpMasqNodesDrifted",
      "IpMasqApplyFailed",
      "IpMasqReportersOffline",
      "IpMasqRolloutPaused",
      "IpMasqDashboardDown",
    ]);
    for (const r of rules()) {
      expect(Object.keys(r).sort()).toEqual(["alert", "annotations", "expr", "for", "labels"]);
      expect(r.for).toMatch(/^\d+m$/);
      expect(["warning", "critical"]).toContain(r.labels.severity);
      expect(r.annotations.summary).toBeTruthy();
      // Prometheus' own template, not Helm's, reaches the rule.
      for (const t of r.annotations.description?.match(/\{\{[^}]*\}\}/g) ?? [])
        expect(t).toMatch(/^\{\{ \$(value|labels\.\w+) \}\}$/);
    }
  });

  it("select this release's dashboard: the job a ServiceMonitor of its Service gives", () => {
    const svc = on.service.metadata.name;
    const sm = on.one<K8sObject & { spec: Json }>("ServiceMonitor");
    expect(sm.spec).toMatchObject({
      selector: { matchLabels: on.service.spec.selector },
      endpoints: [{ port: "http", path: "/metrics" }],
    });
    for (const r of rules()) expect(r.expr).toContain(`job="${svc}"`);
  });

  it("every alert and panel expression parses and names only metrics the dashboard exports", () => {
    const exprs = [
      ...rules().map((r) => ({ where: r.alert, expr: r.expr })),
      ...dashboard().panels.flatMap((p) =>
        p.targets.map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
      ),
    ];
    expect(exprs.length).toBeGreaterThan(15);
    expect(promqlViolations(exprs, known)).toEqual([]);
  });

  it("the check fails on a misspelt metric and on a syntax error", () => {
    const bad = [
      { where: "typo", expr: 'max(ipmasq_node{status="drifted"}) > 0' },
      { where: "syntax", expr: "sum(rate(ipmasq_apply_failures_total[5m]) > 0" },
      { where: "label, not a metric", expr: "sum by (ipmasq_nodes) (ipmasq_rollout_phase)" },
    ];
    expect(promqlViolations(bad, known)).toEqual([
      "typo: ipmasq_node is not a metric the dashboard exports",
      expect.stringMatching(/^syntax: syntax error/),
    ]);
    expect(
      readPromql("histogram_quantile(0.9, rate(ipmasq_rollout_duration_seconds_bucket[5m]))")
        .metrics,
    ).toEqual(["ipmasq_rollout_duration_seconds_bucket"]);
  });

  it("the Grafana dashboard carries the sidecar label and asks for its data source", () => {
    const cm = on.one("ConfigMap", (c) => c.metadata.name.endsWith("grafana-dashboard"));
    expect(cm.metadata.labels?.grafana_dashboard).toBe("1");
    const d = dashboard();
    expect(d).toMatchObject({ uid: "ipmasq-dashboard", title: expect.any(String) });
    expect(JSON.stringify(d.templating)).toContain('"type":"datasource"');
    for (const p of d.panels) expect(p.targets.length).toBeGreaterThan(0);
  });
});
