// The ip-masq-agent ConfigMap as the store: key `config` in the upstream format, so the
// upstream agent keeps working. Revision = resourceVersion; saves replace with it, so a stale
// save is a 409 from the API server, never a lost update. The ConfigMap is followed with the
// informer pattern (list, then watch from the list's resourceVersion: kube/list-watch.ts);
// every change, ours or kubectl's, enters through one ordered path (ingest) that gives it its
// revision from the ConfigMap's own annotations (kube-revision.ts).
//
// When the ConfigMap is missing or deleted the store keeps running on the last known revision
// and says so (status()); it recreates the ConfigMap only when allowed to (`recreate`, which
// needs `create` on ConfigMaps — RBAC cannot limit create to one name).
import type { V1ConfigMap } from "@kubernetes/client-node";
import { Mutex, sha256 } from "@masq/node-util";
import { setLongTimeout } from "@masq/shared";
import type { Logger } from "pino";
import { HttpError } from "../errors.js";
import { EXTRAS_DROPPED } from "../fleet/staged-compat.js";
import { SeenRequests } from "../fleet/staged-request.js";
import { apiMessage, type KubeClients, statusCode } from "../kube/client.js";
import { ListWatcher } from "../kube/list-watch.js";
import { KubeHistory, NoHistoryError } from "./kube-history.js";
import {
  annotatedRevision,
  annotationsFor,
  CONFIG_KEY,
  decideRevision,
  describe,
  FIELD_MANAGER,
  type RevisionMeta,
  withAnnotations,
} from "./kube-revision.js";
import {
  checkKubeRollout,
  claimKubeRollout,
  type KubeRolloutOptions,
  type OwnerClaim,
  readKubeRollout,
  saveKubeRequest,
  saveKubeRollout,
} from "./kube-rollout.js";
import { KubeRolloutWatch, type RolloutListener } from "./kube-rollout-watch.js";
import {
  type ConfigRevision,
  type ConfigStore,
  Listeners,
  type RolloutClaim,
  type SaveRequest,
  StaleRevisionError,
  type StoreListener,
  type StoreStatus,
} from "./types.js";

/** The revision id while there is no ConfigMap and nothing recorded (the upstream defaults). */
export const ABSENT_REVISION = "absent";

export interface KubeStoreOptions {
  clients: KubeClients;
  namespace: string;
  name: string;
  historyName: string;
  /** The upstream defaults: what applies while there is no ConfigMap and no recorded revision. */
  initialText: string;
  log: Logger;
  /** Recreate a missing ConfigMap (and history ConfigMap); needs `create` on ConfigMaps. */
  recreate?: boolean;
  historyRetention?: number;
  historyMaxBytes?: number;
  /** How long a save waits for its own change to come back through the watch. */
  saveEchoTimeoutMs?: number;
  /** Backoff of the watch after failures (default 100 ms growing to 1 s). */
  watchBackoffMs?: { initial: number; max: number };
}

export class KubeStore implements ConfigStore {
  readonly kind = "kubernetes" as const;
  private cm: V1ConfigMap | undefined;
  private state: "present" | "deleted" | "missing" = "missing";
  private deletedAt: string | undefined;
  private latest: ConfigRevision | undefined;
  /** The highest revision handed out, and the hash of the text it was given to. */
  private highest = { revision: 0, sha: "" };
  /** The highest merged revision this replica numbered (ConfigStore.numberAbove). */
  private mergedAbove = 0;

  /**
   * Also raises the mark on the history ConfigMap (in the background): a merge's number was
   * reserved there already (reserveRevision); this covers numbers a persisted rollout names.
   */
  numberAbove(revision: number): void {
    this.mergedAbove = Math.max(this.mergedAbove, revision);
    this.revisions.raiseMergedUpTo(this.mergedAbove);
  }

  /** The highest merged revision any replica handed out, as last read (ConfigStore.mergedUpTo). */
  mergedUpTo(): number {
    return this.revisions.mergedUpTo();
  }
  /**
   * A new revision number, at least `min`, reserved on the history ConfigMap's mark so that no
   * replica hands it out for anything else (ConfigStore.reserveRevision). Throws when it cannot
   * be reserved: the merge waits (config-service.ts); the problem says why.
   */
  async reserveRevision(min: number): Promise<number> {
    const n = await this.reserve(min, "a merge of the config sources");
    if (n === undefined) throw new Error(this.problems.get("reserve"));
    return n;
  }

