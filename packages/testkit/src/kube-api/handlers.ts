// What the API server does with an authorised object request: get, list, watch, create,
// update (optimistic concurrency on resourceVersion), delete (pods gracefully: a
// deletionTimestamp first, gone once terminated; DeleteOptions preconditions honoured).
import type { ServerResponse } from "node:http";
import { admitCustomObject, type CustomResource, crdCauses } from "./custom-resources.js";
import { applyJsonPatch } from "./json-patch.js";
import { ListPages } from "./list-pages.js";
import type { ObjectStore, ResourceInfo } from "./objects.js";
import { type FieldTerm, matcher, parseLabelSelector } from "./selectors.js";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  invalid,
  notFound,
  type Obj,
  successStatus,
} from "./status.js";
import { validate } from "./validation.js";

export interface HandlerContext {
  store: ObjectStore;
  /** Paged lists' snapshots (limit/continue). */
  pages: ListPages;
  /** Every watch gets a BOOKMARK this often when it asked for them. */
  bookmarkIntervalMs: number;
  /** A pod deleted with a grace period is gone after this long. */
  podTerminationMs: number;
  timers: Set<NodeJS.Timeout>;
}

export interface ObjectRequest {
  info: ResourceInfo;
  /** The CRD's view of `info` when it is a custom resource. */
  custom?: CustomResource;
  namespace: string;
  name: string;
  /** "status" for the status subresource. */
  subresource?: string;
  fields: FieldTerm[];
  url: URL;
  body: Obj;
  manager: string;
}

export function list(ctx: HandlerContext, r: ObjectRequest): Obj {
  const q = r.url.searchParams;
  const matches = matcher(r.fields, parseLabelSelector(q.get("labelSelector")));
  // List items carry no apiVersion/kind, as the real server writes them.
  const all = () =>
    ctx.store
      .list(r.info.resource, r.namespace, matches)
      .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  const head = { apiVersion: r.info.apiVersion, kind: `${r.info.kind}List` };
  if (!ListPages.paged(q))
    return { ...head, metadata: { resourceVersion: String(ctx.store.rv) }, items: all() };
  const page = ctx.pages.page(q, all, String(ctx.store.rv));
  const { items, resourceVersion, ...more } = page;
  return { ...head, metadata: { resourceVersion, ...more }, items };
}

/** GET of an object or of its /status subresource (the whole object, as the real server answers). */
export function get(ctx: HandlerContext, r: ObjectRequest): Obj {
  const cur = ctx.store.get(r.info.resource, r.namespace, r.name);
  if (!cur) throw notFound(r.info.resource, r.info.group, r.name);
  return cur;
}

export function create(ctx: HandlerContext, r: ObjectRequest): Obj {
  const name = r.body?.metadata?.name;
  if (!name) throw badRequest("name or generateName is required");
  checkNamespace(r);
  if (ctx.store.get(r.info.resource, r.namespace, name))
    throw alreadyExists(r.info.resource, r.info.group, name);
  validate(r.info.kind, r.body);
  const { resourceVersion: _rv, uid: _uid, ...meta } = r.body.metadata;
  const obj = { ...structuredClone(r.body), metadata: meta };
  admit(r, undefined, obj);
  return ctx.store.put(r.info, r.namespace, name, obj, r.manager);
}

export function update(ctx: HandlerContext, r: ObjectRequest): Obj {
  const bodyName = r.body?.metadata?.name;
  if (bodyName !== r.name)
    throw badRequest(
      `the name of the object (${bodyName}) does not match the name on the URL (${r.name})`,
    );
  checkNamespace(r);
  const cur = ctx.store.get(r.info.resource, r.namespace, r.name);
  if (!cur) throw notFound(r.info.resource, r.info.group, r.name);
  const want = r.body.metadata.resourceVersion;
  // No resourceVersion: an unconditional update (allowed for these resources).
  if (want && want !== cur.metadata.resourceVersion)
    throw conflict(r.info.resource, r.info.group, r.name);
  validate(r.info.kind, r.body);
  const meta = { ...r.body.metadata };
  for (const k of ["deletionTimestamp", "deletionGracePeriodSeconds"]) {
    if (cur.metadata[k] !== undefined) meta[k] = cur.metadata[k];
    else delete meta[k];
  }
  const obj = { ...structuredClone(r.body), metadata: meta };
  return ctx.store.put(r.info, r.namespace, r.name, admit(r, cur, obj), r.manager);
}

