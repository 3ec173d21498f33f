// From an HTTP request to what kube-apiserver's RequestInfo resolver makes of it: verb, API
// group, resource, namespace and name (for list and watch, the name a `metadata.name` field
// selector asks for, which is how RBAC rules with resourceNames can allow them).
import type { IncomingMessage } from "node:http";
import type { ResourceInfo } from "./objects.js";
import { type FieldTerm, parseFieldSelector, selectedName } from "./selectors.js";
import { ApiError, badRequest, methodNotAllowed, type Obj } from "./status.js";

export const REVIEWS = {
  tokenreviews: "authentication.k8s.io",
  subjectaccessreviews: "authorization.k8s.io",
} as const;

export type Route =
  | { kind: "review"; resource: keyof typeof REVIEWS; group: string }
  | {
      kind: "object";
      info: ResourceInfo;
      namespace: string;
      name: string;
      /** "status" for /…/NAME/status, else "". */
      subresource: string;
      verb: string;
      fields: FieldTerm[];
    };

/**
 * Parses /api/v1/namespaces/NS/RES[/NAME[/status]], /apis/G/V/namespaces/NS/RES[/NAME[/status]],
 * the cluster-scoped /api/v1/RES[/NAME] (nodes) and /apis/G/V/RES[/NAME[/status]], and the
 * reviews, against the resources served (`resources`: built-in ones and those of stored CRDs).
 */
export function route(method: string, url: URL, resources: ResourceInfo[]): Route {
  const p = url.pathname.split("/").filter(Boolean);
  const group = p[0] === "api" ? "" : (p[1] ?? "");
  const rest = p[0] === "api" ? p.slice(2) : p.slice(3);
  if (p[0] !== "api" && p[0] !== "apis") throw notFoundPath(url);
  if (rest.length === 1 && rest[0]! in REVIEWS) {
    const resource = rest[0] as keyof typeof REVIEWS;
    if (REVIEWS[resource] !== group || method !== "POST") throw notFoundPath(url);
    return { kind: "review", resource, group };
  }
  const at = objectPath(rest);
  if (!at) throw notFoundPath(url);
  const version = p[0] === "api" ? "v1" : (p[2] ?? "");
  const info = served(resources, { group, version, ...at });
  if (!info) throw notFoundPath(url);
  return objectRoute(method, url, info, at);
}

/** The verb, field selector and (selected) name of a request for a served resource. */
function objectRoute(method: string, url: URL, info: ResourceInfo, at: ObjectPath): Route {
  const { namespace, resource, name, subresource } = at;
  const watch = ["true", "1"].includes(url.searchParams.get("watch") ?? "");
  const fields =
    method === "GET" && !name
      ? parseFieldSelector(resource, url.searchParams.get("fieldSelector"))
      : [];
  const verb = verbOf(method, name, watch);
  if (subresource && !["get", "update", "patch"].includes(verb)) throw methodNotAllowed();
  const named = name || selectedName(fields);
  return { kind: "object", info, namespace, name: named, subresource, verb, fields };
}

/** The served resource a path names (its /status only when the resource has one). */
function served(
  resources: ResourceInfo[],
  at: { group: string; version: string; resource: string; namespace: string; subresource: string },
): ResourceInfo | undefined {
  const info = resources.find(
    (r) =>
      r.group === at.group &&
      r.version === at.version &&
      r.resource === at.resource &&
      r.namespaced === (at.namespace !== ""),
  );
  if (at.subresource && !(at.subresource === "status" && info?.statusSubresource)) return undefined;
  return info;
}

interface ObjectPath {
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
}

/** namespaces/NS/RES[/NAME[/SUB]] (namespaced) or RES[/NAME[/SUB]] (cluster-scoped, namespace ""). */
function objectPath(rest: string[]): ObjectPath | undefined {
  const namespaced = rest[0] === "namespaces" && rest.length >= 3;
  const [namespace, tail] = namespaced ? [rest[1]!, rest.slice(2)] : ["", rest];
  if (tail.length < 1 || tail.length > 3) return undefined;
  return { namespace, resource: tail[0]!, name: tail[1] ?? "", subresource: tail[2] ?? "" };
}

function verbOf(method: string, name: string, watch: boolean): string {
  if (method === "GET") return name ? "get" : watch ? "watch" : "list";
  if (method === "POST" && !name) return "create";
  if (method === "PUT" && name) return "update";
  if (method === "PATCH" && name) return "patch";
  if (method === "DELETE") return name ? "delete" : "deletecollection";
  throw methodNotAllowed();
}

function notFoundPath(url: URL): ApiError {
  return new ApiError(
    404,
    "NotFound",
    `the server could not find the requested resource (${url.pathname})`,
  );
}

/** The bearer token of a request, if any. */
export function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  return h?.startsWith("Bearer ") ? h.slice("Bearer ".length) : undefined;
}

/** Field manager of a write: ?fieldManager=, else the User-Agent's product (as the API server derives it). */
export function fieldManager(req: IncomingMessage, url: URL): string {
  const explicit = url.searchParams.get("fieldManager");
  if (explicit) return explicit;
  return (req.headers["user-agent"] ?? "unknown").split("/")[0] || "unknown";
}

export async function readBody(req: IncomingMessage): Promise<Obj> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    throw badRequest("the request body is not valid JSON");
  }
}
