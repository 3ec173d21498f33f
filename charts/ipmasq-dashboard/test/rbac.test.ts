// Least privilege in RBAC: no wildcards or built-in roles, pod deletes only with observe
// resync, narrowed by an admission policy.
//
// Run: npx vitest run --project integration charts
import { describe, expect, it } from "vitest";
import { GRANT_TABLES, grantCellsOf, undocumentedGrants } from "./helpers/grants-doc.js";
import {
  leasePolicyViolations,
  rbacExpectation,
  rbacViolations,
  resyncPolicyViolations,
} from "./helpers/invariants.js";
import {
  type Binding,
  container,
  envValue,
  type Json,
  type K8sObject,
  type Role,
  render,
  type Variant,
} from "./helpers/render.js";
import { renderedVariants, VARIANTS } from "./helpers/variants.js";

const manifest = renderedVariants();

describe("ipmasq-dashboard chart", () => {
  describe.each(VARIANTS)("$name", (v) => {
    const m = () => manifest(v.name);

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

    it.each(GRANT_TABLES)(
      "says why in $name for every verb on every resource the dashboard is granted",
      (table) => {
        const cells = grantCellsOf(table);
        expect(undocumentedGrants(m(), cells)).toEqual([]);
        // The check can fail: a table without the Node row.
        expect(
          undocumentedGrants(
            m(),
            cells.filter((c) => !/\bnodes\b/.test(c)),
          ),
        ).toEqual(["get nodes"]);
      },
    );

    /** The chart's admission policy (and binding) whose name ends with `suffix`. */
    const policyOf = (suffix: string) =>
      (["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"] as const).map((kind) =>
        m().find<K8sObject & { spec: Json }>(kind, (p) => p.metadata.name.endsWith(suffix)),
      );

    it("narrows observe-resync pod deletes to the upstream agent's pods with an admission policy", () => {
      const [policy, binding] = policyOf("-resync-pods");
      if (!v.expect.observe) {
        expect([policy, binding]).toEqual([undefined, undefined]);
        return;
      }
      expect(resyncPolicyViolations(m(), policy, binding)).toEqual([]);
    });

    it("narrows the namespace-wide Lease writes to the dashboard's own Leases with an admission policy", () => {
      const [policy, binding] = policyOf("-leases");
      expect(leasePolicyViolations(m(), policy, binding)).toEqual([]);
      // The check can fail: a policy that allows any Lease, or none at all.
      const loose = structuredClone(policy!);
      (loose.spec as { validations: { expression: string }[] }).validations = [
        { expression: "true" },
      ];
      expect(leasePolicyViolations(m(), loose, binding)).toEqual(["lease policy allows true"]);
      expect(leasePolicyViolations(m(), undefined, binding)).toEqual([
        "namespace-wide Lease writes without the lease policy",
      ]);
    });
  });

  describe("reading NodeMasquerades without being a cluster admin", () => {
    const base = { name: "view role", namespace: "kube-system", valuesFiles: [] };
    const AGGREGATE = ["view", "edit", "admin"].map(
      (r) => `rbac.authorization.k8s.io/aggregate-to-${r}`,
    );
    /** The ClusterRoles labelled to aggregate into a built-in role, and what they allow. */
    const aggregated = (set: string[]) => {
      const m = render({ ...base, set });
      const roles = m
        .all<Role>("ClusterRole")
        .filter((r) =>
          Object.keys(r.metadata.labels ?? {}).some((l) => l.includes("/aggregate-to-")),
        );
      const bound = [...m.all<Binding>("RoleBinding"), ...m.all<Binding>("ClusterRoleBinding")]
        .filter((b) => roles.some((r) => r.metadata.name === b.roleRef.name))
        .map((b) => b.metadata.name);
      return roles.map((r) => ({
        name: r.metadata.name,
        aggregatesTo: AGGREGATE.filter((l) => r.metadata.labels?.[l] === "true"),
        rules: r.rules,
        bound,
      }));
    };
    const viewRole = {
      name: "ipmasq-ipmasq-dashboard-nodemasquerades-view",
      aggregatesTo: AGGREGATE,
      rules: [
        {
          apiGroups: ["ipmasq.dev"],
          resources: ["nodemasquerades"],
          verbs: ["get", "list", "watch"],
        },
      ],
      bound: [],
    };
    it.each([
      {
        desc: "default: one read-only role, into view, edit and admin, bound to nobody",
        input: [],
        want: [viewRole],
      },
      { desc: "several replicas: the same", input: ["dashboard.replicas=3"], want: [viewRole] },
      { desc: "rbac.aggregateToView=false: none", input: ["rbac.aggregateToView=false"], want: [] },
      {
        desc: "without replica sync no NodeMasquerade is written: none",
        input: ["dashboard.replicaSync.enabled=false"],
        want: [],
      },
    ])("$desc", ({ input, want }) => {
      expect(aggregated(input)).toEqual(want);
    });
  });

  describe("config sources (issue 14)", () => {
    const configMapRules = (v: Variant) =>
      render(v)
        .all<
          K8sObject & {
            rules?: { resources?: string[]; resourceNames?: string[]; verbs: string[] }[];
          }
        >("Role")
        .flatMap((r) => r.rules ?? [])
        .filter((r) => r.resources?.includes("configmaps"))
        .map((r) => `${r.verbs.join(",")}:${(r.resourceNames ?? []).join(",")}`);
    const base = { name: "sources", namespace: "kube-system", valuesFiles: [] };

    it("lists and watches the namespace's ConfigMaps for the prefix; updates only the editable ones", () => {
      expect(
        configMapRules({
          ...base,
          set: ["configSources.editable={ip-masq-agent,ip-masq-platform,ip-masq-agent-history}"],
        }),
      ).toEqual([
        "get,list,watch,update:ip-masq-agent,ip-masq-agent-history",
        "list,watch:",
        "get,update:ip-masq-platform",
      ]);
    });

    it("without a prefix grants nothing beyond the ip-masq-agent ConfigMap by name", () => {
      const v = { ...base, set: ["configSources.prefix="] };
      expect(configMapRules(v)).toEqual([
        "get,list,watch,update:ip-masq-agent,ip-masq-agent-history",
      ]);
      expect(envValue(container(render(v).dashboard), "IPMASQ_SOURCE_PREFIX")).toBe("");
    });
  });
});
