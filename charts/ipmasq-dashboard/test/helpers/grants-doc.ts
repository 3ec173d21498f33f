// The chart README's "The dashboard's permissions, and why" table against the rendered RBAC:
// every verb on every resource the dashboard is bound to must have a row saying why.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Binding, CHART, type Manifest, type Role } from "./render.js";

const HEADING = "### The dashboard's permissions, and why";

/** The grant column of the README table, one cell per row (e.g. "`get` nodes"). */
export function readmeGrantCells(readme = readFileSync(join(CHART, "README.md"), "utf8")) {
  const start = readme.indexOf(HEADING);
  if (start < 0) throw new Error(`README has no "${HEADING}"`);
  const rows = readme
    .slice(start)
    .split("\n")
    .slice(1)
    .filter((l) => l.startsWith("|"));
  // Header and separator rows first; the table ends at the first line that is not a row.
  return rows.slice(2).map((l) => l.split("|")[1]!.trim());
}

/** "verb resource" of every rule bound to the dashboard's ServiceAccount that no cell names. */
export function undocumentedGrants(m: Manifest, cells: string[]): string[] {
  const sa = m.dashboard.spec.template.spec.serviceAccountName;
  const bound = new Set(
    [...m.all<Binding>("RoleBinding"), ...m.all<Binding>("ClusterRoleBinding")]
      .filter((b) => b.subjects?.some((s) => s.kind === "ServiceAccount" && s.name === sa))
      .map((b) => `${b.roleRef.kind}/${b.roleRef.name}`),
  );
  const roles = [...m.all<Role>("Role"), ...m.all<Role>("ClusterRole")].filter((r) =>
    bound.has(`${r.kind}/${r.metadata.name}`),
  );
  const grants = roles.flatMap((r) =>
    r.rules.flatMap((rule) =>
      (rule.resources ?? []).flatMap((res) => rule.verbs.map((verb) => ({ verb, res }))),
    ),
  );
  const names = (cell: string, res: string) =>
    new RegExp(`(^|[^\\w/])${res.replace("/", "\\/")}($|[^\\w/])`, "i").test(cell);
  const missing = grants
    .filter(({ verb, res }) => !cells.some((c) => c.includes(`\`${verb}\``) && names(c, res)))
    .map(({ verb, res }) => `${verb} ${res}`);
  return [...new Set(missing)];
}
