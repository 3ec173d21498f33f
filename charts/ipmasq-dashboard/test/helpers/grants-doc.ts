// The tables that explain the dashboard's grants (the chart README's "The dashboard's
// permissions, and why", docs/dashboard-server.md "RBAC") against the rendered RBAC: every verb
// on every resource the dashboard is bound to must have a row saying why.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Binding, CHART, type Manifest, ROOT, type Role } from "./render.js";

/** Where the dashboard's grants are explained, each beside why. */
export const GRANT_TABLES = [
  {
    name: "the chart README",
    file: join(CHART, "README.md"),
    heading: "### The dashboard's permissions, and why",
  },
  {
    name: "docs/dashboard-server.md",
    file: join(ROOT, "docs/dashboard-server.md"),
    heading: "## RBAC",
  },
];

/** The grant column of the first table under `heading`, one cell per row (e.g. "`get` nodes"). */
export function grantCells(text: string, heading: string): string[] {
  const lines = text.split("\n");
  const at = lines.indexOf(heading);
  if (at < 0) throw new Error(`no heading "${heading}"`);
  const first = lines.findIndex((l, i) => i > at && l.startsWith("|"));
  const end = lines.findIndex((l, i) => i > first && !l.startsWith("|"));
  // The header and separator rows first.
  return lines.slice(first + 2, end < 0 ? undefined : end).map((l) => l.split("|")[1]!.trim());
}

export function grantCellsOf(t: { file: string; heading: string }): string[] {
  return grantCells(readFileSync(t.file, "utf8"), t.heading);
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
