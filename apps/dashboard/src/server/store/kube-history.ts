// History of the ip-masq-agent ConfigMap, kept in a companion ConfigMap (key history.json),
// bounded by count and by bytes as the API server counts them: the sum of the data values in
// UTF-8 may not exceed 1 MiB (core.MaxSecretSize), so big configs keep fewer revisions, and
// how many are kept is reported. The history is a record, never the source of revisions.
//
// It also carries the high-water mark of revision numbers (MERGED_UP_TO_ANNOTATION): every new
// number a replica hands out (a merge of the config sources, a save, the stamp of an edit made
// outside the dashboard) is reserved first by raising the mark to it in a replace conditional on
// the mark read (reserve), so the API server orders all replicas' reservations and no number is
// reserved twice: one number never names two configs, whatever each replica's watches have
// delivered yet (kube-store.ts, config-service.ts).
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import { sleep } from "@masq/node-util";
import { fromLegacyRevisionNames, retryDelay } from "@masq/shared";
import type { Logger } from "pino";
import { z } from "zod";
import { statusCode } from "../kube/client.js";
import { FIELD_MANAGER } from "./kube-revision.js";
import { HistoryKeptChanging, updateHistory } from "./kube-rollout.js";
import { type ConfigRevision, revisionMetaSchema } from "./types.js";

const KEY = "history.json";
/** Entries of the previous release (`generation`, a string `revision`) read in the current names. */
const entriesSchema = z.array(
  z.preprocess(fromLegacyRevisionNames, revisionMetaSchema.extend({ text: z.string() })),
);

/** The highest revision number any replica reserved (only ever raised; the name is historical). */
export const MERGED_UP_TO_ANNOTATION = "ipmasq.dev/merged-revisions-up-to";

/**
 * The highest mark taken (above: set by hand, ignored and raised over), and the highest number
 * reserved: past it none is (what needs one waits, and the problem says so), as a number above
 * it would be read as a mark set by hand, ignored, and reserved again. Numbers are read back
 * from annotations of at most 15 digits (annotatedRevision): a mark of 999999999999999 had every
 * edit stamped 1000000000000000, not read back, stamped again, forever. 10^6 above 10^12: a
 * mark set by hand to 10^12 still leaves numbers to reserve.
 */
export const MAX_MERGED_MARK = 10 ** 12 + 10 ** 6;

/** The API server's limit on a ConfigMap's data, in bytes. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/**
 * Conflicts a reservation meets before it gives up (then retried later by its caller): every
 * replica reserves a number for the same source change at once, so R replicas conflict R − 1
 * times at most when nothing else writes; a random wait of up to 10 ms, doubling to 200 ms,
 * spreads them.
 */
const MAX_RESERVE_CONFLICTS = 16;

/** reserve() found no history ConfigMap and may not create one: no number can be reserved. */
export class NoHistoryError extends Error {}

/** reserve() would pass MAX_MERGED_MARK. */
class NumbersUsedUp extends Error {}

export interface KubeHistoryOptions {
  core: CoreV1Api;
  namespace: string;
  name: string;
  log: Logger;
  /** Entries kept at most (oldest dropped first; default 50). */
  retention?: number;
  /** Bytes the data may take (default the API's 1 MiB). */
  maxBytes?: number;
  /** Create the ConfigMap when it is missing (needs `create` on ConfigMaps). */
  create?: boolean;
}

export interface HistoryStatus {
  /** Revisions kept, newest last. */
  kept: number;
  retention: number;
  /** UTF-8 bytes of the ConfigMap's data as last written or read. */
  bytes: number;
  maxBytes: number;
  /** Why the last write failed, if it did. */
  error?: string;
}

const bytesOf = (s: string) => Buffer.byteLength(s, "utf8");

