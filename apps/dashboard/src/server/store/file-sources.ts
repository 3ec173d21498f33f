// The further config sources of the file store: every regular file of the data dir whose name
// starts with the prefix (default `ip-masq-`), each one source, as ip-masq-agent-v2 reads the
// `ip-masq*` files of its config directory. Followed by a poll of the directory (stat first:
// only a file whose size, mtime or inode changed is read again). Saves compare the file's
// sha256 with the revision the author edited and replace it atomically.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { Mutex, sha256 } from "@masq/node-util";
import {
  type ConfigSource,
  type LongTimer,
  MAX_CONFIG_SOURCE_BYTES,
  setLongInterval,
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
}

interface Seen {
  key: string;
  source: ExtraSource;
}

export class FileSources extends PublishedSources implements SourceSet {
  private seen = new Map<string, Seen>();
  /** Who saved which text here, so a file's author is known after our own save. */
  private readonly savedBy = new Map<string, string>();
  private readonly mutex = new Mutex();
  private timer: LongTimer | undefined;
  private problem: string | undefined;

  /** The file store's own config (its upstream-format copy is config.yaml). */
  readonly primary: ConfigSource = { kind: "file", name: "config.yaml", key: "config.yaml" };

  constructor(private readonly o: FileSourcesOptions) {
    super();
  }

  async start(): Promise<void> {
    await this.scan();
    this.timer = setLongInterval(() => void this.scan(), this.o.pollMs ?? 1000);
  }

  editable(source: ConfigSource): boolean {
    return source.kind === "file" && this.o.prefix !== "" && source.name.startsWith(this.o.prefix);
  }

  status(): SourceSetStatus {
    return { problems: this.problem ? [this.problem] : [] };
  }

  async close(): Promise<void> {
    this.timer?.clear();
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

  private async scanNow(): Promise<void> {
    const { prefix, dir } = this.o;
    const names = prefix === "" ? [] : (await readdir(dir)).filter((n) => n.startsWith(prefix));
    const next = new Map<string, Seen>();
    for (const name of names.sort().slice(0, MAX_KEPT_SOURCES)) {
      const path = join(dir, name);
      const st = await stat(path).catch(() => undefined);
      if (!st?.isFile()) continue;
      const key = `${st.size}:${st.mtimeMs}:${st.ino}`;
      const old = this.seen.get(name);
      if (old?.key === key) {
        next.set(name, old);
        continue;
      }
      next.set(name, { key, source: await this.read(name, path, st, key) });
    }
    this.seen = next;
    this.publish([...next.values()].map((s) => s.source));
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
      if (cur.resourceVersion !== req.expectedResourceVersion) throw new StaleSourceError(cur);
      this.savedBy.set(sha256(req.text), req.author);
      if (this.savedBy.size > 64) this.savedBy.delete(this.savedBy.keys().next().value!);
      await (this.o.writer ?? atomicWrite)(join(this.o.dir, source.name), req.text);
      await this.scanNow();
      const saved = this.find(source);
      if (!saved) throw new HttpError(500, `${sourceLabel(source)} vanished while it was saved`);
      return saved;
    });
  }
}
