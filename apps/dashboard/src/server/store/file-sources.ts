// The further config sources of the file store: every regular file of the data dir whose name
// starts with the prefix (default `ip-masq-`), each one source, as ip-masq-agent-v2 reads the
// `ip-masq*` files of its config directory. Followed by a poll of the directory (stat first:
// only a file whose size, mtime or inode changed is read again; unchanged ones are re-read and
// hashed round-robin, within VERIFY_* bounds a scan, for edits that keep all three). A changed
// file is taken once it has held still for SETTLE_MS (chokidar's awaitWriteFinish), or at once
// when its mtime is older than that (plus a coarse filesystem's granularity): a file written in
// place (truncated, then written) read between the two would push its empty half to every node.
// One that never holds still (a writer looping) is a problem after UNSETTLED_PROBLEM_MS.
// Saves compare the file's sha256 with the revision the author edited and replace it
// atomically (a rename: taken at once).
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Mutex, sha256 } from "@masq/node-util";
import {
  type ConfigSource,
  type LongTimer,
  MAX_CONFIG_SOURCE_BYTES,
  setLongInterval,
  sourceId,
  sourceLabel,
} from "@masq/shared";
import type { Logger } from "pino";
import { HttpError } from "../errors.js";
import { atomicWrite, type FileWriter } from "../util/atomic-write.js";
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

export interface FileSourcesOptions {
  dir: string;
  /** Files whose name starts with this are sources ("" disables them). */
  prefix: string;
  /** How often the directory is looked at (default 1 s). */
  pollMs?: number;
  writer?: FileWriter;
  log?: Logger;
  /** Monotonic milliseconds (tests); default performance.now. */
  now?: () => number;
}

/** How long a changed file's size, mtime and inode must hold before it is taken (ms). */
export const SETTLE_MS = 200;
/** A changed file not settled for this long is a problem (status), named with since when. */
export const UNSETTLED_PROBLEM_MS = 5_000;
/**
 * Unchanged files re-read (and hashed) per scan, at most so many and so many bytes: an edit
 * keeping size, mtime and inode is noticed within MAX_KEPT_SOURCES / 16 scans (4 s at 65 files).
 */
const VERIFY_FILES_PER_SCAN = 16;
const VERIFY_BYTES_PER_SCAN = 1024 * 1024;
/** Coarsest mtime kept by a filesystem (FAT: 2 s): an mtime only this old says nothing of now. */
const MTIME_GRANULARITY_MS = 2_000;
/** Start waits at most this many settle periods for files still being written (then takes them). */
const START_SETTLE_TRIES = 25;
/** A look after settling: a timer can fire a fraction of a millisecond before performance.now says. */
const SETTLE_LOOK_MS = SETTLE_MS + 10;

interface Seen {
  key: string;
  source: ExtraSource;
}

/** A file seen changed, not settled yet. */
interface Changing {
  /** Its latest stat key (with `#sha256` when only its content changed). */
  key: string;
  /** Since when that key has held (monotonic ms). */
  since: number;
  /** Since when it has not settled (monotonic ms, and wall clock for people). */
  first: number;
  firstAt: string;
}

const statKey = (st: { size: number; mtimeMs: number; ino: number }) =>
  `${st.size}:${st.mtimeMs}:${st.ino}`;

export class FileSources extends PublishedSources implements SourceSet {
  private seen = new Map<string, Seen>();
  /** Who saved which text here, so a file's author is known after our own save. */
  private readonly savedBy = new Map<string, string>();
  private readonly mutex = new Mutex();
  private timer: LongTimer | undefined;
  private problem: string | undefined;
  /** Files seen changed, not settled yet. */
  private changing = new Map<string, Changing>();
  /** The last file whose content a scan verified (round-robin). */
  private verifiedUpTo = "";
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  /** The file store's own config (its upstream-format copy is config.yaml). */
  readonly primary: ConfigSource = { kind: "file", name: "config.yaml", key: "config.yaml" };

  constructor(private readonly o: FileSourcesOptions) {
    super();
  }

