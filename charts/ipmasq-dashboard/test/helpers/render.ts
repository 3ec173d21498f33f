// Rendering the chart with helm and reading what it renders: loosely typed Kubernetes objects
// with small accessors, the containers' env as the kubelet sets it, and the reporter's settings
// through its own CLI parser. `helm template` sees no cluster, so `lookup` finds nothing.
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { addAgentFlagOptions } from "@masq/reporter/cli/flags";
import { addRunOptions, type RunCliOptions, runSettingsFrom } from "@masq/reporter/cli/run-options";
import { Command } from "commander";
import { parseAllDocuments } from "yaml";

export const CHART = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ROOT = resolve(CHART, "../..");
/** Kubernetes version of the kubernetes-models schemas (4.5.x), passed to helm as well. */
export const KUBE_VERSION = "1.33.0";
export const RELEASE = "ipmasq";
export const AUDIENCE = "ipmasq-dashboard";

// ---------------------------------------------------------------------------------------------
// Rendered objects: loosely typed JSON with small accessors.

export type Json = Record<string, unknown>;
export interface K8sObject extends Json {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface Container {
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
export interface Volume {
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
export interface PodSpec {
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
export interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    strategy?: { type: string; rollingUpdate?: Json };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
export interface Role extends K8sObject {
  rules: PolicyRule[];
}
export interface Binding extends K8sObject {
  roleRef: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

export const component = (o: K8sObject) => o.metadata.labels?.["app.kubernetes.io/component"];

export class Manifest {
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
  /** The dashboard's Service (browsers, API, metrics). */
  get service(): ServiceObject {
    return this.one<ServiceObject>("Service", (s) => component(s) === "dashboard");
  }
  /** The reporters' Service: the same pods, no session affinity. */
  get reporterService(): ServiceObject {
    return this.one<ServiceObject>("Service", (s) => component(s) === "reporter-gateway");
  }
}

export type ServiceObject = K8sObject & {
  spec: {
    selector: Record<string, string>;
    sessionAffinity?: string;
    ports: { port: number; targetPort: string | number }[];
  };
};

export function env(c: Container, name: string): EnvVar | undefined {
  return c.env?.find((e) => e.name === name);
}
export function envValue(c: Container, name: string): string | undefined {
  return env(c, name)?.value;
}
export function container(w: Workload): Container {
  const cs = w.spec.template.spec.containers;
  if (cs.length !== 1)
    throw new Error(`${w.metadata.name}: expected one container, found ${cs.length}`);
  return cs[0]!;
}
export function mountOf(c: Container, volumeName: string) {
  return c.volumeMounts?.find((m) => m.name === volumeName);
}

// ---------------------------------------------------------------------------------------------
// helm

let helmBin = "";

/** Finds helm (scripts/helm.mjs) once per test file and checks it is helm v3 or v4. */
export function ensureHelm(): void {
  if (helmBin) return;
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "helm.mjs"), "--print-path"], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`cannot get helm: ${r.stderr}`);
  helmBin = r.stdout.trim();
  const version = helm(["version", "--short"]);
  if (!/^v[34]\./.test(version.stdout))
    throw new Error(`helm v3 or v4 needed, found ${version.stdout}`);
}

export function helm(args: string[]) {
  const r = spawnSync(helmBin, args, {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return r;
}

export interface Variant {
  name: string;
  namespace: string;
  /** Files under the chart's ci/ directory. */
  valuesFiles: string[];
  set?: string[];
}

export function valueArgs(v: Pick<Variant, "valuesFiles" | "set">): string[] {
  return [
    ...v.valuesFiles.flatMap((f) => ["--values", join(CHART, "ci", f)]),
    ...(v.set ?? []).flatMap((s) => ["--set", s]),
  ];
}

export function template(v: Omit<Variant, "name">) {
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

export function render(v: Omit<Variant, "name">): Manifest {
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
export function envOf(c: Container): Record<string, string> {
  const stub = (e: EnvVar) =>
    e.valueFrom?.fieldRef
      ? `stub-${e.valueFrom.fieldRef.fieldPath.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`
      : "stub-secret";
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? stub(e)]));
}

/** `ipmasq run` settings from the reporter container's env, through the reporter's own parser. */
export function reporterSettings(c: Container) {
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
