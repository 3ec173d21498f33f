// History of the ip-masq-agent ConfigMap, kept in a bounded companion ConfigMap (key
// history.json). It also assigns generations: the first writer of a revision fixes its
// generation with an optimistic-concurrency write, so every replica agrees on it.
import type { CoreV1Api, V1ConfigMap } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { z } from "zod";
import { statusCode } from "../kube/client.js";
import { type ConfigRevision, revisionMetaSchema } from "./types.js";

const KEY = "history.json";
const entrySchema = revisionMetaSchema.extend({ text: z.string() });
const entriesSchema = z.array(entrySchema);

export interface KubeHistoryOptions {
  core: CoreV1Api;
  namespace: string;
  name: string;
  log: Logger;
  /** Entries kept (oldest dropped first). */
  retention?: number;
  /** ConfigMaps hold at most 1 MiB; stay well below. */
  maxBytes?: number;
}

export class KubeHistory {
  private entries: ConfigRevision[] = [];
  private readonly retention: number;
  private readonly maxBytes: number;

  constructor(private readonly opts: KubeHistoryOptions) {
    this.retention = opts.retention ?? 50;
    this.maxBytes = opts.maxBytes ?? 800_000;
  }

  /** Newest first; falls back to the last copy read when the API is unreachable. */
  async list(): Promise<ConfigRevision[]> {
    try {
      this.entries = parseEntries((await this.read())?.data?.[KEY], this.opts.log);
    } catch (e) {
      this.opts.log.warn({ err: e }, "reading config history failed; serving the cached copy");
    }
    return [...this.entries].reverse();
  }

  /** Records a revision (idempotent) and returns its generation. */
  async record(rev: Omit<ConfigRevision, "generation">): Promise<number> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const cm = await this.read();
      const entries = parseEntries(cm?.data?.[KEY], this.opts.log);
      const known = entries.find((e) => e.revision === rev.revision);
      if (known) {
        this.entries = entries;
        return known.generation;
      }
      const generation = Math.max(0, this.maxGeneration(), ...entries.map((e) => e.generation)) + 1;
      const next = this.bound([...entries, { ...rev, generation }]);
      try {
        await this.write(cm, next);
        this.entries = next;
        return generation;
      } catch (e) {
        if (statusCode(e) !== 409) throw e; // another replica wrote first: read again
      }
    }
    throw new Error("config history kept changing under us (8 conflicts)");
  }

  /** The highest generation this process knows, for when the history cannot be written. */
  maxGeneration(): number {
    return this.entries.reduce((m, e) => Math.max(m, e.generation), 0);
  }

  has(revision: string): boolean {
    return this.entries.some((e) => e.revision === revision);
  }

  /** Keeps a revision in the local copy when the companion ConfigMap cannot be written. */
  remember(rev: ConfigRevision): void {
    if (!this.entries.some((e) => e.revision === rev.revision))
      this.entries = this.bound([...this.entries, rev]);
  }

  private bound(entries: ConfigRevision[]): ConfigRevision[] {
    const out = entries.slice(-this.retention);
    while (out.length > 1 && JSON.stringify(out).length > this.maxBytes) out.shift();
    return out;
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
    const { namespace, name } = this.opts;
    const data = { [KEY]: JSON.stringify(entries) };
    if (!cm) {
      const body: V1ConfigMap = {
        metadata: {
          name,
          namespace,
          labels: { "app.kubernetes.io/managed-by": "ipmasq-dashboard" },
        },
        data,
      };
      await this.opts.core.createNamespacedConfigMap({ namespace, body });
      return;
    }
    await this.opts.core.replaceNamespacedConfigMap({ namespace, name, body: { ...cm, data } });
  }
}

function parseEntries(raw: string | undefined, log: Logger): ConfigRevision[] {
  if (raw === undefined) return [];
  try {
    return entriesSchema.parse(JSON.parse(raw));
  } catch (e) {
    // A damaged history must not stop config changes; it is rewritten on the next record.
    log.warn({ err: e }, "config history ConfigMap is not readable; starting a new history");
    return [];
  }
}