  async start(): Promise<void> {
    await this.scan();
    // Nothing is published without its files: a start amid a write waits for them to settle.
    for (let i = 0; i < START_SETTLE_TRIES && this.changing.size > 0 && !this.closed; i++) {
      await new Promise((r) => setTimeout(r, SETTLE_LOOK_MS));
      await this.scan();
    }
    // Closed meanwhile (a shutdown during start): a poll started now would never be stopped.
    if (this.closed) return;
    if (this.changing.size > 0) {
      this.o.log?.warn(
        { files: [...this.changing.keys()] },
        "config source files still changing after the start's wait: taken as they are",
      );
      await this.mutex.run(() => this.scanNow(new Set(this.changing.keys())));
    }
    this.timer = setLongInterval(() => void this.scan(), this.o.pollMs ?? 1000);
  }

  editable(source: ConfigSource): boolean {
    return source.kind === "file" && this.o.prefix !== "" && source.name.startsWith(this.o.prefix);
  }

  status(): SourceSetStatus {
    const sourceProblems = this.unsettledProblems();
    return {
      problems: [...(this.problem ? [this.problem] : []), ...sourceProblems.values()],
      sourceProblems,
    };
  }

  /** Files changing for UNSETTLED_PROBLEM_MS or more, by source id (published or not yet). */
  private unsettledProblems(): Map<string, string> {
    const now = this.now();
    const out = new Map<string, string>();
    for (const [name, c] of this.changing) {
      if (now - c.first < UNSETTLED_PROBLEM_MS) continue;
      const kept = this.seen.has(name) ? "nodes keep its last settled version" : "not taken yet";
      const source = { kind: "file" as const, name, key: name };
      out.set(
        sourceId(source),
        `${sourceLabel(source)} has kept changing since ${c.firstAt} (never unchanged for ${SETTLE_MS} ms): ${kept}`,
      );
    }
    return out;
  }

  private now(): number {
    return this.o.now ? this.o.now() : performance.now();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.clear();
    clearTimeout(this.settleTimer);
    await this.mutex.run(async () => undefined);
  }

  /** Reads what changed since the last scan; one scan at a time. */
  scan(): Promise<void> {
    return this.mutex.run(async () => {
      try {
        await this.scanNow();
        this.problem = undefined;
      } catch (e) {
        this.problem = `cannot read the config sources in ${this.o.dir}: ${(e as Error).message}`;
        this.o.log?.warn({ err: e }, this.problem);
      }
    });
  }

