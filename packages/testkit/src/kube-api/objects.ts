// Object storage with one resourceVersion counter (etcd's revision) and a watch cache per
// resource like kube-apiserver's cacher: the last `cacheSize` events; a watch from a version
// older than the cache holds is answered with 410 Expired, and a restart empties the cache.
import { randomUUID } from "node:crypto";
import { expired, type Obj } from "./status.js";

export interface ResourceInfo {
  group: string;
  version: string;
  resource: string;
  kind: string;
  apiVersion: string;
  /** False for cluster-scoped resources (Nodes): stored under namespace "", no metadata.namespace. */
  namespaced: boolean;
  /** A `/status` subresource (custom resources whose CRD declares one). */
  statusSubresource?: boolean;
}

/** What the server stores (the review resources are handled apart, never stored). */
export const STORED: ResourceInfo[] = [
  {
    group: "",
    version: "v1",
    resource: "configmaps",
    kind: "ConfigMap",
    apiVersion: "v1",
    namespaced: true,
  },
  { group: "", version: "v1", resource: "pods", kind: "Pod", apiVersion: "v1", namespaced: true },
  {
    group: "",
    version: "v1",
    resource: "nodes",
    kind: "Node",
    apiVersion: "v1",
    namespaced: false,
  },
  // core/v1 Events (what kubelet writes and `kubectl describe` reads).
  {
    group: "",
    version: "v1",
    resource: "events",
    kind: "Event",
    apiVersion: "v1",
    namespaced: true,
  },
  {
    group: "coordination.k8s.io",
    version: "v1",
    resource: "leases",
    kind: "Lease",
    apiVersion: "coordination.k8s.io/v1",
    namespaced: true,
  },
  // Served resources of stored CRDs are added beside these (custom-resources.ts).
  {
    group: "apiextensions.k8s.io",
    version: "v1",
    resource: "customresourcedefinitions",
    kind: "CustomResourceDefinition",
    apiVersion: "apiextensions.k8s.io/v1",
    namespaced: false,
  },
];

export type EventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  rv: number;
  type: EventType;
  namespace: string;
  object: Obj;
}

export interface Watcher {
  resource: string;
  namespace: string;
  matches(o: Obj): boolean;
  send(type: EventType, object: Obj): void;
  end(): void;
}

interface Cache {
  events: WatchEvent[];
  /** A watch from a resourceVersion below this can no longer be served. */
  oldest: number;
}

/** Managed-field times have second precision, as the API server writes them. */
const nowSeconds = () =>
  new Date(Math.floor(Date.now() / 1000) * 1000).toISOString().replace(".000", "");

export class ObjectStore {
  rv = 100;
  /** Where the watch cache of a resource first written after a restart starts. */
  private floor = 0;
  private readonly objects = new Map<string, Obj>(); // resource/namespace/name
  private readonly caches = new Map<string, Cache>();
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly cacheSize: number) {}

  get(resource: string, ns: string, name: string): Obj | undefined {
    return this.objects.get(`${resource}/${ns}/${name}`);
  }

  list(resource: string, ns: string, matches: (o: Obj) => boolean): Obj[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${resource}/${ns}/`))
      .map(([, o]) => o)
      .filter(matches);
  }

  /** Creates or replaces; assigns resourceVersion, uid, creationTimestamp and managedFields. */
  put(info: ResourceInfo, ns: string, name: string, obj: Obj, manager: string): Obj {
    const cur = this.get(info.resource, ns, name);
    const rv = ++this.rv;
    const stored = structuredClone(obj);
    const operation = cur ? "Update" : "Create";
    const others = (cur?.metadata?.managedFields ?? []).filter((f: Obj) => f.manager !== manager);
    stored.apiVersion = info.apiVersion;
    stored.kind = info.kind;
    const { namespace: _ns, ...meta } = stored.metadata ?? {};
    stored.metadata = {
      ...meta,
      name,
      ...(info.namespaced ? { namespace: ns } : {}),
      resourceVersion: String(rv),
      uid: cur?.metadata?.uid ?? randomUUID(),
      creationTimestamp: cur?.metadata?.creationTimestamp ?? nowSeconds(),
      managedFields: [
        ...others,
        {
          manager,
          operation,
          apiVersion: info.apiVersion,
          time: nowSeconds(),
          fieldsType: "FieldsV1",
        },
      ],
    };
    this.objects.set(`${info.resource}/${ns}/${name}`, stored);
    this.emit(info.resource, {
      rv,
      type: cur ? "MODIFIED" : "ADDED",
      namespace: ns,
      object: stored,
    });
    return structuredClone(stored);
  }

  remove(resource: string, ns: string, name: string): Obj | undefined {
    const cur = this.get(resource, ns, name);
    if (!cur) return undefined;
    this.objects.delete(`${resource}/${ns}/${name}`);
    const rv = ++this.rv;
    const object = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } };
    this.emit(resource, { rv, type: "DELETED", namespace: ns, object });
    return object;
  }

  /** Namespaces holding objects of a resource. */
  namespacesOf(resource: string): Set<string> {
    const out = new Set<string>();
    for (const k of this.objects.keys()) {
      const [res, ns] = k.split("/");
      if (res === resource) out.add(ns!);
    }
    return out;
  }

  /** Events after `from` (exclusive); throws 410 Expired when the cache no longer has them all. */
  since(resource: string, from: number): WatchEvent[] {
    const c = this.cache(resource);
    if (from < c.oldest) throw expired(from, c.oldest);
    return c.events.filter((e) => e.rv > from);
  }

  addWatcher(w: Watcher): () => void {
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Ends every watch (their clients see the stream close). */
  dropWatchers(): void {
    for (const w of [...this.watchers]) w.end();
    this.watchers.clear();
  }

  /** Forgets every cached event: a watch from any version before now gets 410. */
  expireHistory(): void {
    for (const c of this.caches.values()) {
      c.events = [];
      c.oldest = this.rv;
    }
    this.floor = this.rv;
  }

  private cache(resource: string): Cache {
    let c = this.caches.get(resource);
    if (!c) {
      c = { events: [], oldest: this.floor };
      this.caches.set(resource, c);
    }
    return c;
  }

  private emit(resource: string, e: WatchEvent): void {
    const c = this.cache(resource);
    c.events.push(e);
    while (c.events.length > this.cacheSize) c.oldest = c.events.shift()!.rv;
    for (const w of this.watchers)
      if (w.resource === resource && w.namespace === e.namespace && w.matches(e.object))
        w.send(e.type, e.object);
  }
}
