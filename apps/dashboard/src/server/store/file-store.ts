// The embedded store: the data dir holds every revision as history/NNNNNN.yaml and an
// index.json that lists them. The index is the one commit point: a revision exists once the
// renamed index names it, so a crash mid-save leaves the previous revision current, and a save
// answers exactly what the index says. config.yaml is a copy of the current text (upstream
// format) derived after the commit; failing to write it never fails a committed save.
//
// A full or read-only disk does not stop the dashboard: it starts read-only (an empty data dir
// starts from the defaults in memory), saves are refused with 507 "disk full" (or 503) and
// nothing changes, and the first save after space returns writes everything. Temp files left
// by writes that died mid-way are removed at start.

import { mkdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Mutex, NotDurableError, readFileIfExists, removeStaleTemps } from "@masq/node-util";
import { fromLegacyRevisionNames } from "@masq/shared";
import type { Logger } from "pino";
import { z } from "zod";
import { HttpError } from "../errors.js";
import type { RosterFile } from "../fleet/roster-keeper.js";
import { EXTRAS_DROPPED, EXTRAS_KEY, joinRollout, splitRollout } from "../fleet/staged-compat.js";
import { atomicWrite, type FileWriter } from "../util/atomic-write.js";
import { nodeEventsFile, rosterFile } from "./roster-file.js";
import {
  type ConfigRevision,
  type ConfigStore,
  Listeners,
  revisionMetaSchema,
  type SaveRequest,
  StaleRevisionError,
  type StoreListener,
} from "./types.js";

const entrySchema = z.strictObject({
  ...revisionMetaSchema.shape,
  file: z.string().regex(/^\d{6,}\.yaml$/),
});
/** An index of the previous release (`generation`, a string `revision`) is read in the current names. */
const indexSchema = z.strictObject({
  version: z.literal(1),
  entries: z.array(z.preprocess(fromLegacyRevisionNames, entrySchema)),
});
type Entry = z.infer<typeof entrySchema>;

/** A staged rollout's state, written whole on every step (staged-state.ts checks it). */
const ROLLOUT_FILE = "rollout.json";

export interface FileStoreOptions {
  dir: string;
  /** Text written as revision 1 when the dir is empty (the upstream defaults). */
  initialText: string;
  /** Revisions kept; older files are deleted. */
  retention?: number;
  /** How files are replaced (tests inject a full or read-only disk). */
  writer?: FileWriter;
  log?: Logger;
}

/** A save the disk refused before anything was committed: 507 when full, 503 otherwise. */
export class StoreWriteError extends HttpError {
  constructor(
    status: 503 | 507,
    message: string,
    readonly code: string,
  ) {
    super(status, message);
    this.name = "StoreWriteError";
  }
}

export class FileStore implements ConfigStore {
  readonly kind = "file" as const;
  private entries: Entry[] = [];
  private texts = new Map<string, string>();
  /** Revision files known to be on disk (an empty dir on a full disk starts with none). */
  private readonly onDisk = new Set<string>();
  private latest: ConfigRevision | undefined;
  /** Why saves are expected to fail (set by a failed write, cleared by a good one). */
  private readOnlyReason: string | undefined;
  private readonly mutex = new Mutex();
  private readonly listeners = new Listeners();
  private readonly retention: number;
  private readonly write: FileWriter;

  constructor(private readonly opts: FileStoreOptions) {
    this.retention = opts.retention ?? 500;
    this.write = opts.writer ?? atomicWrite;
  }

  private get historyDir(): string {
    return join(this.opts.dir, "history");
  }

  async start(): Promise<void> {
    await mkdir(this.historyDir, { recursive: true, mode: 0o700 }).catch(async (e) => {
      if (!(await stat(this.historyDir).catch(() => undefined))?.isDirectory()) throw e;
    });
    const stale = [
      ...(await removeStaleTemps(this.opts.dir)),
      ...(await removeStaleTemps(this.historyDir)),
    ];
    if (stale.length > 0)
      this.opts.log?.warn({ files: stale }, "removed temp files of interrupted writes");
    const raw = await readFileIfExists(join(this.opts.dir, "index.json"));
    if (raw === undefined) await this.startEmpty();
    else {
      // A damaged index is an error to fix by hand, never a reason to start from defaults.
      this.entries = indexSchema.parse(JSON.parse(raw)).entries;
      const last = this.entries.at(-1);
      if (!last) throw new Error(`${this.opts.dir}/index.json lists no revisions`);
      for (const e of this.entries) this.onDisk.add(e.file);
      this.latest = await this.load(last);
      await this.writeCopy(this.latest.text);
    }
  }

