// The ip-masq-agent ConfigMap as the store: key `config` in the upstream format, so the
// upstream agent keeps working. Revision = resourceVersion; saves replace with it, so a stale
// save is a 409 from the API server, never a lost update. Every change (ours or kubectl's)
// enters through one ordered path (the watch, or a re-read), which assigns its generation.
import { createHash } from "node:crypto";
import type { V1ConfigMap } from "@kubernetes/client-node";
import { setLongTimeout } from "@masq/shared";
import type { Logger } from "pino";
import { type KubeClients, statusCode } from "../kube/client.js";
import { Mutex } from "../util/mutex.js";
import { KubeHistory } from "./kube-history.js";
import {
  type ConfigRevision,
  type ConfigStore,
  Listeners,
  type SaveRequest,
  StaleRevisionError,
  type StoreListener,
} from "./types.js";

export const CONFIG_KEY = "config";
const ANNOTATION = "ipmasq.dev/";

export interface KubeStoreOptions {
  clients: KubeClients;
  namespace: string;
  name: string;
  historyName: string;
  /** Written when the ConfigMap does not exist (the upstream defaults). */
  initialText: string;
  log: Logger;
  historyRetention?: number;
  /** How long a save waits for its own change to come back through the watch. */
  saveEchoTimeoutMs?: number;
}

export class KubeStore implements ConfigStore {
  readonly kind = "kubernetes" as const;
  private cm: V1ConfigMap | undefined;
  private latest: ConfigRevision | undefined;
  private readonly ingestMutex = new Mutex();
  private readonly listeners = new Listeners();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly revisions: KubeHistory;
  private watchAbort: AbortController | undefined;
  private closed = false;
  private reachable = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: KubeStoreOptions) {
    this.revisions = new KubeHistory({
      core: opts.clients.core,
      namespace: opts.namespace,
      name: opts.historyName,
      log: opts.log,
      retention: opts.historyRetention,
    });
  }

  async start(): Promise<void> {
    await this.refresh();
    this.loop = this.watchLoop();
  }

  current(): ConfigRevision {
    if (!this.latest) throw new Error("kubernetes store not started");
    return this.latest;
  }

  async save(req: SaveRequest): Promise<ConfigRevision> {
    const base = this.cm;
    if (!base) throw new Error("kubernetes store not started");
    const body: V1ConfigMap = {
      ...base,
      metadata: {
        ...base.metadata,
        resourceVersion: req.expectedRevision,
        annotations: { ...base.metadata?.annotations, ...annotationsFor(req) },
      },
      data: { ...base.data, [CONFIG_KEY]: req.text },
    };
    let saved: V1ConfigMap;
    try {
      saved = await this.opts.clients.core.replaceNamespacedConfigMap({
        namespace: this.opts.namespace,
        name: this.opts.name,
        body,
      });
    } catch (e) {
      // 409: resourceVersion mismatch. 400/422: a revision that is not a resourceVersion at all
      // (nothing a client read from us), which is stale too.
      const code = statusCode(e);
      const unknownRevision =
        (code === 400 || code === 422) && req.expectedRevision !== this.latest?.revision;
      if (code !== 409 && !unknownRevision) throw e;
      await this.refresh();
      throw new StaleRevisionError(this.current());
    }
    return this.awaitIngested(saved);
  }

  history(): Promise<ConfigRevision[]> {
    return this.revisions.list();
  }

  onChange(listener: StoreListener): () => void {
    return this.listeners.add(listener);
  }

  healthy(): boolean {
    return this.reachable && this.latest !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchAbort?.abort();
    // A watch still connecting cannot be aborted yet (client-node hands out its controller
    // only once connected); it is aborted when it connects, so do not wait for it.
    await Promise.race([this.loop, sleep(1000)]);
    await this.ingestMutex.run(async () => undefined);
  }

  /** Reads the ConfigMap (creating it when absent) and ingests it. */
  private async refresh(): Promise<void> {
    const { core } = this.opts.clients;
    const { namespace, name } = this.opts;
    let cm: V1ConfigMap;
    try {
      cm = await core.readNamespacedConfigMap({ namespace, name });
    } catch (e) {
      if (statusCode(e) !== 404) {
        this.reachable = false;
        throw e;
      }
      const text = this.latest?.text ?? this.opts.initialText;
      const req = {
        text,
        author: "system",
        message: this.latest ? "recreated after deletion" : "initial defaults",
        expectedRevision: "",
      };
      const body: V1ConfigMap = {
        metadata: { name, namespace, annotations: annotationsFor(req) },
        data: { [CONFIG_KEY]: text },
      };
      this.opts.log.warn(
        { configMap: `${namespace}/${name}` },
        "config ConfigMap missing; creating it",
      );
      cm = await core.createNamespacedConfigMap({ namespace, body });
    }
    this.reachable = true;
    await this.ingest(cm);
  }

  /** The single ordered entry point for new revisions: history, generation, listeners. */
  private ingest(cm: V1ConfigMap): Promise<void> {
    return this.ingestMutex.run(async () => {
      const revision = cm.metadata?.resourceVersion;
      if (!revision || revision === this.latest?.revision) return;
      const base = describe(cm, revision);
      let generation: number;
      try {
        generation = await this.revisions.record(base);
      } catch (e) {
        // History is a record, not a gate: the change still counts.
        generation = Math.max(this.revisions.maxGeneration(), this.latest?.generation ?? 0) + 1;
        this.revisions.remember({ ...base, generation });
        this.opts.log.warn({ err: e, revision }, "could not record config history");
      }
      this.cm = cm;
      this.latest = { ...base, generation };
      this.listeners.emit(this.latest);
      for (const w of this.waiters.get(revision) ?? []) w();
      this.waiters.delete(revision);
    });
  }

  /** Resolves a save once its revision went through ingest (normally via the watch). */
  private async awaitIngested(saved: V1ConfigMap): Promise<ConfigRevision> {
    const revision = saved.metadata?.resourceVersion ?? "";
    const seen = async () => (await this.revisions.list()).find((r) => r.revision === revision);
    if (this.latest?.revision !== revision && !this.revisions.has(revision)) {
      const echoed = new Promise<boolean>((resolve) => {
        const t = setLongTimeout(() => resolve(false), this.opts.saveEchoTimeoutMs ?? 2000);
        const list = this.waiters.get(revision) ?? [];
        list.push(() => {
          t.clear();
          resolve(true);
        });
        this.waiters.set(revision, list);
      });
      if (!(await echoed)) {
        this.waiters.delete(revision);
        await this.refresh().catch(() => undefined);
      }
    }
    if (this.latest?.revision === revision) return this.latest;
    // Superseded before we saw it (another edit landed right after ours).
    return (
      (await seen()) ?? { ...describe(saved, revision), generation: this.current().generation }
    );
  }

  private async watchLoop(): Promise<void> {
    let backoff = 500;
    while (!this.closed) {
      const ok = await this.watchOnce();
      if (this.closed) return;
      backoff = ok ? 500 : Math.min(backoff * 2, 10_000);
      await sleep(ok ? 0 : backoff);
      await this.refresh().catch((e) =>
        this.opts.log.warn({ err: e }, "re-reading the config ConfigMap failed"),
      );
    }
  }

  /** One watch from the current resourceVersion; resolves when it ends (true if it ran). */
  private watchOnce(): Promise<boolean> {
    const { namespace, name } = this.opts;
    const path = `/api/v1/namespaces/${namespace}/configmaps`;
    const query = {
      fieldSelector: `metadata.name=${name}`,
      resourceVersion: this.cm?.metadata?.resourceVersion,
      allowWatchBookmarks: true,
    };
    return new Promise((resolve) => {
      const t0 = Date.now();
      let started = false;
      let failed = false;
      const onEvent = (type: string, obj: V1ConfigMap) => {
        started = true;
        if (type === "ADDED" || type === "MODIFIED") void this.ingest(obj);
        else if (type === "BOOKMARK" && this.cm?.metadata && obj.metadata?.resourceVersion)
          this.cm.metadata.resourceVersion = obj.metadata.resourceVersion;
        else if (type === "DELETED") {
          this.opts.log.warn(
            { configMap: `${namespace}/${name}` },
            "config ConfigMap deleted; recreating it with the last known config",
          );
          this.watchAbort?.abort(); // the re-read after the watch recreates it
        } else if (type === "ERROR") {
          failed = true; // e.g. 410 Gone: relist, with backoff in case it persists
          this.watchAbort?.abort();
        }
      };
      const onDone = (err: unknown) => {
        if (err && !this.closed) this.opts.log.debug({ err }, "config watch ended");
        resolve(!failed && (started || !err || Date.now() - t0 > 5000));
      };
      this.opts.clients.watch
        .watch(path, query, onEvent, onDone)
        .then((c) => {
          this.watchAbort = c;
          if (this.closed) c.abort();
        })
        .catch(onDone);
    });
  }
}