export class KubeHistory {
  private entries: ConfigRevision[] = [];
  private readonly retention: number;
  private readonly maxBytes: number;
  private lastBytes = 0;
  private error: string | undefined;
  /** Revisions whose write failed: written with the next one that succeeds. */
  private pending: ConfigRevision[] = [];
  /** MERGED_UP_TO_ANNOTATION as last read or written, and the highest this replica asked for. */
  private mergedMark = 0;
  private mergedWanted = 0;
  private raising: Promise<void> | undefined;
  /** Why the mark could not be raised, until it is. */
  private mergedError: string | undefined;

  constructor(private readonly opts: KubeHistoryOptions) {
    this.retention = opts.retention ?? 50;
    this.maxBytes = opts.maxBytes ?? CONFIGMAP_MAX_BYTES;
  }

  /** Newest first; falls back to the last copy read when the API cannot be read. */
  async list(): Promise<ConfigRevision[]> {
    try {
      const cm = await this.read();
      this.noteMark(cm);
      if (cm) this.entries = this.parse(cm);
    } catch (e) {
      this.opts.log.warn({ err: e }, "reading config history failed; serving the cached copy");
    }
    return [...this.entries].reverse();
  }

  /** Entries as known to this process, oldest first. */
  known(): readonly ConfigRevision[] {
    return this.entries;
  }