  /**
   * A new number for `what` (reserveRevision). With no history ConfigMap this replica may create,
   * `fallback` (above every number it knows; said in the problems), for a save or a stamp: those
   * are ordered by the ConfigMap's own resourceVersion, and no merge is numbered meanwhile.
   * Undefined when it cannot be reserved.
   */
  private async reserve(min: number, what: string, fallback?: number): Promise<number | undefined> {
    try {
      const n = await this.revisions.reserve(min);
      this.problems.delete("reserve");
      return n;
    } catch (e) {
      const why = apiMessage(e);
      const absent = e instanceof NoHistoryError && fallback !== undefined;
      this.problems.set(
        "reserve",
        absent
          ? `revision numbers are not reserved (${why}): merges of the config sources wait, and saves and edits made with kubectl are numbered above what this replica knows, which another replica's merge may have had`
          : `a revision number for ${what} could not be reserved on the history ConfigMap (${why}): merges of the config sources and edits made with kubectl wait (nodes keep their config) and saves are refused until one can, as a number not reserved may name two configs`,
      );
      this.opts.log.warn(
        { err: e, revision: min, for: what },
        "could not reserve a revision number",
      );
      return absent ? fallback : undefined;
    }
  }

  private readonly problems = new Map<"recreate" | "stamp" | "reserve", string>();
  /** Takes an edit again whose number could not be reserved (one timer at a time). */
  private retryEdit: NodeJS.Timeout | undefined;
  /** resourceVersion of an outside edit → that of our stamp of it (same text), newest last. */
  private readonly stamped = new Map<string, string>();
  private readonly ingestMutex = new Mutex();
  private readonly listeners = new Listeners();
  private readonly waiters = new Map<string, (() => void)[]>();
  private readonly revisions: KubeHistory;
  private readonly watcher: ListWatcher<V1ConfigMap>;
  private rolloutWatch: KubeRolloutWatch | undefined;
  /**
   * rollout.json as this replica last read or wrote it (null: none; undefined: never read):
   * its next write goes only over this text. Not what the watch saw: a state another replica
   * wrote that this one never read must fence this one's writes.
   */
  private rolloutText: string | null | undefined;
  /** When this replica first saw each move request (its own clock). */
  private readonly seenRequests = new SeenRequests();
  /** This replica's claim of the rollout (owner epoch and name); undefined: never claimed. */
  private rolloutClaim: OwnerClaim | undefined;

  constructor(private readonly opts: KubeStoreOptions) {
    const { clients, namespace, name, log } = opts;
    this.revisions = new KubeHistory({
      core: clients.core,
      namespace,
      name: opts.historyName,
      log,
      retention: opts.historyRetention,
      maxBytes: opts.historyMaxBytes,
      create: opts.recreate,
    });
    const fieldSelector = `metadata.name=${name}`;
    this.watcher = new ListWatcher<V1ConfigMap>({
      watch: clients.watch,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector,
      list: () => clients.core.listNamespacedConfigMap({ namespace, fieldSelector }),
      onList: (items) => {
        const cm = items.find((i) => i.metadata?.name === name);
        this.follow(cm ? this.ingest(cm) : this.absent());
      },
      onEvent: (type, cm) => this.follow(type === "DELETED" ? this.absent() : this.ingest(cm)),
      log,
      backoffMs: opts.watchBackoffMs,
    });
  }

  /** Watch callbacks cannot wait: a failure of what they started is logged, not lost. */
  private follow(p: Promise<void>): void {
    p.catch((e) =>
      this.opts.log.error({ err: e, configMap: this.ref }, "applying a ConfigMap change failed"),
    );
  }

  private get ref(): string {
    return `${this.opts.namespace}/${this.opts.name}`;
  }

  async start(): Promise<void> {
    for (const e of await this.revisions.list()) this.note(e.revision, e.text);
    try {
      await this.watcher.start();
    } catch (e) {
      throw new Error(`cannot list ConfigMap ${this.ref}: ${apiMessage(e)}`);
    }
    await this.ingestMutex.run(async () => undefined); // the first list's ingest
    if (!this.latest && this.state === "present") {
      await this.close();
      throw new Error(`cannot number ConfigMap ${this.ref}: ${this.problems.get("reserve")}`);
    }
    if (!this.latest) await this.startWithout();
  }

