// An in-process HTTP server that behaves like kube-apiserver for everything the dashboard calls,
// so the real @kubernetes/client-node is tested against the API's real answers:
// - RBAC from the rendered Helm chart for the dashboard's ServiceAccount (a call the chart does
//   not grant is a 403, as in a cluster); "allow-all" only when a test opts in;
// - ConfigMaps, Pods, Leases, Events and (cluster-scoped) Nodes: get, list, watch, create,
//   update (409 on a stale resourceVersion), merge/strategic-merge/JSON patch, delete (pods
//   gracefully), 1 MiB / 256 KiB limits in bytes (422), Events' namespace rule (422);
// - CustomResourceDefinitions (the chart's crds/ installed at start) and the resources they
//   serve, with the /status subresource and openAPIV3Schema pruning and validation (422);
// - a watch cache that forgets (410 Expired), BOOKMARKs, and a restart that drops every
//   connection, refuses new ones for a while and starts the watch cache over;
// - TokenReview with audiences and bound pods, SubjectAccessReview by user and groups.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import {
  type ChartValues,
  chartCrds,
  containerEnv,
  installedObjects,
  type RenderedChart,
  renderChart,
} from "./chart.js";
import { CRD_INFO, CustomResources } from "./custom-resources.js";
import * as handlers from "./handlers.js";
import { create, update } from "./handlers.js";
import { ListPages } from "./list-pages.js";
import { ObjectStore, STORED } from "./objects.js";
import { type PolicyRule, Rbac, type Subject } from "./rbac.js";
import { bearer, fieldManager, type Route, readBody, route } from "./request.js";
import {
  API_AUDIENCE,
  accessReview,
  authenticated,
  type FakeUser,
  type TokenInfo,
  tokenReview,
} from "./reviews.js";
import { ApiError, forbidden, type Obj, unauthorized } from "./status.js";

export { API_AUDIENCE, type FakeUser };

export interface FakeKubeApiOptions {
  /** The chart whose RBAC is enforced and whose objects are installed; false: no chart (needs allow-all). */
  chart?: ChartValues | false;
  /** "chart" (default): exactly the chart's RBAC. "allow-all": any authenticated request is allowed. */
  authorization?: "chart" | "allow-all";
  /** Create what `helm install` creates: the ConfigMaps and the Lease (default true). */
  install?: boolean;
  /** Events the watch cache keeps per resource (default 100). */
  watchCacheSize?: number;
  /** BOOKMARK interval for watches that allow them (default 60 s, like kube-apiserver's ~1 min). */
  bookmarkIntervalMs?: number;
  /** How long a pod deleted with a grace period stays terminating (default 1000 ms). */
  podTerminationMs?: number;
}

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  user: string;
  /** When it arrived (Date.now()). */
  at: number;
}

/** What the authorizer is asked for a route (a subresource as "resource/sub"). */
function attributesOf(r: Route) {
  if (r.kind === "review")
    return { verb: "create", group: r.group, resource: r.resource, namespace: "", name: "" };
  const resource = r.subresource ? `${r.info.resource}/${r.subresource}` : r.info.resource;
  return { verb: r.verb, group: r.info.group, resource, namespace: r.namespace, name: r.name };
}

export class FakeKubeApi {
  readonly requests: RequestRecord[] = [];
  /** TCP connections accepted so far (a client that reuses connections opens few). */
  connectionsAccepted = 0;
  /** The token the dashboard presents (its ServiceAccount's). */
  readonly clientToken = "dashboard-sa-token";
  url = "";
  readonly chart: RenderedChart | undefined;
  private server: Server | undefined;
  private port = 0;
  private down = false;
  /** Requests answered 503 while set (failRequests). */
  private failing: ((method: string, path: string) => boolean) | undefined;
  private readonly store: ObjectStore;
  private readonly rbac = new Rbac();
  private readonly crds = new CustomResources();
  private readonly tokens = new Map<string, TokenInfo>();
  /** Watches held by token and resource (holdWatches): each held stream's flush. */
  private readonly held = new Map<string, Set<() => void>>();
  private readonly ctx: handlers.HandlerContext;

  constructor(private readonly opts: FakeKubeApiOptions = {}) {
    this.store = new ObjectStore(opts.watchCacheSize ?? 100);
    this.ctx = {
      store: this.store,
      pages: new ListPages(),
      bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
      podTerminationMs: opts.podTerminationMs ?? 1000,
      timers: new Set(),
    };
    this.chart = opts.chart === false ? undefined : renderChart(opts.chart ?? {});
    if (!this.chart && opts.authorization !== "allow-all")
      throw new Error(
        "without a chart there is no RBAC to enforce: pass authorization: 'allow-all'",
      );
    if (this.chart) this.rbac.load(this.chart.docs);
    const username =
      this.chart?.dashboardUser ?? "system:serviceaccount:kube-system:ipmasq-dashboard";
    const ns = username.split(":")[2]!;
    this.tokens.set(this.clientToken, {
      user: { username, groups: ["system:serviceaccounts", `system:serviceaccounts:${ns}`] },
      audiences: [API_AUDIENCE],
    });
  }

