// The dashboard and reporter workloads: wiring, least-privilege pods, the env both sides parse,
// the Windows reporter, and the invariants shown able to fail.
//
// Run: npx vitest run --project integration charts

import { parseEnv } from "@masq/dashboard/env";
import { describe, expect, it } from "vitest";
import {
  dashboardViolations,
  rbacExpectation,
  rbacViolations,
  reporterViolations,
  resyncPolicyViolations,
  windowsReporterViolations,
  wiringViolations,
} from "./helpers/invariants.js";
import {
  AUDIENCE,
  type Binding,
  component,
  container,
  env,
  envOf,
  envValue,
  type Json,
  type K8sObject,
  Manifest,
  type Role,
  reporterSettings,
} from "./helpers/render.js";
import { rendered, renderedVariants, VARIANTS } from "./helpers/variants.js";

const manifest = renderedVariants();

describe("ipmasq-dashboard chart", () => {
  describe.each(VARIANTS)("$name", (v) => {
    const m = () => manifest(v.name);

    it("wires selectors, ServiceAccounts, volumes, probe ports and role references", () => {
      expect(wiringViolations(m())).toEqual([]);
    });

    it("runs the Linux reporter with NET_ADMIN + NET_RAW only, hostNetwork, the xtables lock and a projected token", () => {
      expect(reporterViolations(m().reporter)).toEqual([]);
      const c = container(m().reporter);
      expect(envValue(c, "IPMASQ_MODE")).toBe(v.expect.observe ? "observe" : "enforce");
      expect(c.args).toEqual(["run"]);
    });

    it("points the reporters at their Service (the dashboard pods, no session affinity)", () => {
      const svc = m().reporterService;
      expect(svc.spec.selector).toEqual(m().service.spec.selector);
      expect(svc.spec.sessionAffinity).toBe("None");
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
      // Every replica is ready (issue 17): a rolling update completes, none taken down first.
      expect(m().dashboard.spec.strategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
      });
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
      expect(envValue(r, "IPMASQ_BACKEND")).toBe("auto");
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

  describe("the checks can fail", () => {
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
      const resyncPolicy = (kind: string) =>
        loose.find((x) => x.kind === kind && x.metadata.name.endsWith("-resync-pods"));
      const policy = resyncPolicy("ValidatingAdmissionPolicy") as K8sObject & {
        spec: { validations: { expression: string }[] };
      };
      policy.spec.validations = [{ expression: "true" }];
      expect(
        resyncPolicyViolations(
          new Manifest(observe.namespace, loose),
          policy,
          resyncPolicy("ValidatingAdmissionPolicyBinding") as K8sObject & { spec: Json },
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
  });
});
