// The further config sources in Kubernetes: every ConfigMap of the namespace whose name starts
// with the prefix (default `ip-masq-`), each key one source (ip-masq-agent-v2 reads every key
// of its mounted ConfigMaps), plus the other keys of the primary ConfigMap. Followed with one
// label- and field-less list-watch of the namespace's ConfigMaps (kube/list-watch.ts), filtered
// here by name; the primary ConfigMap's `config` key and the history ConfigMap are not sources.
// Saves replace one ConfigMap with its resourceVersion (a stale one is a 409), and only the
// ConfigMaps configured as editable are written (the chart's RBAC allows exactly those).
import type { V1ConfigMap } from "@kubernetes/client-node";
import { type ConfigSource, isSourceName, PRIMARY_SOURCE_KEY, sourceLabel } from "@masq/shared";
import type { Logger } from "pino";
import { HttpError } from "../errors.js";
import { apiMessage, type KubeClients, statusCode } from "../kube/client.js";
import { ListWatcher } from "../kube/list-watch.js";
import { ANNOTATIONS, describe, FIELD_MANAGER } from "./kube-revision.js";
import {
  boundedText,
  type ExtraSource,
  MAX_KEPT_SOURCES,
  PublishedSources,
  type SourceSaveRequest,
  type SourceSet,
  type SourceSetStatus,
  StaleSourceError,
} from "./sources.js";

export interface KubeSourcesOptions {
  clients: KubeClients;
  namespace: string;
  /** The primary ConfigMap (its `config` key is the primary store's). */
  primaryName: string;
  /** The history ConfigMap: never a source, although it may carry the prefix. */
  historyName: string;
  /** Names starting with this are sources (not empty: without one there is no KubeSources). */
  prefix: string;
  /** ConfigMap names the dashboard may write (besides the primary one, which its store writes). */
  editable: readonly string[];
  log: Logger;
  watchBackoffMs?: { initial: number; max: number };
}

export class KubeSources extends PublishedSources implements SourceSet {
  /** The source ConfigMaps by name, as last listed or watched. */
  private readonly maps = new Map<string, V1ConfigMap>();
  private readonly watcher: ListWatcher<V1ConfigMap>;

  readonly primary: ConfigSource;

  constructor(private readonly o: KubeSourcesOptions) {
    super();
    const { clients, namespace, log } = o;
    this.primary = { kind: "configmap", name: o.primaryName, key: PRIMARY_SOURCE_KEY };
    this.watcher = new ListWatcher<V1ConfigMap>({
      watch: clients.watch,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector: "",
      list: () => clients.core.listNamespacedConfigMap({ namespace }),
      onList: (items) => {
        this.maps.clear();
        for (const cm of items) this.keep(cm);
        this.changed();
      },
      onEvent: (type, cm) => {
        const name = cm.metadata?.name ?? "";
        if (!this.isSource(name)) return;
        if (type === "DELETED") this.maps.delete(name);
        else this.keep(cm);
        this.changed();
      },
      log,
      backoffMs: o.watchBackoffMs,
    });
  }

  private isSource(name: string): boolean {
    if (name === this.o.historyName) return false;
    return (
      name === this.o.primaryName || (this.o.prefix !== "" && isSourceName(name, this.o.prefix))
    );
  }

  /** Keeps a source ConfigMap (bounded: the merge refuses past MAX_KEPT_SOURCES anyway). */
  private keep(cm: V1ConfigMap): void {
    const name = cm.metadata?.name ?? "";
    if (!this.isSource(name)) return;
    if (!this.maps.has(name) && this.maps.size >= MAX_KEPT_SOURCES) return;
    this.maps.set(name, cm);
  }

