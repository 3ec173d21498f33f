// The embedded store: the data dir holds every revision as history/NNNNNN.yaml and an
// index.json that lists them. The index is the commit point: a revision exists once the
// index names it, so a crash mid-save leaves the previous revision current. config.yaml is
// a convenience copy of the current text (upstream format), rewritten on every start.
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { atomicWrite } from "../util/atomic-write.js";
import { Mutex } from "../util/mutex.js";
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
const indexSchema = z.strictObject({ version: z.literal(1), entries: z.array(entrySchema) });
type Entry = z.infer<typeof entrySchema>;

export interface FileStoreOptions {
  dir: string;
  /** Text written as revision 1 when the dir is empty (the upstream defaults). */
  initialText: string;
  /** Revisions kept; older files are deleted. */
  retention?: number;
}

export class FileStore implements ConfigStore {
  readonly kind = "file" as const;
  private entries: Entry[] = [];
  private texts = new Map<string, string>();
  private latest: ConfigRevision | undefined;
  private readonly mutex = new Mutex();
  private readonly listeners = new Listeners();
  private readonly retention: number;

  constructor(private readonly opts: FileStoreOptions) {
    this.retention = opts.retention ?? 500;
  }

  private get historyDir(): string {
    return join(this.opts.dir, "history");
  }

  async start(): Promise<void> {
    await mkdir(this.historyDir, { recursive: true, mode: 0o700 });
    const raw = await readFile(join(this.opts.dir, "index.json"), "utf8").catch(
      (e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return undefined;
        throw e;
      },
    );
    if (raw === undefined) {
      await this.append(
        { text: this.opts.initialText, author: "system", message: "initial defaults" },
        1,
      );
    } else {
      // A damaged index is an error to fix by hand, never a reason to start from defaults.
      this.entries = indexSchema.parse(JSON.parse(raw)).entries;
      const last = this.entries.at(-1);
      if (!last) throw new Error(`${this.opts.dir}/index.json lists no revisions`);
      this.latest = await this.load(last);
    }
    await atomicWrite(join(this.opts.dir, "config.yaml"), this.current().text);
  }

  current(): ConfigRevision {
    if (!this.latest) throw new Error("file store not started");
    return this.latest;
  }

  save(req: SaveRequest): Promise<ConfigRevision> {
    return this.mutex.run(async () => {
      const cur = this.current();
      if (req.expectedRevision !== cur.revision) throw new StaleRevisionError(cur);
      const rev = await this.append(req, cur.generation + 1);
      await atomicWrite(join(this.opts.dir, "config.yaml"), rev.text);
      this.listeners.emit(rev);
      return rev;
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

  async close(): Promise<void> {
    await this.mutex.run(async () => undefined);
  }

  private async append(
    req: Omit<SaveRequest, "expectedRevision">,
    generation: number,
  ): Promise<ConfigRevision> {
    const file = `${String(generation).padStart(6, "0")}.yaml`;
    await atomicWrite(join(this.historyDir, file), req.text);
    const entry: Entry = {
      revision: String(generation),
      generation,
      author: req.author,
      updatedAt: new Date().toISOString(),
      message: req.message,
      file,
    };
    const kept = [...this.entries, entry];
    const dropped = kept.splice(0, Math.max(0, kept.length - this.retention));
    await atomicWrite(
      join(this.opts.dir, "index.json"),
      `${JSON.stringify({ version: 1, entries: kept }, null, 1)}\n`,
    );
    this.entries = kept;
    for (const d of dropped) {
      this.texts.delete(d.revision);
      await rm(join(this.historyDir, d.file), { force: true });
    }
    this.texts.set(entry.revision, req.text);
    this.latest = toRevision(entry, req.text);
    return this.latest;
  }

  private async load(e: Entry): Promise<ConfigRevision> {
    let text = this.texts.get(e.revision);
    if (text === undefined) {
      text = await readFile(join(this.historyDir, e.file), "utf8");
      this.texts.set(e.revision, text);
    }
    return toRevision(e, text);
  }
}

function toRevision(e: Entry, text: string): ConfigRevision {
  return {
    revision: e.revision,
    generation: e.generation,
    text,
    author: e.author,
    updatedAt: e.updatedAt,
    message: e.message,
  };
}