  /** The highest merged revision numbered (ConfigStore.numberAbove). */
  private mergedAbove = 0;

  numberAbove(revision: number): void {
    this.mergedAbove = Math.max(this.mergedAbove, revision);
  }

  current(): ConfigRevision {
    if (!this.latest) throw new Error("file store not started");
    return this.latest;
  }

  save(req: SaveRequest): Promise<ConfigRevision> {
    return this.mutex.run(async () => {
      const cur = this.current();
      if (req.expectedResourceVersion !== cur.resourceVersion) throw new StaleRevisionError(cur);
      const rev = this.stage(req, Math.max(cur.revision, this.mergedAbove) + 1);
      await this.commit(rev.entry, rev.kept, req.text);
      this.listeners.emit(this.current());
      await this.writeCopy(req.text);
      return this.current();
    });
  }

  async history(): Promise<ConfigRevision[]> {
    const out: ConfigRevision[] = [];
    for (const e of [...this.entries].reverse()) out.push(await this.load(e));
    return out;
  }

  onChange(listener: StoreListener): () => void {
    return this.listeners.add(listener);
  }

  healthy(): boolean {
    return this.latest !== undefined;
  }

  /** Why saves are expected to fail right now (e.g. "disk full (ENOSPC)"), or undefined. */
  readOnly(): string | undefined {
    return this.readOnlyReason;
  }

  async close(): Promise<void> {
    await this.mutex.run(async () => undefined);
  }

  /**
   * The staged rollout's state: rollout.json beside the index (null: none), with the fields kept
   * apart for the previous release put back when they belong to it (staged-compat.ts).
   */
  async loadRollout(): Promise<unknown | null> {
    const raw = await readFileIfExists(join(this.opts.dir, ROLLOUT_FILE));
    if (raw === undefined || raw.trim() === "") return null;
    const extras = await readFileIfExists(join(this.opts.dir, EXTRAS_KEY));
    const joined = joinRollout(JSON.parse(raw) as unknown, raw, extras?.trim() ? extras : null);
    if (joined.dropped) this.opts.log?.warn({ reason: joined.dropped }, EXTRAS_DROPPED);
    return joined.state;
  }

  /**
   * rollout.json as the previous release reads it, then its extras (an empty file: none). A crash
   * between the two leaves extras bound to another text: dropped on reading, never misapplied.
   */
  async saveRollout(state: unknown | null): Promise<void> {
    const { text, extras } = splitRollout(state);
    await this.write(join(this.opts.dir, ROLLOUT_FILE), text ?? "");
    await this.write(join(this.opts.dir, EXTRAS_KEY), extras ?? "");
  }

  /** The node roster kept beside the revisions (fleet/roster-keeper.ts), written as they are. */
  nodeRoster(): RosterFile {
    return rosterFile(this.opts.dir, this.write);
  }

  /** The nodes' newest events kept beside the roster (fleet/node-events.ts). */
  nodeEvents(): RosterFile {
    return nodeEventsFile(this.opts.dir, this.write);
  }

  /** Revision 1 from the initial text; kept in memory only when the disk refuses it. */
  private async startEmpty(): Promise<void> {
    const { entry, kept } = this.stage(
      { text: this.opts.initialText, author: "system", message: "initial defaults" },
      1,
    );
    try {
      await this.commit(entry, kept, this.opts.initialText);
    } catch (e) {
      if (!(e instanceof StoreWriteError)) throw e;
      // Serve the defaults read-only; the first save that gets through writes revision 1 too.
      this.entries = kept;
      this.texts.set(entry.resourceVersion, this.opts.initialText);
      this.latest = toRevision(entry, this.opts.initialText);
      this.opts.log?.warn({ err: e.message }, "data dir not writable: starting read-only");
      return;
    }
    await this.writeCopy(this.opts.initialText);
  }