  current(): ConfigRevision {
    if (!this.latest) throw new Error("kubernetes store not started");
    return this.latest;
  }

  history(): Promise<ConfigRevision[]> {
    return this.revisions.list();
  }

  onChange(listener: StoreListener): () => void {
    return this.listeners.add(listener);
  }

  healthy(): boolean {
    return this.latest !== undefined && !this.watcher.health.unreachable;
  }

  /**
   * The staged rollout's state, on the history ConfigMap (kube-rollout.ts says why); with
   * `claim` (taking the rollout over) claimed first, under a new owner epoch.
   */
  async loadRollout(claim?: RolloutClaim): Promise<unknown | null> {
    if (claim)
      this.rolloutClaim = await claimKubeRollout(this.rolloutTarget(), claim.owner, claim.yieldTo);
    const { state, text, dropped } = await readKubeRollout(this.rolloutTarget());
    if (dropped) this.opts.log.warn({ reason: dropped, configMap: this.ref }, EXTRAS_DROPPED);
    this.rolloutText = text;
    return state;
  }

  /**
   * Writes the state only while this replica's claim stands (the owner epoch: a state queued by
   * an owner that lost the Lease never lands once its successor claimed the rollout) and over
   * the text it last read or wrote (RolloutFencedError).
   */
  async saveRollout(state: unknown | null): Promise<void> {
    const target = this.rolloutTarget();
    this.rolloutText = await saveKubeRollout(target, state, this.rolloutText, this.rolloutClaim);
  }

  /** Would a state write land now (this replica's claim and text still stored)? Throws if not. */
  checkRollout(): Promise<void> {
    return checkKubeRollout(this.rolloutTarget(), this.rolloutText, this.rolloutClaim);
  }

  /** A move asked on a replica that does not own the rollout, for the owner to perform. */
  saveRolloutRequest(request: unknown): Promise<void> {
    return saveKubeRequest(this.rolloutTarget(), request as object, this.seenRequests);
  }

  /** Follows the rollout state and move requests (one listener; started on this call). */
  watchRollout(listener: RolloutListener): void {
    const { clients, namespace, historyName: name, log } = this.opts;
    // Each request's age is judged from when this replica first saw it (staged-request.ts).
    const request = (raw: unknown | null) => {
      this.seenRequests.note(raw);
      listener.request(raw);
    };
    this.rolloutWatch ??= new KubeRolloutWatch(
      { clients, namespace, name, log },
      { ...listener, request },
    );
    this.rolloutWatch.start().catch((e) => {
      log.warn({ err: e }, "cannot follow the staged rollout state: this replica holds its nodes");
    });
  }

  private rolloutTarget(): KubeRolloutOptions {
    const { clients, namespace, historyName, recreate } = this.opts;
    return { core: clients.core, namespace, name: historyName, create: recreate };
  }

  async close(): Promise<void> {
    clearTimeout(this.retryEdit);
    await this.rolloutWatch?.stop();
    await this.watcher.stop();
    await this.ingestMutex.run(async () => undefined);
  }

  async save(req: SaveRequest): Promise<ConfigRevision> {
    // A save that cannot be written reserves nothing (a number skipped for nothing).
    if (!this.cm && !this.opts.recreate) throw this.createRefused();
    // Reserved first (the history ConfigMap's mark): no replica's merge or stamp takes it. What
    // follows is decided on the state after it, with no await between.
    const want = Math.max(this.highest.revision, this.merged()) + 1;
    const next = await this.reserve(want, "a save", want);
    if (next === undefined)
      throw new HttpError(503, `the save is refused: ${this.problems.get("reserve")}`);
    const cur = this.current();
    // Edited from an outside edit we since stamped: the text is the same, so not stale.
    const expectedResourceVersion =
      this.stamped.get(req.expectedResourceVersion) === cur.resourceVersion
        ? cur.resourceVersion
        : req.expectedResourceVersion;
    const annotations = annotationsFor({ ...req, revision: next });
    if (!this.cm) {
      if (expectedResourceVersion !== cur.resourceVersion) throw new StaleRevisionError(cur);
      return this.createWith(req.text, annotations);
    }
    const base = this.cm;
    const body: V1ConfigMap = {
      ...base,
      metadata: {
        ...base.metadata,
        resourceVersion: expectedResourceVersion,
        annotations: withAnnotations(base.metadata?.annotations, annotations),
      },
      data: { ...base.data, [CONFIG_KEY]: req.text },
    };
    try {
      const saved = await this.opts.clients.core.replaceNamespacedConfigMap({
        namespace: this.opts.namespace,
        name: this.opts.name,
        body,
        fieldManager: FIELD_MANAGER,
      });
      return await this.awaitIngested(saved);
    } catch (e) {
      throw await this.saveError(e, { ...req, expectedResourceVersion });
    }
  }

