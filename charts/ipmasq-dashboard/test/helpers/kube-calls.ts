// Every Kubernetes API call in the dashboard's source, as the RBAC attributes it needs
// (API group, resource or resource/subresource, verb), read from the text of
// apps/dashboard/src: client-node's typed clients (core.readNamespacedConfigMap → get
// configmaps), CustomObjectsApi calls (on NodeMasquerades, the one custom resource), and the
// collection paths given to list-watch (list + watch). Tests are left out. A call the scanner
// cannot attribute is returned as unknown, so a new kind of call cannot slip by.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./render.js";

export interface KubeCall {
  group: string;
  resource: string;
  verb: string;
  /** file:line of the call. */
  at: string;
}

/** client-node method verbs → RBAC verbs. */
const VERBS: Record<string, string> = {
  read: "get",
  get: "get",
  list: "list",
  create: "create",
  replace: "update",
  patch: "patch",
  delete: "delete",
};
/** Kinds of the typed clients → [group, resource]. */
const KINDS: Record<string, [string, string]> = {
  ConfigMap: ["", "configmaps"],
  Event: ["", "events"],
  Pod: ["", "pods"],
  Node: ["", "nodes"],
  Lease: ["coordination.k8s.io", "leases"],
  TokenReview: ["authentication.k8s.io", "tokenreviews"],
  SubjectAccessReview: ["authorization.k8s.io", "subjectaccessreviews"],
};
/** Constants the list-watch paths are built from. */
const PATH_CONSTANTS: Record<string, string> = {
  "NODE_MASQUERADE.group": "ipmasq.dev",
  "NODE_MASQUERADE.version": "v1alpha1",
  "NODE_MASQUERADE.plural": "nodemasquerades",
};

const TYPED =
  /\b(?:core|coordination|authn|authz)\s*\.\s*(read|list|create|replace|patch|delete)(Namespaced)?([A-Z][A-Za-z]*?)(Status)?\(/g;
const CUSTOM =
  /\.(get|list|create|replace|patch|delete)(?:Cluster|Namespaced)CustomObject(Status)?\(/g;
const PATH =
  /path:\s*`((?:\/api\/v1|\/apis\/[^`/]+\/[^`/]+)(?:\/namespaces\/\$\{[^}]+\})?\/([^`/?]+))`/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

const lineOf = (text: string, index: number) => text.slice(0, index).split("\n").length;

/** The calls of one file's text; unattributable ones as resource "unknown:<text>". */
export function callsIn(text: string, file: string): KubeCall[] {
  const out: KubeCall[] = [];
  const at = (i: number) => `${file}:${lineOf(text, i)}`;
  for (const m of text.matchAll(TYPED)) {
    const [group, resource] = KINDS[m[3]!] ?? ["?", `unknown:${m[0]}`];
    out.push({
      group,
      resource: m[4] ? `${resource}/status` : resource,
      verb: VERBS[m[1]!]!,
      at: at(m.index),
    });
  }
  for (const m of text.matchAll(CUSTOM)) {
    const known = /NODE_MASQUERADE\b|["']nodemasquerades["']/.test(text);
    const resource = known ? "nodemasquerades" : `unknown:${m[0]}`;
    out.push({
      group: known ? "ipmasq.dev" : "?",
      resource: m[2] ? `${resource}/status` : resource,
      verb: VERBS[m[1]!]!,
      at: at(m.index),
    });
  }
  for (const m of text.matchAll(PATH)) {
    const path = m[1]!.replace(
      /\$\{([^}]+)\}/g,
      (all, name: string) => PATH_CONSTANTS[name] ?? all,
    );
    const parts = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([a-z]+)$/.exec(
      path,
    );
    const call = (verb: string) =>
      parts
        ? { group: parts[1] ?? "", resource: parts[2]!, verb, at: at(m.index) }
        : { group: "?", resource: `unknown:${m[1]}`, verb, at: at(m.index) };
    out.push(call("list"), call("watch"));
  }
  return out;
}

/** Every Kubernetes call of apps/dashboard/src. */
export function dashboardKubeCalls(): KubeCall[] {
  const src = join(ROOT, "apps", "dashboard", "src");
  return sourceFiles(src).flatMap((f) => callsIn(readFileSync(f, "utf8"), relative(ROOT, f)));
}

/** "group/resource:verb", the unit compared with the chart's grants. */
export const permission = (c: { group: string; resource: string; verb: string }) =>
  `${c.group || "core"}/${c.resource}:${c.verb}`;