  async start(): Promise<this> {
    // `helm install` creates the chart's crds/ first, then its templates.
    if (this.chart && this.opts.install !== false)
      for (const o of [...chartCrds(), ...installedObjects(this.chart)]) this.apply(o, "helm");
    await this.listen(0);
    this.url = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /**
   * A watch stream whose writes wait while its token and resource are held (holdWatches), or
   * its token, resource and field selector.
   */
  private gate(key: string, url: URL, res: ServerResponse): void {
    const write = res.write.bind(res) as (chunk: string) => boolean;
    const waiting: string[] = [];
    const flush = () => {
      for (const chunk of waiting.splice(0)) write(chunk);
    };
    const keys = [key, `${key} ${url.searchParams.get("fieldSelector") ?? ""}`];
    const heldNow = () => keys.map((k) => this.held.get(k)).find((h) => h !== undefined);
    res.on("close", () => {
      for (const k of keys) this.held.get(k)?.delete(flush);
    });
    res.write = ((chunk: string) => {
      const held = heldNow();
      if (!held) return write(chunk);
      held.add(flush);
      waiting.push(chunk);
      return true;
    }) as typeof res.write;
  }

  async stop(): Promise<void> {
    for (const t of this.ctx.timers) clearTimeout(t);
    this.ctx.timers.clear();
    this.store.dropWatchers();
    await this.closeServer();
  }

  /**
   * A KubeConfig for the dashboard's ServiceAccount, as loadFromCluster() would give in a pod;
   * `token`: another of its tokens (addDashboardToken), to tell one replica's requests apart.
   */
  kubeConfig(token = this.clientToken): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "test", server: this.url, skipTLSVerify: true }],
      users: [{ name: "dashboard", token }],
      contexts: [{ name: "test", cluster: "test", user: "dashboard" }],
      currentContext: "test",
    });
    return kc;
  }

  /** The dashboard container's environment from the chart, for a pod of this name. */
  dashboardEnv(podName = "ipmasq-dashboard-0"): Record<string, string> {
    if (!this.chart) return {};
    return containerEnv(this.chart.dashboardContainer, {
      name: podName,
      namespace: this.chart.namespace,
    });
  }

  /** The dashboard's ServiceAccount user name. */
  get dashboardUser(): string {
    return this.tokens.get(this.clientToken)!.user.username;
  }

  // ---- test controls (act as a cluster admin: no RBAC) ---------------------------------------

  addToken(token: string, user: FakeUser, audiences: string[] = [API_AUDIENCE]): void {
    this.tokens.set(token, { user, audiences });
  }

  /** Another token of the dashboard's ServiceAccount (one replica's, for holdWatches). */
  addDashboardToken(token: string): void {
    this.tokens.set(token, this.tokens.get(this.clientToken)!);
  }

  /**
   * Holds the watch events of `resource` sent to watches opened with `token` (a watch stream
   * that lags, for one replica only) until the function returned is called: they are then
   * sent, in order. Watches opened meanwhile are held too; requests other than watches are not.
   * `fieldSelector`: only the watches opened with exactly this one (e.g. a store's watch of one
   * ConfigMap by name, not the same process's watch of every ConfigMap).
   */
  holdWatches(token: string, resource: string, fieldSelector?: string): () => void {
    const key = `${token} ${resource}${fieldSelector === undefined ? "" : ` ${fieldSelector}`}`;
    this.held.set(key, this.held.get(key) ?? new Set());
    return () => {
      const flushes = this.held.get(key);
      this.held.delete(key);
      for (const flush of flushes ?? []) flush();
    };
  }

  /** Grants a User (or Group) verbs on one ConfigMap: a Role with resourceNames and its binding. */
  allow(
    name: string,
    verbs: string[],
    on = { namespace: "kube-system", name: "ip-masq-agent" },
    kind: "User" | "Group" = "User",
  ): void {
    this.grant(
      { kind, name },
      [{ apiGroups: [""], resources: ["configmaps"], verbs, resourceNames: [on.name] }],
      on.namespace,
    );
  }

  /** Any Role (namespace given) or ClusterRole bound to one subject. */
  grant(subject: Subject, rules: PolicyRule[], namespace?: string): void {
    this.rbac.grant(subject, rules, namespace);
  }

  configMap(ns: string, name: string): Obj | undefined {
    return structuredClone(this.store.get("configmaps", ns, name));
  }

  lease(ns: string, name: string): Obj | undefined {
    return structuredClone(this.store.get("leases", ns, name));
  }

  pod(ns: string, name: string): Obj | undefined {
    return structuredClone(this.store.get("pods", ns, name));
  }

  /** Names of the pods in a namespace (terminating ones included). */
  pods(ns: string): string[] {
    return this.store.list("pods", ns, () => true).map((p) => p.metadata.name);
  }

  /** What `kubectl edit` / `kubectl apply` does: a validated write by another field manager. */
  kubectlEdit(
    ns: string,
    name: string,
    data: Record<string, string>,
    manager = "kubectl-edit",
  ): Obj {
    const cur = this.store.get("configmaps", ns, name);
    return this.apply({ ...(cur ?? { metadata: { name, namespace: ns } }), data }, manager);
  }

  /**
   * Creates or replaces any stored object (a custom resource's status included, as a status
   * write) as `manager`, validated as the API server would.
   */
  apply(obj: Obj, manager = "kubectl-client-side-apply"): Obj {
    const custom = this.crds.all.find(
      (r) => r.apiVersion === obj.apiVersion && r.kind === obj.kind,
    );
    const info =
      custom ??
      STORED.find((r) => r.kind === obj.kind || (obj.kind === undefined && r.kind === "ConfigMap"));
    if (!info) throw new Error(`cannot store kind ${obj.kind}`);
    const name = obj.metadata.name;
    const namespace = info.namespaced ? obj.metadata.namespace : "";
    const exists = this.store.get(info.resource, namespace, name);
    const req = (body: Obj, subresource = "") => ({
      info,
      custom,
      namespace,
      name,
      subresource,
      fields: [],
      url: new URL("http://local/"),
      body: { ...body, metadata: { ...body.metadata, resourceVersion: undefined } },
      manager,
    });
    let out = (exists ? update : create)(this.ctx, req(obj));
    if (custom?.statusSubresource && obj.status !== undefined)
      out = update(this.ctx, req({ ...out, status: obj.status }, "status"));
    if (info === CRD_INFO) this.crds.sync(this.store);
    return out;
  }

  /** A stored custom resource (cluster-scoped when `ns` is ""), e.g. a NodeMasquerade. */
  customObject(resource: string, ns: string, name: string): Obj | undefined {
    return structuredClone(this.store.get(resource, ns, name));
  }

  /** Names of the stored objects of a custom resource in a namespace ("" cluster-scoped). */
  customObjects(resource: string, ns = ""): Obj[] {
    return structuredClone(this.store.list(resource, ns, () => true));
  }

  /** What `kubectl delete RESOURCE NAME` does for any stored object. */
  deleteObject(resource: string, ns: string, name: string): void {
    this.store.remove(resource, ns, name);
    if (resource === CRD_INFO.resource) this.crds.sync(this.store);
  }

  deleteConfigMap(ns: string, name: string): void {
    this.store.remove("configmaps", ns, name);
  }

  deleteLease(ns: string, name: string): void {
    this.store.remove("leases", ns, name);
  }

  addPod(ns: string, name: string, node: string, labels: Record<string, string>): Obj {
    return this.apply(
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: ns, labels },
        spec: { nodeName: node },
      },
      "kube-controller-manager",
    );
  }

  /**
   * A Node as the kubelet registers it (labels for its name and OS, an InternalIP), written by
   * the node itself; cluster-scoped, read at /api/v1/nodes/NAME under the chart's RBAC.
   */
  addNode(name: string, o: { os?: "linux" | "windows"; internalIP?: string } = {}): Obj {
    return this.apply(
      {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name,
          labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": o.os ?? "linux" },
        },
        status: { addresses: [{ type: "InternalIP", address: o.internalIP ?? "10.128.0.10" }] },
      },
      "kubelet",
    );
  }

  node(name: string): Obj | undefined {
    return structuredClone(this.store.get("nodes", "", name));
  }

  /**
   * The Events stored (every namespace, oldest first), optionally about one object: what
   * `kubectl get events -A --field-selector involvedObject.kind=K,involvedObject.name=N` lists.
   */
  events(about?: { kind: string; name: string }): Obj[] {
    const all = [...this.store.namespacesOf("events")].flatMap((ns) =>
      this.store.list("events", ns, () => true),
    );
    return structuredClone(
      all
        .filter(
          (e) =>
            !about ||
            (e.involvedObject?.kind === about.kind && e.involvedObject?.name === about.name),
        )
        .sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)),
    );
  }

  /** What `kubectl delete node NAME` does (a Node has no grace period). */
  deleteNode(name: string): void {
    this.store.remove("nodes", "", name);
  }

  /** Ends every open watch (the clients see their streams close). */
  dropWatches(): void {
    this.store.dropWatchers();
  }

  /** The watch cache forgets every event: resuming from any earlier version gets 410 Expired. */
  expireWatchHistory(): void {
    this.store.expireHistory();
  }

  /** A compaction: every list continue token handed out so far gets 410 Expired. */
  expireContinueTokens(): void {
    this.ctx.pages.expire();
  }

  /**
   * An API server restart: every connection dropped, connections refused for `downMs`, and the
   * watch cache starts over at the current resourceVersion.
   */
  async restart(downMs = 0): Promise<void> {
    this.down = true;
    this.store.dropWatchers();
    await this.closeServer();
    this.store.expireHistory();
    this.ctx.pages.expire();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.listen(this.port);
    this.down = false;
  }

  /**
   * Answers 503 to the requests `match` picks (method, URL path), as an API server whose storage
   * fails for one object, until the function returned is called.
   */
  failRequests(match: (method: string, path: string) => boolean): () => void {
    this.failing = match;
    return () => {
      this.failing = undefined;
    };
  }

  private unavailable(method: string | undefined, path: string): string | undefined {
    if (this.down) return "the API server is restarting";
    if (this.failing?.(method ?? "GET", path)) return "etcdserver: request timed out";
    return undefined;
  }

  get openWatches(): number {
    return this.store.watcherCount;
  }

  count(method: string, pathPart: string): number {
    return this.requests.filter((r) => r.method === method && r.path.includes(pathPart)).length;
  }

  private write(verb: string, o: handlers.ObjectRequest, contentType: string): Obj | undefined {
    if (verb === "create") return handlers.create(this.ctx, o);
    if (verb === "update") return handlers.update(this.ctx, o);
    if (verb === "delete") return handlers.remove(this.ctx, o);
    if (verb === "patch") return handlers.patch(this.ctx, o, contentType);
    return undefined;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async listen(port: number): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", () => this.connectionsAccepted++);
    await new Promise<void>((r) => this.server!.listen(port, "127.0.0.1", r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async closeServer(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://local");
    const rec: RequestRecord = {
      method: req.method ?? "",
      path: url.pathname + url.search,
      status: 0,
      user: "",
      at: Date.now(),
    };
    this.requests.push(rec);
    const send = (status: number, body: Obj) => {
      rec.status = status;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    try {
      const unavailable = this.unavailable(req.method, url.pathname);
      if (unavailable) throw new ApiError(503, "ServiceUnavailable", unavailable);
      const info = this.tokens.get(bearer(req) ?? "");
      if (!info?.audiences.includes(API_AUDIENCE)) throw unauthorized();
      const user = authenticated(info);
      rec.user = user.username;
      const body = await readBody(req);
      const r = route(req.method ?? "GET", url, [...STORED, ...this.crds.all]);
      const attrs = attributesOf(r);
      if (
        this.opts.authorization !== "allow-all" &&
        !this.rbac.allowedBy({ ...attrs, user: user.username, groups: user.groups })
      )
        throw forbidden({ ...attrs, user: user.username });
      if (r.kind === "review") {
        const out =
          r.resource === "tokenreviews"
            ? tokenReview(this.tokens, this.store, body)
            : accessReview(this.opts.authorization === "allow-all" ? "allow-all" : this.rbac, body);
        return send(201, out);
      }
      const o: handlers.ObjectRequest = {
        info: r.info,
        custom: this.crds.find(r.info),
        namespace: r.namespace,
        name: r.name,
        subresource: r.subresource,
        fields: r.fields,
        url,
        body,
        manager: fieldManager(req, url),
      };
      if (r.verb === "watch") {
        rec.status = 200;
        this.gate(`${bearer(req)} ${r.info.resource}`, url, res);
        return handlers.watch(this.ctx, o, res);
      }
      if (r.verb === "get") return send(200, handlers.get(this.ctx, o));
      if (r.verb === "list") return send(200, handlers.list(this.ctx, o));
      const out = this.write(r.verb, o, req.headers["content-type"] ?? "");
      if (out) {
        if (r.info === CRD_INFO) this.crds.sync(this.store);
        return send(r.verb === "create" ? 201 : 200, out);
      }
      throw new ApiError(
        405,
        "MethodNotAllowed",
        `${r.verb} is not implemented by the test API server`,
      );
    } catch (e) {
      if (e instanceof ApiError) return send(e.code, e.status());
      send(500, new ApiError(500, "InternalError", String(e)).status());
    }
  }
}