  /** The entry of a new revision and the index that would list it (retention applied). */
  private stage(req: Omit<SaveRequest, "expectedResourceVersion">, revision: number) {
    const entry: Entry = {
      resourceVersion: String(revision),
      revision,
      author: req.author,
      updatedAt: new Date().toISOString(),
      message: req.message,
      file: `${String(revision).padStart(6, "0")}.yaml`,
    };
    const kept = [...this.entries, entry];
    kept.splice(0, Math.max(0, kept.length - this.retention));
    return { entry, kept };
  }

  /**
   * Writes the revision files the index will name, then the index (the commit point), and
   * only then changes what this process answers. A refusal before the index rename changes
   * nothing and throws StoreWriteError; after it the save stands (cleanup is best effort).
   */
  private async commit(entry: Entry, kept: Entry[], text: string): Promise<void> {
    try {
      for (const e of kept)
        if (e === entry) await this.write(join(this.historyDir, e.file), text);
        else if (!this.onDisk.has(e.file))
          await this.write(join(this.historyDir, e.file), this.texts.get(e.resourceVersion)!);
      await this.write(
        join(this.opts.dir, "index.json"),
        `${JSON.stringify({ version: 1, entries: kept }, null, 1)}\n`,
      );
    } catch (e) {
      if (!(e instanceof NotDurableError)) throw this.refusal(e);
      this.opts.log?.error({ err: e.message }, "saved, but the data dir could not be synced");
    }
    const dropped = this.entries.filter((e) => !kept.includes(e));
    this.entries = kept;
    for (const e of kept) this.onDisk.add(e.file);
    this.texts.set(entry.resourceVersion, text);
    this.latest = toRevision(entry, text);
    this.readOnlyReason = undefined;
    for (const d of dropped) {
      this.texts.delete(d.resourceVersion);
      this.onDisk.delete(d.file);
      await rm(join(this.historyDir, d.file), { force: true }).catch(() => undefined);
    }
  }

  /** config.yaml, the upstream-format copy of the current text: best effort. */
  private async writeCopy(text: string): Promise<void> {
    try {
      await this.write(join(this.opts.dir, "config.yaml"), text);
    } catch (e) {
      if (e instanceof NotDurableError) return;
      this.refusal(e);
      this.opts.log?.warn({ err: (e as Error).message }, "could not update config.yaml");
    }
  }

  /** A write error as the answer to a save: a StoreWriteError for the disk's known refusals. */
  private refusal(e: unknown): unknown {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    const what = STORAGE_ERRORS[code];
    if (!what) return e;
    const err = new StoreWriteError(
      what.status,
      `${what.reason}: cannot write to ${this.opts.dir} (${code}); the config was not saved. ${what.fix}`,
      code,
    );
    this.readOnlyReason = `${what.reason} (${code})`;
    return err;
  }

  private async load(e: Entry): Promise<ConfigRevision> {
    let text = this.texts.get(e.resourceVersion);
    if (text === undefined) {
      text = await readFile(join(this.historyDir, e.file), "utf8");
      this.texts.set(e.resourceVersion, text);
    }
    return toRevision(e, text);
  }
}

const STORAGE_ERRORS: Record<string, { status: 503 | 507; reason: string; fix: string }> = {
  ENOSPC: { status: 507, reason: "disk full", fix: "Free space and save again." },
  EDQUOT: { status: 507, reason: "disk quota exceeded", fix: "Free space and save again." },
  EROFS: { status: 503, reason: "read-only file system", fix: "Mount the data dir read-write." },
  EACCES: { status: 503, reason: "permission denied", fix: "Fix the data dir's permissions." },
  EPERM: { status: 503, reason: "permission denied", fix: "Fix the data dir's permissions." },
  EIO: { status: 503, reason: "disk I/O error", fix: "Check the disk." },
};

function toRevision(e: Entry, text: string): ConfigRevision {
  return {
    resourceVersion: e.resourceVersion,
    revision: e.revision,
    text,
    author: e.author,
    updatedAt: e.updatedAt,
    message: e.message,
  };
}