  status(): StoreStatus {
    const h = this.watcher.health;
    const problems = [...this.sourceProblems(), ...this.problems.values()];
    const down = !h.open && Date.now() - h.since > 3000 && h.failures > 0;
    if (down)
      problems.push(
        `the watch on ConfigMap ${this.ref} has not been open since ${new Date(h.since).toISOString()} (${h.failures} failures; ${h.lastError}): edits made with kubectl are seen late`,
      );
    const history = this.revisions.status();
    if (history.error) problems.push(`config history is not being recorded: ${history.error}`);
    const mark = this.revisions.mergedProblem();
    if (mark)
      problems.push(
        `revision numbers this replica took over (a persisted staged rollout's) are not recorded on the history ConfigMap (${mark}): another replica may reserve one of them for another config`,
      );
    return {
      problems,
      source: { name: this.ref, state: this.state },
      watch: {
        open: h.open,
        since: new Date(h.since).toISOString(),
        failures: h.failures,
        lists: h.lists,
        ...(h.lastError ? { lastError: h.lastError } : {}),
      },
      history,
    };
  }

  private sourceProblems(): string[] {
    const rev = this.latest;
    if (this.state === "present" || !rev) return [];
    const keeping =
      rev.resourceVersion === ABSENT_REVISION
        ? "nodes are given the upstream defaults, as ip-masq-agent applies without a config"
        : `nodes keep enforcing revision ${rev.revision} (resourceVersion ${rev.resourceVersion})`;
    const fix = this.opts.recreate
      ? "the dashboard recreates it"
      : "recreate it (helm upgrade, or kubectl apply), or let the dashboard do it (chart value dashboard.recreateConfigMaps)";
    const what =
      this.state === "deleted"
        ? `the ConfigMap ${this.ref} was deleted at ${this.deletedAt}`
        : `the ConfigMap ${this.ref} does not exist`;
    return [`${what}; ${keeping}; ${fix}`];
  }

  /** Maps a failed replace to what the caller should see. */
  private async saveError(e: unknown, req: SaveRequest): Promise<unknown> {
    if (e instanceof StaleRevisionError || e instanceof HttpError) return e;
    const code = statusCode(e);
    // 409: resourceVersion mismatch. 400/422 for a revision that is not a resourceVersion at
    // all (nothing a client read from us) is stale too.
    const unknownRevision =
      (code === 400 || code === 422) &&
      req.expectedResourceVersion !== this.latest?.resourceVersion;
    if (code === 409 || unknownRevision || code === 404) {
      await this.refresh().catch(() => undefined);
      if (!this.cm) return new HttpError(409, this.sourceProblems()[0] ?? "the ConfigMap is gone");
      return new StaleRevisionError(this.current());
    }
    if (code === 422)
      return new HttpError(422, `the Kubernetes API refused the ConfigMap: ${apiMessage(e)}`);
    if (code === 403)
      return new HttpError(
        503,
        `the dashboard may not write ConfigMap ${this.ref}: ${apiMessage(e)}`,
      );
    return e;
  }

  private createRefused(): HttpError {
    const what = this.sourceProblems()[0] ?? `the ConfigMap ${this.ref} does not exist`;
    return new HttpError(
      409,
      `${what}. Saving would create it, which this dashboard is not allowed to do.`,
    );
  }

