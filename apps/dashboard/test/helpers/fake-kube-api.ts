// An in-process HTTP server that behaves like the Kubernetes API server for the calls the
// dashboard makes, so the real @kubernetes/client-node can be tested against it: ConfigMap
// get/create/replace/delete with resourceVersion (409 on a stale replace) and watch
// (JSON lines, resume from a resourceVersion, 410 when too old), TokenReview with audiences,
// SubjectAccessReview from a tiny RBAC table, Leases, and pod list/delete.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here.
type Obj = any;

export interface FakeUser {
  username: string;
  groups?: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

interface TokenInfo {
  user: FakeUser;
  /** Audiences the token was issued for; the API server's own is "https://kubernetes.default.svc". */
  audiences: string[];
}

interface WatchEvent {
  rv: number;
  kind: string;
  key: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: Obj;
}

export const API_AUDIENCE = "https://kubernetes.default.svc";

export class FakeKubeApi {
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** The token the dashboard itself must present. */
  readonly clientToken = "dashboard-sa-token";
  private server: Server | undefined;
  private rv = 100;
  private readonly objects = new Map<string, Obj>(); // "kind/ns/name"
  private readonly events: WatchEvent[] = [];
  /** Events older than this resourceVersion are compacted (a watch from before gets 410). */
  compactedBefore = 0;
  private readonly watchers = new Set<{
    kind: string;
    ns: string;
    name?: string;
    res: ServerResponse;
  }>();
  private readonly tokens = new Map<string, TokenInfo>();
  /** username → verbs allowed on one configmap. */
  private readonly rbac = new Map<
    string,
    { verbs: Set<string>; namespace: string; name: string }
  >();
  url = "";

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.dropWatches();
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: this.url, skipTLSVerify: true }],
      users: [{ name: "dashboard", token: this.clientToken }],
      contexts: [{ name: "fake", cluster: "fake", user: "dashboard" }],
      currentContext: "fake",
    });
    return kc;
  }

  // ---- test controls -------------------------------------------------------------------

  addToken(token: string, user: FakeUser, audiences: string[] = [API_AUDIENCE]): void {
    this.tokens.set(token, { user, audiences });
  }

  /** Grants verbs on one ConfigMap (a Role + RoleBinding with resourceNames). */
  allow(
    username: string,
    verbs: string[],
    on = { namespace: "kube-system", name: "ip-masq-agent" },
  ): void {
    this.rbac.set(username, { verbs: new Set(verbs), ...on });
  }

  configMap(ns: string, name: string): Obj | undefined {
    return structuredClone(this.objects.get(`configmaps/${ns}/${name}`));
  }

  /** What `kubectl edit` / `kubectl apply` does: a replace by another field manager. */
  kubectlEdit(
    ns: string,
    name: string,
    data: Record<string, string>,
    manager = "kubectl-edit",
  ): Obj {
    const cur = this.objects.get(`configmaps/${ns}/${name}`);
    const next = {
      ...(cur ?? { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns } }),
      data,
    };
    return this.put("configmaps", ns, name, next, manager);
  }

  deleteConfigMap(ns: string, name: string): void {
    this.remove("configmaps", ns, name);
  }

  addPod(ns: string, name: string, node: string, labels: Record<string, string>): void {
    this.put(
      "pods",
      ns,
      name,
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns, labels },
        spec: { nodeName: node },
      },
      "kubelet",
    );
  }

  pods(ns: string): string[] {
    return [...this.objects.keys()]
      .filter((k) => k.startsWith(`pods/${ns}/`))
      .map((k) => k.split("/")[2]!);
  }

  /** Ends every open watch, as an API server restart would. */
  dropWatches(): void {
    for (const w of this.watchers) w.res.end();
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  count(method: string, pathPart: string): number {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length;
  }

  // ---- storage ---------------------------------------------------------------------------

  private put(kind: string, ns: string, name: string, obj: Obj, manager: string): Obj {
    const key = `${kind}/${ns}/${name}`;
    const existed = this.objects.has(key);
    const rv = ++this.rv;
    const stored = structuredClone(obj);
    stored.metadata = {
      ...stored.metadata,
      name,
      namespace: ns,
      resourceVersion: String(rv),
      uid: this.objects.get(key)?.metadata?.uid ?? `uid-${rv}`,
      creationTimestamp:
        this.objects.get(key)?.metadata?.creationTimestamp ?? new Date().toISOString(),
      managedFields: [
        {
          manager,
          operation: existed ? "Update" : "Create",
          apiVersion: "v1",
          time: new Date(Date.now() + rv).toISOString(),
        },
      ],
    };
    this.objects.set(key, stored);
    this.emit({ rv, kind, key, type: existed ? "MODIFIED" : "ADDED", object: stored });
    return structuredClone(stored);
  }

  private remove(kind: string, ns: string, name: string): Obj | undefined {
    const key = `${kind}/${ns}/${name}`;
    const cur = this.objects.get(key);
    if (!cur) return undefined;
    this.objects.delete(key);
    const rv = ++this.rv;
    this.emit({
      rv,
      kind,
      key,
      type: "DELETED",
      object: { ...cur, metadata: { ...cur.metadata, resourceVersion: String(rv) } },
    });
    return cur;
  }

  private emit(e: WatchEvent): void {
    this.events.push(e);
    for (const w of this.watchers)
      if (matches(w, e)) w.res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
  }

  // ---- HTTP ------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const log = { method: req.method ?? "", path: url.pathname + url.search, status: 0 };
    this.requests.push(log);
    const send = (status: number, body: Obj) => {
      log.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.clientToken}`)
      return send(401, statusObj(401, "Unauthorized", "Unauthorized"));
    const body = await readJson(req);
    const p = url.pathname.split("/").filter(Boolean);
    try {
      if (url.pathname === "/apis/authentication.k8s.io/v1/tokenreviews" && req.method === "POST")
        return send(201, this.tokenReview(body));
      if (
        url.pathname === "/apis/authorization.k8s.io/v1/subjectaccessreviews" &&
        req.method === "POST"
      )
        return send(201, this.accessReview(body));
      // /api/v1/namespaces/NS/KIND[/NAME] and /apis/coordination.k8s.io/v1/namespaces/NS/leases[/NAME]
      const core = p[0] === "api" && p[1] === "v1" && p[2] === "namespaces";
      const lease =
        p[0] === "apis" && p[1] === "coordination.k8s.io" && p[2] === "v1" && p[3] === "namespaces";
      if (!core && !lease) return send(404, statusObj(404, "NotFound", `no route ${url.pathname}`));
      const [ns, kind, name] = core ? [p[3]!, p[4]!, p[5]] : [p[4]!, p[5]!, p[6]];
      if (!["configmaps", "pods", "leases"].includes(kind))
        return send(404, statusObj(404, "NotFound", `no kind ${kind}`));
      if (!name && req.method === "GET" && url.searchParams.get("watch") === "true")
        return this.watch(kind, ns, url, res, log);
      if (!name && req.method === "GET") return send(200, this.list(kind, ns, url));
      if (!name && req.method === "POST") return send(...this.create(kind, ns, body, req));
      const key = `${kind}/${ns}/${name}`;
      const cur = this.objects.get(key);
      if (!cur) return send(404, statusObj(404, "NotFound", `${kind} "${name}" not found`));
      if (req.method === "GET") return send(200, cur);
      if (req.method === "DELETE") return send(200, this.remove(kind, ns, name!));
      if (req.method === "PUT") {
        const want = body?.metadata?.resourceVersion;
        if (want && want !== cur.metadata.resourceVersion) {
          return send(
            409,
            statusObj(
              409,
              "Conflict",
              `Operation cannot be fulfilled on ${kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
            ),
          );
        }
        return send(200, this.put(kind, ns, name!, body, userAgentManager(req)));
      }
      send(405, statusObj(405, "MethodNotAllowed", "method not allowed"));
    } catch (e) {
      send(500, statusObj(500, "InternalError", String(e)));
    }
  }

  private create(kind: string, ns: string, body: Obj, req: IncomingMessage): [number, Obj] {
    const name = body?.metadata?.name;
    if (!name) return [422, statusObj(422, "Invalid", "metadata.name is required")];
    if (this.objects.has(`${kind}/${ns}/${name}`))
      return [409, statusObj(409, "AlreadyExists", `${kind} "${name}" already exists`)];
    return [201, this.put(kind, ns, name, body, userAgentManager(req))];
  }

  private list(kind: string, ns: string, url: URL): Obj {
    const labelSel = parseSelector(url.searchParams.get("labelSelector"));
    const fieldSel = parseSelector(url.searchParams.get("fieldSelector"));
    const items = [...this.objects.entries()]
      .filter(([k]) => k.startsWith(`${kind}/${ns}/`))
      .map(([, o]) => o)
      .filter((o) => Object.entries(labelSel).every(([k, v]) => o.metadata.labels?.[k] === v))
      .filter((o) => Object.entries(fieldSel).every(([k, v]) => fieldOf(o, k) === v));
    return {
      apiVersion: "v1",
      kind: "List",
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private watch(
    kind: string,
    ns: string,
    url: URL,
    res: ServerResponse,
    log: { status: number },
  ): void {
    const name = parseSelector(url.searchParams.get("fieldSelector"))["metadata.name"];
    const from = Number(url.searchParams.get("resourceVersion") ?? "0");
    log.status = 200;
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    res.flushHeaders(); // like the API server: the watch is established before any event
    const w = { kind, ns, name, res };
    if (from > 0 && from < this.compactedBefore) {
      res.end(
        `${JSON.stringify({ type: "ERROR", object: statusObj(410, "Expired", `too old resource version: ${from}`) })}\n`,
      );
      return;
    }
    if (from === 0) {
      for (const [k, o] of this.objects)
        if (k.startsWith(`${kind}/${ns}/`) && (!name || o.metadata.name === name))
          res.write(`${JSON.stringify({ type: "ADDED", object: o })}\n`);
    } else {
      for (const e of this.events)
        if (e.rv > from && matches(w, e))
          res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    this.watchers.add(w);
    res.on("close", () => this.watchers.delete(w));
  }

  private tokenReview(body: Obj): Obj {
    const info = this.tokens.get(body?.spec?.token);
    const wanted: string[] = body?.spec?.audiences ?? [API_AUDIENCE];
    const audiences = info ? wanted.filter((a) => info.audiences.includes(a)) : [];
    const ok = info !== undefined && audiences.length > 0;
    return {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenReview",
      spec: body.spec,
      status: ok
        ? { authenticated: true, user: info.user, audiences }
        : { authenticated: false, error: "invalid bearer token" },
    };
  }

  private accessReview(body: Obj): Obj {
    const s = body?.spec ?? {};
    const ra = s.resourceAttributes ?? {};
    const grant = this.rbac.get(s.user);
    const allowed =
      grant !== undefined &&
      ra.resource === "configmaps" &&
      (ra.group ?? "") === "" &&
      grant.verbs.has(ra.verb) &&
      ra.namespace === grant.namespace &&
      ra.name === grant.name;
    return {
      apiVersion: "authorization.k8s.io/v1",
      kind: "SubjectAccessReview",
      spec: s,
      status: { allowed },
    };
  }
}

function matches(w: { kind: string; ns: string; name?: string }, e: WatchEvent): boolean {
  return (
    e.kind === w.kind &&
    e.key.startsWith(`${w.kind}/${w.ns}/`) &&
    (!w.name || e.object.metadata.name === w.name)
  );
}

function statusObj(code: number, reason: string, message: string): Obj {
  return {
    apiVersion: "v1",
    kind: "Status",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code,
  };
}

function parseSelector(text: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (text ?? "").split(",").filter(Boolean)) {
    const [k, v] = part.split("=");
    if (k && v !== undefined) out[k] = v;
  }
  return out;
}

function fieldOf(o: Obj, path: string): unknown {
  return path.split(".").reduce((x, k) => x?.[k], o);
}

function userAgentManager(req: IncomingMessage): string {
  return (req.headers["user-agent"] ?? "unknown").split("/")[0] ?? "unknown";
}

async function readJson(req: IncomingMessage): Promise<Obj> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : undefined;
}
