// The Helm chart as the test API server's source of truth: `helm template` (helm from
// scripts/helm.mjs, as charts/ipmasq-dashboard/chart.test.ts uses it) gives the RBAC the
// dashboard really gets, the objects an install creates and the dashboard's environment.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { Obj } from "./status.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../../..");
export const CHART_DIR = join(ROOT, "charts", "ipmasq-dashboard");
const RELEASE = "ipmasq";

export interface ChartValues {
  /** Release namespace (default kube-system, as the chart's README installs it). */
  namespace?: string;
  /** `--set` arguments, e.g. "dashboard.observeResync=true". */
  set?: string[];
}

export interface RenderedChart {
  namespace: string;
  docs: Obj[];
  /** The dashboard Deployment's container. */
  dashboardContainer: Obj;
  /** `system:serviceaccount:NS:NAME` of the dashboard pods. */
  dashboardUser: string;
  /** `system:serviceaccount:NS:NAME` of the reporter pods. */
  reporterUser: string;
}

let helmPath: string | undefined;
const cache = new Map<string, RenderedChart>();

function helm(): string {
  if (helmPath) return helmPath;
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "helm.mjs"), "--print-path"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cannot get helm: ${r.stderr}`);
  helmPath = r.stdout.trim();
  return helmPath;
}

/** `helm template` of the chart (memoised per value set). */
export function renderChart(values: ChartValues = {}): RenderedChart {
  const namespace = values.namespace ?? "kube-system";
  const set = values.set ?? [];
  const key = JSON.stringify([namespace, set]);
  const hit = cache.get(key);
  if (hit) return hit;
  const args = ["template", RELEASE, CHART_DIR, "--namespace", namespace];
  for (const s of set) args.push("--set", s);
  const r = spawnSync(helm(), args, { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  const docs = parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Obj)
    .filter((d) => d !== null);
  const pod = (kind: string, component: string) => {
    const w = docs.find(
      (d) => d.kind === kind && d.metadata.labels?.["app.kubernetes.io/component"] === component,
    );
    if (!w) throw new Error(`the chart renders no ${component} ${kind}`);
    return w.spec.template.spec;
  };
  const dashboard = pod("Deployment", "dashboard");
  const reporter = pod("DaemonSet", "reporter");
  const rendered: RenderedChart = {
    namespace,
    docs,
    dashboardContainer: dashboard.containers[0],
    dashboardUser: `system:serviceaccount:${namespace}:${dashboard.serviceAccountName}`,
    reporterUser: `system:serviceaccount:${namespace}:${reporter.serviceAccountName}`,
  };
  cache.set(key, rendered);
  return rendered;
}

/**
 * The dashboard container's environment as the kubelet would set it: downward-API fields from
 * `pod`, Secret references left out (tests pass their own tokens).
 */
export function containerEnv(
  container: Obj,
  pod: { name: string; namespace: string },
): Record<string, string> {
  const fields: Record<string, string> = {
    "metadata.name": pod.name,
    "metadata.namespace": pod.namespace,
  };
  const out: Record<string, string> = {};
  for (const e of container.env ?? []) {
    if (e.value !== undefined) out[e.name] = String(e.value);
    else if (e.valueFrom?.fieldRef) out[e.name] = fields[e.valueFrom.fieldRef.fieldPath] ?? "";
  }
  return out;
}

/** The objects `helm install` creates that the dashboard reads (ConfigMaps, Leases). */
export function installedObjects(chart: RenderedChart): Obj[] {
  return chart.docs.filter((d) => d.kind === "ConfigMap" || d.kind === "Lease");
}

/** The CustomResourceDefinitions of the chart's crds/ directory (what `helm install` creates first). */
export function chartCrds(): Obj[] {
  const dir = join(CHART_DIR, "crds");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), "utf8")).map((d) => d.toJS() as Obj),
    )
    .filter((d) => d !== null);
}