function annotationsFor(req: Omit<SaveRequest, "expectedRevision">): Record<string, string> {
  return {
    [`${ANNOTATION}author`]: req.author,
    [`${ANNOTATION}message`]: req.message,
    [`${ANNOTATION}updated-at`]: new Date().toISOString(),
    [`${ANNOTATION}config-sha256`]: sha256(req.text),
  };
}

/** Who changed it: our annotations when they match the text, else the last field manager. */
function describe(cm: V1ConfigMap, revision: string): Omit<ConfigRevision, "generation"> {
  const text = cm.data?.[CONFIG_KEY] ?? "";
  const a = cm.metadata?.annotations ?? {};
  if (a[`${ANNOTATION}config-sha256`] === sha256(text)) {
    return {
      revision,
      text,
      author: a[`${ANNOTATION}author`] ?? "unknown",
      message: a[`${ANNOTATION}message`] ?? "",
      updatedAt: a[`${ANNOTATION}updated-at`] ?? new Date().toISOString(),
    };
  }
  const managers = [...(cm.metadata?.managedFields ?? [])].sort(
    (x, y) => timeOf(x.time) - timeOf(y.time),
  );
  const last = managers.at(-1);
  const when = last?.time ? new Date(last.time).toISOString() : new Date().toISOString();
  return {
    revision,
    text,
    author: `${last?.manager ?? "unknown"} (outside the dashboard)`,
    message: "edited outside the dashboard",
    updatedAt: when,
  };
}

function timeOf(t: Date | string | undefined): number {
  return t ? new Date(t).getTime() : 0;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