/** A /status write changes only status; a main-resource write never does. */
function statusOwnership(r: ObjectRequest, cur: Obj | undefined, next: Obj): Obj {
  const out = r.subresource === "status" ? { ...structuredClone(cur), status: next.status } : next;
  const keep = r.subresource === "status" ? next.status : cur?.status;
  if (keep === undefined) delete out.status;
  else out.status = structuredClone(keep);
  return out;
}

/**
 * What the registry strategies do before storing: a CRD is validated; for a custom resource
 * with a status subresource a create drops status, a main-resource write keeps the stored status
 * and a /status write keeps everything but status (apiextensions-apiserver's strategy and
 * statusStrategy); metadata.generation starts at 1 and grows when anything but metadata and
 * status changes; then the schema is applied (prune, validate: 422).
 */
function admit(r: ObjectRequest, cur: Obj | undefined, next: Obj): Obj {
  if (r.info.kind === "CustomResourceDefinition") {
    const causes = crdCauses(next);
    if (causes.length > 0) throw invalid(r.info.kind, next.metadata?.name ?? "", causes);
  }
  const c = r.custom;
  if (!c) return next;
  const out = c.statusSubresource ? statusOwnership(r, cur, next) : next;
  const { metadata: _m, status: _s, ...body } = out;
  const { metadata: _cm, status: _cs, ...was } = cur ?? {};
  const changed = !cur || JSON.stringify(body) !== JSON.stringify(was);
  const generation = Number(cur?.metadata?.generation ?? 0);
  out.metadata = { ...out.metadata, generation: changed ? generation + 1 : generation };
  admitCustomObject(c, out);
  return out;
}

/**
 * PATCH with a JSON merge patch, a strategic merge patch (the same for objects whose patched
 * fields are scalars or maps, as an Event's count/lastTimestamp/message are; custom resources
 * refuse it with 415, as the real server does) or a JSON patch (RFC 6902). Apply patches are not
 * implemented: 415.
 */