  status(): HistoryStatus {
    return {
      kept: this.entries.length,
      retention: this.retention,
      bytes: this.lastBytes,
      maxBytes: this.maxBytes,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /**
   * Records a revision (idempotent). A revision with the text and revision of the newest
   * entry (a revision stamp, a metadata-only edit) replaces it instead of taking a slot.
   * Failures are reported in status() and logged, never thrown: history is a record.
   */
  async record(rev: ConfigRevision): Promise<void> {
    let transient = 0;
    for (let attempt = 0; attempt < 8; attempt++) {
      try {
        await this.recordOnce(rev);
        return;
      } catch (e) {
        const code = statusCode(e);
        // Another replica wrote first, or the ConfigMap was deleted since it was read: read again.
        if (code === 409 || code === 404) continue;
        // The API server unreachable for a moment (a restart): try again shortly, a few times.
        if ((code === undefined || code >= 500) && transient++ < 3) {
          await sleep(retryDelay(transient, { initialMs: 250, maxMs: 2000 }));
          continue;
        }
        this.fail(e, rev);
        return;
      }
    }
    this.fail(new Error("the history ConfigMap kept changing (8 conflicts)"), rev);
  }

  /** One read and (when something is missing) one conditional write of record(). */
  private async recordOnce(rev: ConfigRevision): Promise<void> {
    const cm = await this.read();
    this.noteMark(cm);
    let entries = cm ? this.parse(cm) : this.entries;
    const missing = [...this.pending, rev].filter(
      (p) => !entries.some((e) => e.resourceVersion === p.resourceVersion),
    );
    if (missing.length === 0) {
      this.entries = entries;
      return;
    }
    for (const p of missing) entries = append(entries, p);
    await this.write(cm, this.bound(entries, cm));
    this.error = undefined;
    this.pending = [];
  }

  /** The highest revision number any replica reserved, as last read or written here. */
  mergedUpTo(): number {
    return this.mergedMark;
  }

  /** Why the mark could not be raised (until it is), for the store's problems. */
  mergedProblem(): string | undefined {
    return this.mergedError;
  }

  /**
   * Raises the mark to `revision` on the history ConfigMap, never lowering it: a replace
   * conditional on the read (a conflict reads again, 8 times at most), one at a time, a raise
   * asked meanwhile written by the same run. Never throws: a failure is logged and reported
   * (mergedProblem), and tried again at the next raise.
   */
  raiseMergedUpTo(revision: number): void {
    this.mergedWanted = Math.max(this.mergedWanted, revision);
    if (this.mergedWanted <= this.mergedMark || this.raising) return;
    this.raising = this.raiseMark().finally(() => {
      this.raising = undefined;
    });
  }

  /**
   * Reserves a new revision number, at least `min` and above the mark as stored: raises the mark
   * to it in a replace conditional on the read (a conflict reads again). Only a number whose
   * write succeeded is returned, so no other replica reserves it. Throws otherwise
   * (NoHistoryError when there is no history ConfigMap this replica may create); transient
   * failures are tried again `attempts` times in all.
   */
  async reserve(min: number, attempts = 3): Promise<number> {
    let [conflicts, failures] = [0, 0];
    for (;;) {
      try {
        return await this.reserveOnce(min);
      } catch (e) {
        if (e instanceof HistoryKeptChanging && ++conflicts < MAX_RESERVE_CONFLICTS) {
          const wait = { initialMs: 10, maxMs: 200, jitter: [0, 1] as const };
          await sleep(retryDelay(conflicts - 1, wait));
          continue;
        }
        if (!transient(e) || ++failures >= attempts) throw e;
        await sleep(retryDelay(failures - 1, { initialMs: 250, maxMs: 1000 }));
      }
    }
  }

  private async reserveOnce(min: number): Promise<number> {
    const { core, namespace, name, create } = this.opts;
    let n = min;
    const change = (cm: V1ConfigMap | undefined) => {
      this.noteMark(cm);
      if (!cm && !create)
        throw new NoHistoryError(
          `the history ConfigMap ${namespace}/${name} does not exist and the dashboard may not create it`,
        );
      n = Math.max(min, this.mergedMark + 1);
      if (n > MAX_MERGED_MARK)
        throw new NumbersUsedUp(
          `revision numbers are used up to ${MAX_MERGED_MARK} (annotation ${MERGED_UP_TO_ANNOTATION} of ${namespace}/${name}, set by hand?)`,
        );
      const annotations = { ...cm?.metadata?.annotations, [MERGED_UP_TO_ANNOTATION]: `${n}` };
      return { data: cm?.data, annotations };
    };
    await updateHistory({ core, namespace, name }, change, 1);
    this.mergedMark = Math.max(this.mergedMark, n);
    return n;
  }

  private async raiseMark(): Promise<void> {
    const { core, namespace, name, create } = this.opts;
    while (this.mergedWanted > this.mergedMark) {
      const want = this.mergedWanted;
      try {
        await updateHistory({ core, namespace, name }, (cm) => {
          this.noteMark(cm);
          if (this.mergedMark >= want) return null;
          if (!cm && !create)
            throw new Error(
              `the history ConfigMap ${namespace}/${name} does not exist and the dashboard may not create it`,
            );
          const annotations = {
            ...cm?.metadata?.annotations,
            [MERGED_UP_TO_ANNOTATION]: `${want}`,
          };
          return { data: cm?.data, annotations };
        });
        this.mergedMark = Math.max(this.mergedMark, want);
        this.mergedError = undefined;
      } catch (e) {
        this.mergedError = e instanceof Error ? e.message : String(e);
        this.opts.log.warn(
          { err: e, revision: want, history: `${namespace}/${name}` },
          "could not raise the merged revision mark on the history ConfigMap",
        );
        return;
      }
    }
  }

  private noteMark(cm: V1ConfigMap | undefined): void {
    const raw = cm?.metadata?.annotations?.[MERGED_UP_TO_ANNOTATION];
    if (raw !== undefined && /^\d{1,15}$/.test(raw) && Number(raw) <= MAX_MERGED_MARK)
      this.mergedMark = Math.max(this.mergedMark, Number(raw));
  }

  private fail(e: unknown, rev: ConfigRevision): void {
    this.error = e instanceof Error ? e.message : String(e);
    this.entries = append(this.entries, rev).slice(-this.retention);
    if (!this.pending.some((p) => p.resourceVersion === rev.resourceVersion))
      this.pending = [...this.pending, rev].slice(-this.retention);
    this.opts.log.warn(
      {
        err: e,
        resourceVersion: rev.resourceVersion,
        history: `${this.opts.namespace}/${this.opts.name}`,
      },
      "could not record config history",
    );
  }

  /** Newest `retention` entries that fit in maxBytes together with the ConfigMap's other data. */
  private bound(entries: ConfigRevision[], cm: V1ConfigMap | undefined): ConfigRevision[] {
    const other = otherDataBytes(cm);
    let out = entries.slice(-this.retention);
    while (out.length > 0 && other + bytesOf(JSON.stringify(out)) > this.maxBytes)
      out = out.slice(1);
    if (out.length === 0)
      throw permanent(
        `revision ${entries.at(-1)?.revision} alone does not fit in the history ConfigMap (${this.maxBytes} bytes)`,
      );
    const trimmed = out.length < Math.min(entries.length, this.retention);
    if (trimmed && out.length !== this.entries.length)
      this.opts.log.info(
        { kept: out.length, retention: this.retention, maxBytes: this.maxBytes },
        "config history keeps fewer revisions than its retention: no more fit in one ConfigMap",
      );
    return out;
  }

  private parse(cm: V1ConfigMap): ConfigRevision[] {
    const raw = cm.data?.[KEY];
    this.lastBytes = otherDataBytes(cm) + (raw ? bytesOf(raw) : 0);
    if (raw === undefined) return [];
    try {
      return entriesSchema.parse(JSON.parse(raw));
    } catch (e) {
      // A damaged history must not stop config changes; it is rewritten on the next record.
      this.opts.log.warn(
        { err: e },
        "config history ConfigMap is not readable; starting a new history",
      );
      return [];
    }
  }

  private async read(): Promise<V1ConfigMap | undefined> {
    try {
      return await this.opts.core.readNamespacedConfigMap({
        namespace: this.opts.namespace,
        name: this.opts.name,
      });
    } catch (e) {
      if (statusCode(e) === 404) return undefined;
      throw e;
    }
  }

  private async write(cm: V1ConfigMap | undefined, entries: ConfigRevision[]): Promise<void> {
    const { namespace, name, core } = this.opts;
    const data = { ...cm?.data, [KEY]: JSON.stringify(entries) };
    if (!cm) {
      if (!this.opts.create)
        throw permanent(
          `the history ConfigMap ${namespace}/${name} does not exist and the dashboard may not create it`,
        );
      const metadata = {
        name,
        namespace,
        labels: { "app.kubernetes.io/managed-by": FIELD_MANAGER },
      };
      await core.createNamespacedConfigMap({
        namespace,
        body: { metadata, data },
        fieldManager: FIELD_MANAGER,
      });
    } else {
      await core.replaceNamespacedConfigMap({
        namespace,
        name,
        body: { ...cm, data },
        fieldManager: FIELD_MANAGER,
      });
    }
    this.entries = entries;
    this.lastBytes = Object.values(data).reduce((n, v) => n + bytesOf(v), 0);
  }
}

/** The API server unreachable or failing for a moment (not a refusal, not a conflict). */
function transient(e: unknown): boolean {
  if (e instanceof NoHistoryError || e instanceof HistoryKeptChanging) return false;
  if (e instanceof NumbersUsedUp) return false;
  const code = statusCode(e);
  return code === undefined || code >= 500;
}

/** An error not worth retrying (statusCode() reads its code as a client error). */
function permanent(message: string): Error {
  return Object.assign(new Error(message), { code: 400 });
}

/** Appends, or replaces the newest entry when only the resourceVersion differs. */
function append(entries: ConfigRevision[], rev: ConfigRevision): ConfigRevision[] {
  const last = entries.at(-1);
  if (last && last.revision === rev.revision && last.text === rev.text)
    return [...entries.slice(0, -1), { ...last, resourceVersion: rev.resourceVersion }];
  return [...entries, rev];
}

/** Bytes of the ConfigMap's data other than the history key (counted by the same limit). */
function otherDataBytes(cm: V1ConfigMap | undefined): number {
  let n = 0;
  for (const [k, v] of Object.entries(cm?.data ?? {})) if (k !== KEY) n += bytesOf(v);
  for (const v of Object.values(cm?.binaryData ?? {})) n += Buffer.from(v, "base64").length;
  return n;
}