  /** Creates the missing ConfigMap (when allowed) and returns its ingested revision. */
  private async createWith(
    text: string,
    annotations: Record<string, string>,
  ): Promise<ConfigRevision> {
    if (!this.opts.recreate) throw this.createRefused();
    const { namespace, name } = this.opts;
    try {
      const created = await this.opts.clients.core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, namespace, annotations }, data: { [CONFIG_KEY]: text } },
        fieldManager: FIELD_MANAGER,
      });
      return await this.awaitIngested(created);
    } catch (e) {
      if (e instanceof HttpError) throw e;
      if (statusCode(e) === 409) {
        await this.refresh().catch(() => undefined);
        throw new StaleRevisionError(this.current());
      }
      throw new HttpError(503, `could not create ConfigMap ${this.ref}: ${apiMessage(e)}`);
    }
  }

  /** Started with no ConfigMap: recreate it if allowed, else keep the last recorded revision. */
  private async startWithout(): Promise<void> {
    const newest = this.revisions.known().at(-1);
    if (this.opts.recreate) {
      const text = newest?.text ?? this.opts.initialText;
      const fresh = this.highest.revision + 1;
      const revision = newest?.revision ?? (await this.reserve(fresh, "the initial config", fresh));
      const message = newest ? "recreated: the ConfigMap was missing" : "initial defaults";
      if (revision !== undefined)
        await this.createWith(
          text,
          annotationsFor({ author: "system", message, text, revision }),
        ).catch((e) =>
          this.problems.set("recreate", `could not create ConfigMap ${this.ref}: ${apiMessage(e)}`),
        );
    }
    if (this.latest) return;
    this.latest = newest ?? {
      resourceVersion: ABSENT_REVISION,
      revision: this.highest.revision,
      text: this.opts.initialText,
      author: "system",
      message: `the ConfigMap ${this.ref} does not exist: the upstream defaults apply`,
      updatedAt: new Date().toISOString(),
    };
    this.opts.log.warn(
      { configMap: this.ref, resourceVersion: this.latest.resourceVersion },
      this.sourceProblems()[0],
    );
  }

  /** Re-reads the ConfigMap by name and ingests it (or notes that it is gone). */
  private async refresh(): Promise<void> {
    const { namespace, name } = this.opts;
    try {
      await this.ingest(await this.opts.clients.core.readNamespacedConfigMap({ namespace, name }));
    } catch (e) {
      if (statusCode(e) !== 404) throw e;
      await this.absent();
    }
  }

  /** The ConfigMap is gone: keep the last revision, say so, recreate it only when allowed. */
  private absent(): Promise<void> {
    return this.ingestMutex.run(async () => {
      if (this.state !== "present") return;
      this.state = "deleted";
      this.deletedAt = new Date().toISOString();
      this.cm = undefined;
      this.opts.log.warn({ configMap: this.ref }, this.sourceProblems()[0]);
      if (this.opts.recreate) void this.recreate();
    });
  }

  private async recreate(): Promise<void> {
    const rev = this.current();
    const a = annotationsFor({
      text: rev.text,
      revision: rev.revision,
      author: "system",
      message: "recreated after deletion",
    });
    await this.createWith(rev.text, a).then(
      () => this.problems.delete("recreate"),
      (e) => {
        this.problems.set("recreate", `could not recreate ConfigMap ${this.ref}: ${apiMessage(e)}`);
        this.opts.log.warn(
          { err: e, configMap: this.ref },
          "could not recreate the config ConfigMap",
        );
      },
    );
  }

  /** The single ordered entry point for new revisions: revision, listeners, stamp, history. */
  private ingest(cm: V1ConfigMap): Promise<void> {
    return this.ingestMutex.run(async () => {
      const resourceVersion = cm.metadata?.resourceVersion;
      if (!resourceVersion) return;
      if (this.state !== "present" && this.latest)
        this.opts.log.info({ configMap: this.ref, resourceVersion }, "config ConfigMap is back");
      this.cm = cm;
      this.state = "present";
      this.deletedAt = undefined;
      if (resourceVersion === this.latest?.resourceVersion) return;
      const meta = describe(cm);
      const decided = await this.numberOf(cm, meta.text);
      if (!decided) return this.takeAgainLater();
      const { revision, stamp } = decided;
      this.note(revision, meta.text);
      this.latest = { ...meta, revision };
      this.listeners.emit(this.latest);
      for (const w of this.waiters.get(resourceVersion) ?? []) w();
      this.waiters.delete(resourceVersion);
      if (stamp) await this.stamp(cm, meta, revision);
      await this.revisions.record(this.latest);
    });
  }

  /**
   * The revision of a ConfigMap newly seen (decideRevision); a new number to stamp (not one its
   * text had) reserved first, above every replica's. Undefined when it cannot be reserved.
   */
  private async numberOf(
    cm: V1ConfigMap,
    text: string,
  ): Promise<{ revision: number; stamp: boolean } | undefined> {
    const input = {
      recorded: this.revisions
        .known()
        .find((e) => e.resourceVersion === cm.metadata?.resourceVersion)?.revision,
      annotated: annotatedRevision(cm),
      highest: this.highest.revision,
      sameTextAsHighest: this.highest.sha === sha256(text),
      merged: this.merged(),
    };
    const decided = decideRevision(input);
    if (!decided.stamp || decided.revision <= input.highest) return decided;
    const reserved = await this.reserve(
      decided.revision,
      "an edit made with kubectl",
      decided.revision,
    );
    return reserved === undefined ? undefined : { revision: reserved, stamp: true };
  }

  /**
   * An edit whose number could not be reserved is not taken (no number that may name another
   * config): the ConfigMap is read and ingested again shortly, until it is.
   */
  private takeAgainLater(): void {
    this.retryEdit ??= setTimeout(() => {
      this.retryEdit = undefined;
      this.follow(this.refresh());
    }, 2000);
    this.retryEdit.unref();
  }

  /** The highest merged revision: this replica's, or any replica's as last read. */
  private merged(): number {
    return Math.max(this.mergedAbove, this.revisions.mergedUpTo());
  }

  private note(revision: number, text: string): void {
    if (revision >= this.highest.revision) this.highest = { revision, sha: sha256(text) };
  }

  /**
   * Writes the revision of an edit made outside the dashboard into the ConfigMap, so every
   * replica and every later start numbers it the same. A conflict means a newer change, which
   * comes through ingest on its own.
   */
  private async stamp(cm: V1ConfigMap, meta: RevisionMeta, revision: number): Promise<void> {
    const annotations = withAnnotations(
      cm.metadata?.annotations,
      annotationsFor({ ...meta, revision }),
    );
    try {
      const saved = await this.opts.clients.core.replaceNamespacedConfigMap({
        namespace: this.opts.namespace,
        name: this.opts.name,
        body: { ...cm, metadata: { ...cm.metadata, annotations } },
        fieldManager: FIELD_MANAGER,
      });
      this.stamped.set(cm.metadata?.resourceVersion ?? "", saved.metadata?.resourceVersion ?? "");
      if (this.stamped.size > 16) this.stamped.delete(this.stamped.keys().next().value!);
      this.problems.delete("stamp");
    } catch (e) {
      const code = statusCode(e);
      if (code === 409 || code === 404) return;
      this.problems.set(
        "stamp",
        `could not record revision ${revision} in ConfigMap ${this.ref} (${apiMessage(e)}): after a restart this resourceVersion may be numbered again`,
      );
      this.opts.log.warn({ err: e, configMap: this.ref, revision }, "could not stamp the revision");
    }
  }

  /** Resolves a write once its revision went through ingest (normally via the watch). */
  private async awaitIngested(saved: V1ConfigMap): Promise<ConfigRevision> {
    const resourceVersion = saved.metadata?.resourceVersion ?? "";
    const known = () => this.revisions.known().find((r) => r.resourceVersion === resourceVersion);
    if (this.latest?.resourceVersion !== resourceVersion && !known()) {
      const echoed = new Promise<boolean>((resolve) => {
        const t = setLongTimeout(() => resolve(false), this.opts.saveEchoTimeoutMs ?? 2000);
        const list = this.waiters.get(resourceVersion) ?? [];
        list.push(() => {
          t.clear();
          resolve(true);
        });
        this.waiters.set(resourceVersion, list);
      });
      if (!(await echoed)) {
        this.waiters.delete(resourceVersion);
        await this.refresh().catch(() => undefined);
      }
    }
    if (this.latest?.resourceVersion === resourceVersion) return this.latest;
    // Superseded before we saw it (another edit landed right after ours).
    const seen = (await this.revisions.list()).find((r) => r.resourceVersion === resourceVersion);
    return (
      seen ?? {
        ...describe(saved),
        revision: annotatedRevision(saved) ?? this.current().revision,
      }
    );
  }
}