export function patch(ctx: HandlerContext, r: ObjectRequest, contentType: string): Obj {
  const type = contentType.split(";")[0]!.trim();
  const types = ["application/merge-patch+json", "application/json-patch+json"];
  if (!r.custom) types.push("application/strategic-merge-patch+json");
  if (!types.includes(type))
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: ${types.join(", ")}`,
    );
  const cur = ctx.store.get(r.info.resource, r.namespace, r.name);
  if (!cur) throw notFound(r.info.resource, r.info.group, r.name);
  let next: Obj;
  if (type === "application/json-patch+json") next = applyJsonPatch(cur, r.body);
  else {
    if (typeof r.body !== "object" || r.body === null || Array.isArray(r.body))
      throw badRequest("the patch is not a JSON object");
    next = mergePatch(structuredClone(cur), r.body);
  }
  const want = next.metadata?.resourceVersion;
  if (want && want !== cur.metadata.resourceVersion)
    throw conflict(r.info.resource, r.info.group, r.name);
  next.metadata = { ...next.metadata, name: r.name, resourceVersion: cur.metadata.resourceVersion };
  validate(r.info.kind, next);
  return ctx.store.put(r.info, r.namespace, r.name, admit(r, cur, next), r.manager);
}

/** RFC 7386: null removes a key, objects merge, anything else replaces. */
function mergePatch(target: Obj, p: Obj): Obj {
  if (typeof p !== "object" || p === null || Array.isArray(p)) return p;
  const out = typeof target === "object" && target !== null && !Array.isArray(target) ? target : {};
  for (const [k, v] of Object.entries(p)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function remove(ctx: HandlerContext, r: ObjectRequest): Obj {
  const cur = ctx.store.get(r.info.resource, r.namespace, r.name);
  if (!cur) throw notFound(r.info.resource, r.info.group, r.name);
  const pre = r.body?.preconditions ?? {};
  for (const [field, label] of [
    ["uid", "UID"],
    ["resourceVersion", "ResourceVersion"],
  ] as const) {
    if (pre[field] && pre[field] !== cur.metadata[field])
      throw conflict(
        r.info.resource,
        r.info.group,
        r.name,
        `Precondition failed: ${label} in precondition: ${pre[field]}, ${label} in object meta: ${cur.metadata[field]}`,
      );
  }
  if (r.info.resource === "pods") return deletePod(ctx, r, cur);
  ctx.store.remove(r.info.resource, r.namespace, r.name);
  return successStatus(r.info.resource, r.info.group, r.name, cur.metadata.uid);
}

/** Graceful deletion: mark terminating (MODIFIED), remove after the grace period (DELETED). */
function deletePod(ctx: HandlerContext, r: ObjectRequest, cur: Obj): Obj {
  if (cur.metadata.deletionTimestamp) return cur; // already terminating: nothing changes
  const grace: number = r.body?.gracePeriodSeconds ?? cur.spec?.terminationGracePeriodSeconds ?? 30;
  if (grace === 0) return ctx.store.remove("pods", r.namespace, r.name);
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 + grace * 1000);
  const marked = {
    ...cur,
    metadata: {
      ...cur.metadata,
      deletionTimestamp: at.toISOString().replace(".000", ""),
      deletionGracePeriodSeconds: grace,
    },
  };
  const manager = cur.metadata.managedFields?.at(-1)?.manager ?? "kubelet";
  const out = ctx.store.put(r.info, r.namespace, r.name, marked, manager);
  const t = setTimeout(() => {
    ctx.timers.delete(t);
    const now = ctx.store.get("pods", r.namespace, r.name);
    if (now?.metadata.uid === cur.metadata.uid) ctx.store.remove("pods", r.namespace, r.name);
  }, ctx.podTerminationMs);
  ctx.timers.add(t);
  return out;
}

function checkNamespace(r: ObjectRequest): void {
  const ns = r.body?.metadata?.namespace;
  // The API server clears metadata.namespace of a cluster-scoped object.
  if (!r.info.namespaced) return;
  if (ns && ns !== r.namespace)
    throw badRequest(
      "the namespace of the provided object does not match the namespace sent on the request",
    );
}

/**
 * A watch: 200 at once, then JSON lines. From resourceVersion ""/"0" it starts with ADDED for
 * what exists; from a version the watch cache no longer holds it sends one ERROR (410 Expired)
 * and ends; with allowWatchBookmarks it sends BOOKMARKs carrying the current resourceVersion.
 */
export function watch(ctx: HandlerContext, r: ObjectRequest, res: ServerResponse): void {
  const q = r.url.searchParams;
  const from = q.get("resourceVersion") ?? "";
  if (from !== "" && !/^\d+$/.test(from))
    throw badRequest(`resourceVersion: Invalid value: "${from}": must be a number`);
  const matches = matcher(r.fields, parseLabelSelector(q.get("labelSelector")));
  res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
  res.flushHeaders();
  const send = (type: string, object: Obj) => res.write(`${JSON.stringify({ type, object })}\n`);
  let backlog: { type: string; object: Obj }[];
  if (from === "" || from === "0") {
    backlog = ctx.store
      .list(r.info.resource, r.namespace, matches)
      .map((object) => ({ type: "ADDED", object }));
  } else {
    try {
      backlog = ctx.store
        .since(r.info.resource, Number(from))
        .filter((e) => e.namespace === r.namespace && matches(e.object));
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      send("ERROR", e.status());
      res.end();
      return;
    }
  }
  for (const e of backlog) send(e.type, e.object);
  follow(ctx, r, res, matches, send);
}

function follow(
  ctx: HandlerContext,
  r: ObjectRequest,
  res: ServerResponse,
  matches: (o: Obj) => boolean,
  send: (type: string, object: Obj) => void,
): void {
  const q = r.url.searchParams;
  const unregister = ctx.store.addWatcher({
    resource: r.info.resource,
    namespace: r.namespace,
    matches,
    send,
    end: () => res.end(),
  });
  const timers: NodeJS.Timeout[] = [];
  if (q.get("allowWatchBookmarks") === "true") {
    const bookmark = () =>
      send("BOOKMARK", {
        kind: r.info.kind,
        apiVersion: r.info.apiVersion,
        metadata: { resourceVersion: String(ctx.store.rv) },
      });
    timers.push(setInterval(bookmark, ctx.bookmarkIntervalMs));
  }
  const timeoutSeconds = Number(q.get("timeoutSeconds") ?? 0);
  if (timeoutSeconds > 0) timers.push(setTimeout(() => res.end(), timeoutSeconds * 1000));
  res.on("close", () => {
    unregister();
    for (const t of timers) clearTimeout(t);
  });
}
