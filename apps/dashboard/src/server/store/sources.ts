// Config sources besides the primary one (the ip-masq-agent ConfigMap's `config` key, or the
// file store's config): every other key of that ConfigMap and every ConfigMap whose name starts
// with the prefix (Kubernetes), or every `ip-masq-*` file of the data dir (file store). The
// primary source stays in its ConfigStore (history, revisions, rollback); these are merged
// with it (config/merged-desired.ts). Bounded: MAX_CONFIG_SOURCES sources are kept (one more
// makes the merge refuse), each text cut after MAX_CONFIG_SOURCE_BYTES (its size kept).
import {
  type ConfigSource,
  compareSources,
  MAX_CONFIG_SOURCE_BYTES,
  MAX_CONFIG_SOURCES,
  type SourceText,
  sourceId,
} from "@masq/shared";

/** One source as read, with what optimistic concurrency needs to save it. */
export interface ExtraSource extends SourceText {
  /** Opaque, changes with every edit (resourceVersion, or the file's sha256). */
  resourceVersion: string;
  /** Who changed it last, as far as the store can tell. */
  author: string;
  /** ISO 8601. */
  updatedAt: string;
}

export interface SourceSaveRequest {
  source: ConfigSource;
  text: string;
  author: string;
  message: string;
  /** The revision the author edited; any other current one is a conflict (409). */
  expectedResourceVersion: string;
}

export interface SourceSetStatus {
  /** Sentences for a person; empty when fine. */
  problems: string[];
  /** The problems of single sources (also in `problems`), by source id. */
  sourceProblems?: ReadonlyMap<string, string>;
}

export interface SourceSet {
  /** The primary source (the store's own config), as the merge names it. */
  readonly primary: ConfigSource;
  /** Reads the sources; resolves once `list()` is usable. */
  start(): Promise<void>;
  /** The sources other than the primary one, in merge order (name, then key). */
  list(): ExtraSource[];
  /** Called after every change of the set (a source added, edited or removed). */
  onChange(fn: () => void): () => void;
  /** Saves one existing source; StaleSourceError when `expectedRevision` is not current. */
  save(req: SourceSaveRequest): Promise<ExtraSource>;
  /** Whether the dashboard may write this source (configured editable sources). */
  editable(source: ConfigSource): boolean;
  status(): SourceSetStatus;
  close(): Promise<void>;
}

/** A source save based on a revision that is no longer current. Carries the current one. */
export class StaleSourceError extends Error {
  constructor(readonly current: ExtraSource | undefined) {
    super("stale source resourceVersion");
    this.name = "StaleSourceError";
  }
}

/**
 * A text bounded for the merge: cut after MAX_CONFIG_SOURCE_BYTES characters, with its real
 * size, which the merge refuses by.
 */
export function boundedText(text: string): { text: string; bytes?: number } {
  if (text.length <= MAX_CONFIG_SOURCE_BYTES / 4) return { text };
  const bytes = Buffer.byteLength(text, "utf8");
  if (bytes <= MAX_CONFIG_SOURCE_BYTES) return { text };
  return { text: text.slice(0, MAX_CONFIG_SOURCE_BYTES + 1), bytes };
}

/** At most MAX_CONFIG_SOURCES + 1 sources kept: one more is enough for the merge to refuse. */
export const MAX_KEPT_SOURCES = MAX_CONFIG_SOURCES + 1;

/** The list and its listeners, shared by the source sets. */
export abstract class PublishedSources {
  private current: ExtraSource[] = [];
  private readonly listeners = new Set<() => void>();

  list(): ExtraSource[] {
    return this.current;
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Publishes `next` (sorted, at most MAX_KEPT_SOURCES) when it differs from the current list. */
  protected publish(next: ExtraSource[]): void {
    const sorted = [...next]
      .sort((a, b) => compareSources(a.source, b.source))
      .slice(0, MAX_KEPT_SOURCES);
    const key = (xs: ExtraSource[]) => JSON.stringify(xs.map((x) => [x.source, x.resourceVersion]));
    if (key(sorted) === key(this.current)) return;
    this.current = sorted;
    for (const fn of this.listeners) fn();
  }

  /** The current source with the same identity as `s`. */
  protected find(s: ConfigSource): ExtraSource | undefined {
    return this.current.find((x) => sourceId(x.source) === sourceId(s));
  }
}