  private changed(): void {
    const out: ExtraSource[] = [];
    for (const [name, cm] of this.maps) {
      const meta = describe(cm);
      for (const [key, raw] of Object.entries(cm.data ?? {})) {
        if (name === this.o.primaryName && key === PRIMARY_SOURCE_KEY) continue;
        const source: ConfigSource = { kind: "configmap", name, key };
        out.push({
          source,
          ...boundedText(raw),
          resourceVersion: cm.metadata?.resourceVersion ?? "",
          author: meta.author,
          updatedAt: meta.updatedAt,
        });
      }
    }
    this.publish(out);
  }

  async start(): Promise<void> {
    try {
      await this.watcher.start();
    } catch (e) {
      // Never run on the primary alone when other sources may exist: nodes would lose theirs.
      throw new Error(
        `cannot list the config sources (ConfigMaps ${this.o.prefix}* in ${this.o.namespace}): ${apiMessage(e)}. Grant list and watch on ConfigMaps there (the chart does), or set IPMASQ_SOURCE_PREFIX="" to read the key config of ${this.o.primaryName} alone, as upstream does`,
      );
    }
  }

  editable(source: ConfigSource): boolean {
    if (source.kind !== "configmap") return false;
    return source.name === this.o.primaryName || this.o.editable.includes(source.name);
  }

  status(): SourceSetStatus {
    const h = this.watcher.health;
    const problems: string[] = [];
    if (!h.open && h.failures > 0)
      problems.push(
        `the watch on the ConfigMaps of ${this.o.namespace} is not open (${h.failures} failures; ${h.lastError}): changes to config sources are seen late`,
      );
    if (this.maps.size >= MAX_KEPT_SOURCES)
      problems.push(`more ConfigMaps of prefix ${this.o.prefix} than the merge takes`);
    return { problems };
  }

  async close(): Promise<void> {
    await this.watcher.stop();
  }

  async save(req: SourceSaveRequest): Promise<ExtraSource> {
    const { source } = req;
    if (!this.editable(source))
      throw new HttpError(
        403,
        `${sourceLabel(source)} is not one the dashboard may edit (chart value configSources.editable)`,
      );
    const cm = this.maps.get(source.name);
    if (!cm || cm.data?.[source.key] === undefined)
      throw new HttpError(404, `${sourceLabel(source)} does not exist`);
    // The primary ConfigMap's annotations describe its `config` key (kube-revision.ts): an
    // edit of another of its keys leaves them alone.
    const annotations =
      source.name === this.o.primaryName
        ? cm.metadata?.annotations
        : {
            ...cm.metadata?.annotations,
            [ANNOTATIONS.author]: req.author,
            [ANNOTATIONS.message]: req.message,
            [ANNOTATIONS.updatedAt]: new Date().toISOString(),
          };
    const body: V1ConfigMap = {
      ...cm,
      metadata: { ...cm.metadata, resourceVersion: req.expectedResourceVersion, annotations },
      data: { ...cm.data, [source.key]: req.text },
    };
    try {
      const saved = await this.o.clients.core.replaceNamespacedConfigMap({
        namespace: this.o.namespace,
        name: source.name,
        body,
        fieldManager: FIELD_MANAGER,
      });
      this.keep(saved);
      this.changed();
      return { ...this.find(source)!, author: req.author };
    } catch (e) {
      throw this.saveError(e, req);
    }
  }

  private saveError(e: unknown, req: SourceSaveRequest): unknown {
    const { source } = req;
    const code = statusCode(e);
    const current = this.find(source);
    // 400/422 for a revision that is not a resourceVersion at all is stale too (as kube-store).
    const unknownRevision =
      (code === 400 || code === 422) && req.expectedResourceVersion !== current?.resourceVersion;
    if (code === 409 || unknownRevision) return new StaleSourceError(current);
    if (code === 422)
      return new HttpError(
        422,
        `the Kubernetes API refused ${sourceLabel(source)}: ${apiMessage(e)}`,
      );
    if (code === 404) return new HttpError(404, `${sourceLabel(source)} no longer exists`);
    if (code === 403)
      return new HttpError(
        503,
        `the dashboard may not write ${sourceLabel(source)}: ${apiMessage(e)}`,
      );
    return e;
  }
}
