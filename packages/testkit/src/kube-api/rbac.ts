// The RBAC authorizer's rules (plugin/pkg/auth/authorizer/rbac): a request is allowed when a
// RoleBinding in its namespace or a ClusterRoleBinding binds a subject the user matches to a
// role with a rule covering the API group, resource, verb and (when the rule lists any) name.
// Nothing is allowed by default; there is no deny.
import type { Obj } from "./status.js";

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
}

/** What is being asked (authorizer.Attributes for a resource request). */
export interface Attributes {
  user: string;
  groups: string[];
  verb: string;
  group: string;
  /** "pods", or "pods/eviction" for a subresource. */
  resource: string;
  /** "" for cluster-scoped requests. */
  namespace: string;
  /** "" when the request names no object (create, list without a metadata.name selector). */
  name: string;
}

interface Binding {
  /** undefined for a ClusterRoleBinding. */
  namespace?: string;
  roleRef: { kind: "Role" | "ClusterRole"; name: string };
  subjects: Subject[];
  /** "RoleBinding ns/name" or "ClusterRoleBinding name", for the SubjectAccessReview reason. */
  label: string;
}

export class Rbac {
  private readonly roles = new Map<string, PolicyRule[]>(); // "ns/name" or "/name" (ClusterRole)
  private readonly bindings: Binding[] = [];

  /** Loads Role, ClusterRole, RoleBinding and ClusterRoleBinding objects (others are ignored). */
  load(docs: Obj[]): this {
    for (const d of docs) {
      const ns = d.metadata?.namespace;
      const name = d.metadata?.name;
      if (d.kind === "Role") this.roles.set(`${ns}/${name}`, d.rules ?? []);
      else if (d.kind === "ClusterRole") this.roles.set(`/${name}`, d.rules ?? []);
      else if (d.kind === "RoleBinding" || d.kind === "ClusterRoleBinding") {
        const cluster = d.kind === "ClusterRoleBinding";
        this.bindings.push({
          namespace: cluster ? undefined : ns,
          roleRef: d.roleRef,
          subjects: (d.subjects ?? []).map((s: Subject) => ({
            ...s,
            // A ServiceAccount subject without a namespace means the binding's own.
            namespace: s.kind === "ServiceAccount" ? (s.namespace ?? ns) : undefined,
          })),
          label: cluster ? `ClusterRoleBinding "${name}"` : `RoleBinding "${name}/${ns}"`,
        });
      }
    }
    return this;
  }

  /** A Role (namespace set) or ClusterRole and its binding to one subject, as `kubectl create role/rolebinding` would. */
  grant(subject: Subject, rules: PolicyRule[], namespace?: string): void {
    const name = `test-grant-${this.bindings.length}`;
    const kind = namespace ? "Role" : "ClusterRole";
    this.roles.set(`${namespace ?? ""}/${name}`, rules);
    this.bindings.push({
      namespace,
      roleRef: { kind, name },
      subjects: [subject],
      label: namespace ? `RoleBinding "${name}/${namespace}"` : `ClusterRoleBinding "${name}"`,
    });
  }

  /** The binding that allows `a`, or undefined (denied). */
  allowedBy(a: Attributes): string | undefined {
    for (const b of this.bindings) {
      if (b.namespace !== undefined && b.namespace !== a.namespace) continue;
      if (!b.subjects.some((s) => subjectMatches(s, a))) continue;
      const key =
        b.roleRef.kind === "Role" ? `${b.namespace}/${b.roleRef.name}` : `/${b.roleRef.name}`;
      const rules = this.roles.get(key) ?? [];
      if (rules.some((r) => ruleAllows(r, a)))
        return `RBAC: allowed by ${b.label} of ${b.roleRef.kind} "${b.roleRef.name}" to ${a.user}`;
    }
    return undefined;
  }
}

function subjectMatches(s: Subject, a: Attributes): boolean {
  if (s.kind === "User") return s.name === a.user;
  if (s.kind === "Group") return a.groups.includes(s.name);
  return a.user === `system:serviceaccount:${s.namespace}:${s.name}`;
}

function ruleAllows(r: PolicyRule, a: Attributes): boolean {
  const has = (list: string[] | undefined, v: string) =>
    (list ?? []).some((x) => x === "*" || x === v);
  if (!has(r.verbs, a.verb) || !has(r.apiGroups, a.group)) return false;
  const [resource, sub] = a.resource.split("/");
  const resourceOk = (r.resources ?? []).some(
    (x) => x === "*" || x === a.resource || (sub !== undefined && x === `${resource}/*`),
  );
  if (!resourceOk) return false;
  // A rule with resourceNames never covers a request without a name (create, plain list).
  return !r.resourceNames?.length || (a.name !== "" && r.resourceNames.includes(a.name));
}
