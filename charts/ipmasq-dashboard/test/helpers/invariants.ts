// The chart's security and wiring invariants as code: each returns the violations it finds,
// so the tests show both that the chart holds them and that a broken document is caught.
import {
  AUDIENCE,
  type Binding,
  container,
  env,
  envValue,
  type Json,
  type K8sObject,
  type Manifest,
  mountOf,
  type Role,
  type Workload,
} from "./render.js";

export const CLUSTER_SCOPED = new Set([
  "ClusterRole",
  "ClusterRoleBinding",
  "Namespace",
  "PriorityClass",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

/** References between rendered objects, and general hygiene. */
export function wiringViolations(m: Manifest): string[] {
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
  const pods = m.dashboard.spec.template.metadata.labels;
  for (const svc of [m.service, m.reporterService])
    for (const [k, val] of Object.entries(svc.spec.selector)) {
      if (pods[k] !== val)
        v.push(
          `Service ${svc.metadata.name} selector ${k}=${val} does not select the dashboard pods`,
        );
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

export const sorted = (xs: string[] | undefined) => [...(xs ?? [])].sort();

export function tokenViolations(w: Workload, name: string): string[] {
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
export function reporterViolations(w: Workload): string[] {
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
export function windowsReporterViolations(w: Workload, cniPath: string): string[] {
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
export function dashboardViolations(w: Workload): string[] {
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

export interface Grant {
  scope: string; // namespace, or "cluster"
  via: string;
  apiGroup: string;
  resource: string;
  verb: string;
  resourceNames: string[];
}

/** Everything the chart's bindings grant to ServiceAccount namespace/name. */
export function grantsTo(m: Manifest, namespace: string, name: string): Grant[] {
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

export const FORBIDDEN_ROLES = new Set(["cluster-admin", "admin", "edit", "view"]);

export interface RbacExpectation {
  dashboardSA: string;
  reporterSA: string;
  configMapNamespace: string;
  configMapName: string;
  historyName: string;
  leaseName: string;
  observeResync: boolean;
  upstreamNamespace: string;
  /** IPMASQ_KUBE_EVENTS: create/patch on Events in the ConfigMap's namespace and "default". */
  kubeEvents: boolean;
  /** IPMASQ_RECREATE_CONFIGMAPS: create on ConfigMaps in their namespace. */
  recreateConfigMaps: boolean;
  /** auth.reporterNodeFromPod: get on pods in the release namespace. */
  reporterNodeFromPod: boolean;
  releaseNamespace: string;
  /** IPMASQ_SOURCE_PREFIX: list/watch on the namespace's ConfigMaps when set. */
  sourcePrefix: string;
  /** IPMASQ_EDITABLE_SOURCES: get/update on exactly these ConfigMaps. */
  editableSources: string[];
  /** IPMASQ_REPLICA_SYNC: NodeMasquerades and the replica Lease. */
  replicaSync: boolean;
  /** IPMASQ_LEADER_ELECTION: the singleton Lease. */
  leaderElection: boolean;
}

/** What the dashboard's environment says it will touch. */
export function rbacExpectation(
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
    kubeEvents: envValue(d, "IPMASQ_KUBE_EVENTS") === "true",
    reporterNodeFromPod,
    releaseNamespace: m.namespace,
    sourcePrefix: envValue(d, "IPMASQ_SOURCE_PREFIX") ?? "",
    editableSources: (envValue(d, "IPMASQ_EDITABLE_SOURCES") ?? "").split(",").filter(Boolean),
    replicaSync: envValue(d, "IPMASQ_REPLICA_SYNC") === "true",
    leaderElection: envValue(d, "IPMASQ_LEADER_ELECTION") === "true",
  };
}

/** Whether one grant is among those the dashboard needs (and why it needs it: docs/dashboard-server.md). */
export function grantAllowed(g: Grant, e: RbacExpectation): boolean {
  const inCmNamespace = g.scope === e.configMapNamespace && g.via.startsWith("Role/");
  const named = (...names: string[]) => JSON.stringify(g.resourceNames) === JSON.stringify(names);
  return (
    (g.scope === "cluster" &&
      g.verb === "create" &&
      ["tokenreviews", "subjectaccessreviews"].includes(g.resource)) ||
    // Offline nodes are forgotten when their Node object is gone (issue 12.8).
    (g.scope === "cluster" && g.apiGroup === "" && g.resource === "nodes" && g.verb === "get") ||
    // NodeMasquerade (issue 17): every node's status, written by the replica holding it.
    (g.scope === "cluster" &&
      g.apiGroup === "ipmasq.dev" &&
      (NODE_MASQUERADE_VERBS[g.resource as keyof typeof NODE_MASQUERADE_VERBS] ?? []).includes(
        g.verb,
      )) ||
    (g.resource === "configmaps" &&
      g.scope === e.configMapNamespace &&
      named(e.configMapName, e.historyName) &&
      ["get", "list", "watch", "update"].includes(g.verb)) ||
    // Config sources: the namespace's ConfigMaps listed and watched (filtered by prefix), and
    // exactly the editable ones written.
    (e.sourcePrefix !== "" &&
      g.resource === "configmaps" &&
      inCmNamespace &&
      named() &&
      ["list", "watch"].includes(g.verb)) ||
    (e.editableSources.length > 0 &&
      g.resource === "configmaps" &&
      inCmNamespace &&
      named(...e.editableSources) &&
      ["get", "update"].includes(g.verb)) ||
    (e.recreateConfigMaps &&
      g.resource === "configmaps" &&
      inCmNamespace &&
      named() &&
      g.verb === "create") ||
    // The singleton Lease and one per replica (named after its pod, so not nameable in RBAC;
    // the lease ValidatingAdmissionPolicy narrows the writes), next to the ConfigMap.
    (g.resource === "leases" &&
      g.apiGroup === "coordination.k8s.io" &&
      g.scope === e.configMapNamespace &&
      g.via.startsWith("Role/") &&
      named() &&
      LEASE_VERBS.includes(g.verb)) ||
    (e.observeResync &&
      g.resource === "pods" &&
      g.apiGroup === "" &&
      g.scope === e.upstreamNamespace &&
      g.via.startsWith("Role/") &&
      ["list", "delete"].includes(g.verb)) ||
    // Events on the ConfigMap (its namespace) and on Nodes ("default"): create, and patch to
    // count repeats (kube/event-recorder.ts).
    (e.kubeEvents &&
      g.resource === "events" &&
      g.apiGroup === "" &&
      named() &&
      (g.scope === e.configMapNamespace || g.scope === "default") &&
      g.via.startsWith("Role/") &&
      ["create", "patch"].includes(g.verb)) ||
    (e.reporterNodeFromPod &&
      g.resource === "pods" &&
      g.apiGroup === "" &&
      g.verb === "get" &&
      g.scope === e.releaseNamespace &&
      g.via.startsWith("Role/"))
  );
}

/** Lease verbs: hold and renew the singleton and its own (create: a deleted singleton Lease
 * must be recreatable, or no replica can lead, issue 18.3); watch the other replicas'. */
export const LEASE_VERBS = ["get", "list", "watch", "create", "update", "delete"];
/** NodeMasquerade verbs, the calls the dashboard makes (kube-calls.test.ts): the fleet from
 * every node's object, created when missing, resync requests, expiry by the singleton holder,
 * one read fresh by a staged rollout's owner before a verdict; the holder patches the status. */
export const NODE_MASQUERADE_VERBS = {
  nodemasquerades: ["get", "list", "watch", "create", "patch", "delete"],
  "nodemasquerades/status": ["patch"],
};

/** What several active replicas need (issue 17): their Leases and every NodeMasquerade, each
 * exactly when the dashboard's env says it uses them. */
function scaleOutGrantViolations(
  has: (g: Partial<Grant>) => boolean,
  e: RbacExpectation,
): string[] {
  const v: string[] = [];
  const leases = e.leaderElection || e.replicaSync;
  for (const verb of LEASE_VERBS) {
    const lease = { apiGroup: "coordination.k8s.io", resource: "leases", verb, resourceNames: [] };
    if (has({ ...lease, scope: e.configMapNamespace }) !== leases)
      v.push(`${verb} Leases granted=${!leases} but the dashboard writes Leases=${leases}`);
  }
  for (const [resource, verbs] of Object.entries(NODE_MASQUERADE_VERBS))
    for (const verb of verbs)
      if (has({ scope: "cluster", apiGroup: "ipmasq.dev", resource, verb }) !== e.replicaSync)
        v.push(
          `${verb} ${resource} granted=${!e.replicaSync} but IPMASQ_REPLICA_SYNC=${e.replicaSync}`,
        );
  return v;
}

/** Least privilege: no wildcards or built-in roles; exactly the grants the dashboard needs. */
export function rbacViolations(m: Manifest, e: RbacExpectation): string[] {
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
      // The one subresource granted: NodeMasquerade status (issue 17).
      if (rule.resources?.some((res) => res.includes("/") && res !== "nodemasquerades/status"))
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
  const cm = { scope: e.configMapNamespace, apiGroup: "", resource: "configmaps" };
  for (const verb of e.sourcePrefix ? ["list", "watch"] : [])
    if (!has({ ...cm, verb, resourceNames: [] }))
      v.push(`dashboard cannot ${verb} the ConfigMaps of ${e.configMapNamespace} (config sources)`);
  for (const verb of e.editableSources.length > 0 ? ["get", "update"] : [])
    if (!has({ ...cm, verb, resourceNames: e.editableSources }))
      v.push(`dashboard cannot ${verb} the editable config sources ${e.editableSources}`);
  v.push(...scaleOutGrantViolations(has, e));
  for (const g of grants)
    if (!grantAllowed(g, e)) v.push(`unexpected grant ${show(g)} via ${g.via}`);
  const configMapCreate = grants.some((g) => g.resource === "configmaps" && g.verb === "create");
  if (configMapCreate !== e.recreateConfigMaps)
    v.push(
      `configmaps create granted=${configMapCreate} but IPMASQ_RECREATE_CONFIGMAPS=${e.recreateConfigMaps}`,
    );
  for (const scope of new Set([e.configMapNamespace, "default"]))
    for (const verb of ["create", "patch"]) {
      const granted = has({ scope, apiGroup: "", resource: "events", verb });
      if (granted !== e.kubeEvents)
        v.push(
          `events ${verb} in ${scope} granted=${granted} but IPMASQ_KUBE_EVENTS=${e.kubeEvents}`,
        );
    }
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

type Policy = K8sObject & { spec: Json };
interface PolicySpec {
  failurePolicy: string;
  matchConstraints: { resourceRules: Json[]; namespaceSelector: { matchLabels: Json } };
  matchConditions: { expression: string }[];
  validations: { expression: string }[];
}

/** What every chart admission policy must hold: it matches `rules` in `namespace` for the
 * dashboard's ServiceAccount alone, fails closed and is bound with Deny. */
function policyViolations(
  m: Manifest,
  what: string,
  policy: Policy,
  binding: Policy,
  want: { rules: Json[]; namespace: string | undefined },
): string[] {
  const v: string[] = [];
  const sa = `system:serviceaccount:${m.namespace}:${m.dashboard.spec.template.spec.serviceAccountName}`;
  const spec = policy.spec as unknown as PolicySpec;
  const rules = JSON.stringify(spec.matchConstraints.resourceRules);
  if (rules !== JSON.stringify(want.rules)) v.push(`${what} matches ${rules}`);
  const ns = spec.matchConstraints.namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
  if (ns !== want.namespace) v.push(`${what} is not limited to ${want.namespace}`);
  if (
    spec.matchConditions.map((c) => c.expression).join() !== `request.userInfo.username == '${sa}'`
  )
    v.push(`${what} does not match exactly the dashboard's ServiceAccount`);
  if (spec.failurePolicy !== "Fail") v.push(`${what} must fail closed`);
  const b = binding.spec as { policyName: string; validationActions: string[] };
  if (b.policyName !== policy.metadata.name || JSON.stringify(b.validationActions) !== '["Deny"]')
    v.push(`${what} is not bound with Deny`);
  return v;
}

const validationsOf = (p: Policy) =>
  (p.spec as unknown as PolicySpec).validations.map((x) => x.expression).join(" && ");

/** The policy must match only the dashboard's pod deletes in the upstream namespace, require
 * every label of the selector, and be bound with Deny. */
export function resyncPolicyViolations(
  m: Manifest,
  policy: Policy | undefined,
  binding: Policy | undefined,
): string[] {
  if (!policy || !binding) return ["observe resync without its ValidatingAdmissionPolicy"];
  const d = container(m.dashboard);
  const v = policyViolations(m, "policy", policy, binding, {
    rules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["DELETE"], resources: ["pods"] }],
    namespace: envValue(d, "IPMASQ_UPSTREAM_AGENT_NAMESPACE"),
  });
  const expr = validationsOf(policy);
  for (const term of envValue(d, "IPMASQ_UPSTREAM_AGENT_SELECTOR")!.split(",")) {
    const [k, val] = term.split("=");
    if (!expr.includes(`oldObject.metadata.labels['${k}'] == '${val}'`))
      v.push(`policy does not require label ${term}`);
  }
  return v;
}

/** The lease policy must match only the dashboard's Lease writes in the ConfigMap's namespace,
 * allow exactly its singleton Lease and `<lease>-replica-*` (deletes: replica Leases only), and
 * be bound with Deny. */
export function leasePolicyViolations(
  m: Manifest,
  policy: Policy | undefined,
  binding: Policy | undefined,
): string[] {
  if (!policy || !binding) return ["namespace-wide Lease writes without the lease policy"];
  const d = container(m.dashboard);
  const lease = envValue(d, "IPMASQ_LEASE")!;
  const rule = {
    apiGroups: ["coordination.k8s.io"],
    apiVersions: ["*"],
    operations: ["CREATE", "UPDATE", "DELETE"],
  };
  const v = policyViolations(m, "lease policy", policy, binding, {
    rules: [{ ...rule, resources: ["leases"] }],
    namespace: envValue(d, "IPMASQ_CONFIGMAP")!.split("/")[0],
  });
  // Deletes: only replica Leases (the singleton holder removes those of replicas that are gone).
  const allowed = `request.operation == 'DELETE' ? oldObject.metadata.name.startsWith('${lease}-replica-') : (object.metadata.name == '${lease}' || object.metadata.name.startsWith('${lease}-replica-'))`;
  if (validationsOf(policy) !== allowed) v.push(`lease policy allows ${validationsOf(policy)}`);
  return v;
}
