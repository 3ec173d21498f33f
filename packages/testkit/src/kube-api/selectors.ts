// Field and label selectors as the API server parses them: `=`, `==` and `!=` terms joined by
// commas; label selectors also take `key`, `!key`, `key in (a,b)` and `key notin (a,b)`.
// Field selectors only accept the fields each resource registers; others are a 400.
import { badRequest, type Obj } from "./status.js";

/** Field labels each resource supports (pkg/registry/.../strategy.go *ToSelectableFields). */
const FIELDS: Record<string, string[]> = {
  pods: [
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
  ],
};

export interface FieldTerm {
  field: string;
  op: "=" | "!=";
  value: string;
}

export function parseFieldSelector(resource: string, text: string | null): FieldTerm[] {
  const terms: FieldTerm[] = [];
  for (const part of (text ?? "").split(",").filter(Boolean)) {
    const m = /^([^=!]+)(==|=|!=)(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid field selector: ${part}`);
    const field = m[1]!.trim();
    if (!["metadata.name", "metadata.namespace", ...(FIELDS[resource] ?? [])].includes(field))
      throw badRequest(`field label not supported: ${field}`);
    terms.push({ field, op: m[2] === "!=" ? "!=" : "=", value: m[3]!.trim() });
  }
  return terms;
}

/** The object name a single `metadata.name=X` term asks for (authorised by that name). */
export function selectedName(terms: FieldTerm[]): string {
  const names = terms.filter((t) => t.field === "metadata.name" && t.op === "=");
  return names.length === 1 ? names[0]!.value : "";
}

type LabelTerm = (labels: Record<string, string>) => boolean;

export function parseLabelSelector(text: string | null): LabelTerm[] {
  // Terms are split on commas outside parentheses.
  return (text?.match(/([^,(]+(\([^)]*\))?)+/g) ?? []).map((part) => labelTerm(part.trim()));
}

function labelTerm(p: string): LabelTerm {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(p);
  if (set) {
    const [key, op, list] = [set[1]!, set[2]!, set[3]!.split(",").map((s) => s.trim())];
    return (l) => (op === "in") === (l[key] !== undefined && list.includes(l[key]!));
  }
  const eq = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(p);
  if (eq) {
    const [key, op, value] = [eq[1]!, eq[2]!, eq[3]!];
    return (l) => (op === "!=" ? l[key] !== value : l[key] === value);
  }
  const absent = /^!(\S+)$/.exec(p);
  if (absent) return (l) => l[absent[1]!] === undefined;
  if (/^[^=!\s(),]+$/.test(p)) return (l) => l[p] !== undefined;
  throw badRequest(`unable to parse requirement: ${p}`);
}

export function matcher(fields: FieldTerm[], labels: LabelTerm[]): (o: Obj) => boolean {
  return (o) =>
    fields.every((t) => (String(fieldOf(o, t.field) ?? "") === t.value) === (t.op === "=")) &&
    labels.every((t) => t(o.metadata?.labels ?? {}));
}

function fieldOf(o: Obj, path: string): unknown {
  return path.split(".").reduce((x, k) => x?.[k], o);
}