  /** `complete`: files known whole now (renamed into place by a save): taken without settling. */
  private async scanNow(complete: ReadonlySet<string> = new Set()): Promise<void> {
    const { prefix, dir } = this.o;
    const names = prefix === "" ? [] : (await readdir(dir)).filter((n) => n.startsWith(prefix));
    const verify = this.dueForVerify();
    const next = new Map<string, Seen>();
    const changing = new Map<string, Changing>();
    for (const name of names.sort().slice(0, MAX_KEPT_SOURCES)) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const old = this.seen.get(name);
      const key = await this.keyOf(name, path, st, old, verify.has(name));
      if (old?.key === key) {
        next.set(name, old);
        continue;
      }
      const c = this.settling(name, key, st.mtimeMs);
      if (c && !complete.has(name)) {
        changing.set(name, c);
        if (old) next.set(name, old); // the last whole version stays until this one settles
        continue;
      }
      next.set(name, { key: statKey(st), source: await this.read(name, path, st, key) });
    }
    this.seen = next;
    this.changing = changing;
    if (changing.size > 0) this.scanAfterSettling();
    this.publish([...next.values()].map((s) => s.source));
  }

  /**
   * The file's stat key, with `#sha256` of its content when the stat matches the version taken
   * but the content does not (checked when `verify`, and on every scan while that settles).
   */
  private async keyOf(
    name: string,
    path: string,
    st: { size: number; mtimeMs: number; ino: number },
    old: Seen | undefined,
    verify: boolean,
  ): Promise<string> {
    const key = statKey(st);
    if (old?.key !== key || st.size > MAX_CONFIG_SOURCE_BYTES) return key;
    if (!verify && !this.changing.get(name)?.key.includes("#")) return key;
    const text = await readFile(path, "utf8").catch(() => undefined);
    if (text === undefined) return key; // gone meanwhile: the next scan sees it
    const hash = sha256(text);
    return hash === old.source.resourceVersion ? key : `${key}#${hash}`;
  }

  /** Taken files whose content this scan checks: round-robin, within the VERIFY_* bounds. */
  private dueForVerify(): Set<string> {
    const names = [...this.seen.keys()].sort();
    const at = names.findIndex((n) => n > this.verifiedUpTo);
    const order = at < 0 ? names : [...names.slice(at), ...names.slice(0, at)];
    const due = new Set<string>();
    let bytes = 0;
    for (const name of order) {
      const source = this.seen.get(name)?.source;
      const size = source?.bytes ?? source?.text.length ?? 0;
      if (size > MAX_CONFIG_SOURCE_BYTES) continue;
      if (due.size >= VERIFY_FILES_PER_SCAN) break;
      if (due.size > 0 && bytes + size > VERIFY_BYTES_PER_SCAN) break;
      due.add(name);
      bytes += size;
      this.verifiedUpTo = name;
    }
    return due;
  }

  /**
   * The file still settling (its new key and since when), or null once `key` has held for
   * SETTLE_MS, or at first sight when its mtime is older than that: no write since.
   */
  private settling(name: string, key: string, mtimeMs: number): Changing | null {
    const now = this.now();
    const c = this.changing.get(name);
    if (c?.key === key) return now - c.since >= SETTLE_MS ? null : c;
    if (!c && Date.now() - mtimeMs >= SETTLE_MS + MTIME_GRANULARITY_MS) return null;
    return {
      key,
      since: now,
      first: c?.first ?? now,
      firstAt: c?.firstAt ?? new Date().toISOString(),
    };
  }

  private scanAfterSettling(): void {
    if (this.settleTimer || this.closed) return;
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      void this.scan();
    }, SETTLE_LOOK_MS);
    this.settleTimer.unref?.();
  }

  /** One file as a source; one too large for the merge is not read (its size is refused). */
  private async read(
    name: string,
    path: string,
    st: { size: number; mtime: Date },
    key: string,
  ): Promise<ExtraSource> {
    const big = st.size > MAX_CONFIG_SOURCE_BYTES;
    const raw = big ? "" : await readFile(path, "utf8");
    const text = big ? { text: "", bytes: st.size } : boundedText(raw);
    const resourceVersion = big ? `oversized:${key}` : sha256(raw);
    return {
      source: { kind: "file", name, key: name },
      ...text,
      resourceVersion,
      author: this.savedBy.get(resourceVersion) ?? "file (outside the dashboard)",
      updatedAt: st.mtime.toISOString(),
    };
  }

  /** Checks the revision and writes under the scan's lock, so no scan interleaves. */
  save(req: SourceSaveRequest): Promise<ExtraSource> {
    const { source } = req;
    if (!this.editable(source))
      return Promise.reject(
        new HttpError(403, `${sourceLabel(source)} is not a config source of this dashboard`),
      );
    return this.mutex.run(async () => {
      await this.scanNow();
      const cur = this.find(source);
      if (!cur) throw new HttpError(404, `${sourceLabel(source)} does not exist`);
      // A hand edit not settled yet is newer than any revision an editor read: overwritten, it
      // would be lost without a conflict (the published version still matches).
      if (cur.resourceVersion !== req.expectedResourceVersion || this.changing.has(source.name))
        throw new StaleSourceError(cur);
      this.savedBy.set(sha256(req.text), req.author);
      if (this.savedBy.size > 64) this.savedBy.delete(this.savedBy.keys().next().value!);
      await (this.o.writer ?? atomicWrite)(join(this.o.dir, source.name), req.text);
      await this.scanNow(new Set([source.name]));
      const saved = this.find(source);
      if (!saved) throw new HttpError(500, `${sourceLabel(source)} vanished while it was saved`);
      return saved;
    });
  }
}
