// What the API server does with an authorised object request: get, list, watch, create,
// update (optimistic concurrency on resourceVersion), delete (pods gracefully: a
// deletionTimestamp first, gone once terminated; DeleteOptions preconditions honoured).
import type { ServerResponse } from "node:http";
import type { ObjectStore, ResourceInfo } from "./objects.js";
import { type FieldTerm, matcher, parseLabelSelector } from "./selectors.js";
import {
  ApiError,
  alreadyExists,
  badRequest,
  conflict,
  notFound,
  type Obj,
  successStatus,
} from "./status.js";
import { validate } from "./validation.js";

export interface HandlerContext {
  store: ObjectStore;
  /** Every watch gets a BOOKMARK this often when it asked for them. */
  bookmarkIntervalMs: number;
  /** A pod deleted with a grace period is gone after this long. */
  podTerminationMs: number;
  timers: Set<NodeJS.Timeout>;
}

export interface ObjectRequest {
  info: ResourceInfo;
  namespace: string;
  name: string;
  fields: FieldTerm[];
  url: URL;
  body: Obj;
  manager: string;
}

export function list(ctx: HandlerContext, r: ObjectRequest): Obj {
  const matches = matcher(r.fields, parseLabelSelector(r.url.searchParams.get("labelSelector")));
  // List items carry no apiVersion/kind, as the real server writes them.
  const items = ctx.store
    .list(r.info.resource, r.namespace, matches)
    .map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
  return {
    apiVersion: r.info.apiVersion,
    kind: `${r.info.kind}List`,
    metadata: { resourceVersion: String(ctx.store.rv) },
    items,
  };
}

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
  return ctx.store.put(r.info, r.namespace, name, { ...r.body, metadata: meta }, r.manager);
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
  return ctx.store.put(r.info, r.namespace, r.name, { ...r.body, metadata: meta }, r.manager);
}

/**
 * PATCH with a JSON merge patch or a strategic merge patch (the same for objects whose patched
 * fields are scalars or maps, as an Event's count/lastTimestamp/message are). JSON patch and
 * apply patches are not implemented: 415.
 */
export function patch(ctx: HandlerContext, r: ObjectRequest, contentType: string): Obj {
  const type = contentType.split(";")[0]!.trim();
  if (type !== "application/merge-patch+json" && type !== "application/strategic-merge-patch+json")
    throw new ApiError(
      415,
      "UnsupportedMediaType",
      `the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json (the test API server implements these)`,
    );
  const cur = ctx.store.get(r.info.resource, r.namespace, r.name);
  if (!cur) throw notFound(r.info.resource, r.info.group, r.name);
  if (typeof r.body !== "object" || r.body === null || Array.isArray(r.body))
    throw badRequest("the patch is not a JSON object");
  const want = r.body.metadata?.resourceVersion;
  if (want && want !== cur.metadata.resourceVersion)
    throw conflict(r.info.resource, r.info.group, r.name);
  const next = mergePatch(structuredClone(cur), r.body);
  next.metadata = { ...next.metadata, name: r.name, resourceVersion: cur.metadata.resourceVersion };
  validate(r.info.kind, next);
  return ctx.store.put(r.info, r.namespace, r.name, next, r.manager);
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
