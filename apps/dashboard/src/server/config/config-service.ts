// The desired config as the rest of the server sees it: the store's current text, parsed
// with upstream semantics under the fleet's agent flags, plus the last *valid* revision,
// which is the only thing ever pushed to nodes.
import {
  type AgentFlags,
  type ConfigResult,
  type Issue,
  type MasqConfig,
  parseConfigText,
  serializeConfig,
  validateConfig,
} from "@masq/shared";
import type { SourceSet } from "../store/sources.js";
import type { ConfigRevision, ConfigStore } from "../store/types.js";
import { type Desired, MergedNumbering, type MergeView, mergeWith } from "./merged-desired.js";
import { RevisionCache } from "./revision-cache.js";
import { SourceHistory } from "./source-history.js";
import { WorkQueue } from "./work-queue.js";

/** Config checks that may wait behind the running one before requests are refused (503). */
const MAX_WAITING_CHECKS = 16;

export interface ConfigState {
  rev: ConfigRevision;
  result: ConfigResult;
  /**
   * The config nodes enforce: the current one when valid, else the last valid revision. With
   * several sources: the merge when it has no conflict, else the last good merge.
   */
  desired: Desired | null;
  /** The merge, while sources besides the primary one exist (null: the primary alone). */
  merge?: MergeView | null;
}

/** A candidate config from an API body: YAML text or a config object. */
export type ConfigInput = { yaml: string } | { config: MasqConfig };

export type Candidate =
  | { ok: true; text: string; config: MasqConfig; warnings: Issue[] }
  | { ok: false; errors: Issue[]; warnings: Issue[] };

export type ConfigListener = (state: ConfigState, previous: ConfigState | undefined) => void;

export class ConfigService {
  private state: ConfigState | undefined;
  private readonly listeners = new Set<ConfigListener>();
  /** Every stored revision's parse, computed once. */
  readonly revisions: RevisionCache;
  /** Where requests run their config checks: one at a time, bounded (work-queue.ts). */
  readonly work = new WorkQueue(MAX_WAITING_CHECKS);

  private numbering: MergedNumbering | undefined;
  /** Which source besides the primary one changed, and how (GET /api/history/sources). */
  readonly sourceHistory: SourceHistory;

  constructor(
    readonly store: ConfigStore,
    readonly flags: AgentFlags,
    /** Config sources merged with the store's config (config-merge), if any. */
    readonly sources?: SourceSet,
  ) {
    this.revisions = new RevisionCache((text) => parseConfigText(text, flags));
    this.sourceHistory = new SourceHistory((text) => parseConfigText(text, flags));
  }

  async start(): Promise<void> {
    this.store.onChange((rev) => this.update(rev));
    await this.store.start();
    if (this.sources) {
      this.sources.onChange(() => this.sourcesChanged());
      await this.sources.start();
    }
    // Before reading the current revision: nothing may await between that read and the state.
    const recorded = (await this.store.history()).map((r) => r.revision);
    const rev = this.store.current();
    const result = this.revisions.get(rev);
    this.numbering = new MergedNumbering(Math.max(rev.revision, ...recorded));
    // Started on an invalid config (edited while we were down): enforce the last valid one.
    // Started on a merge with a conflict: nothing (nodes keep what they enforce).
    const alone = (this.sources?.list().length ?? 0) === 0;
    const fallback = alone && !result.ok ? await this.lastValid() : null;
    this.state = this.compose(rev, result, fallback);
  }

  /** The state for a primary revision: alone, or merged with the other sources. */
  private compose(
    rev: ConfigRevision,
    result: ConfigResult,
    previous: Desired | null,
  ): ConfigState {
    const extras = this.sources?.list() ?? [];
    const numbering = this.numbering;
    if (!this.sources || !numbering || (extras.length === 0 && !numbering.used)) {
      numbering?.track(rev, extras);
      return { rev, result, desired: result.ok ? toDesired(rev, result.config) : previous };
    }
    const merged = mergeWith(this.sources.primary, rev.text, extras, this.flags);
    const desired = merged.ok ? numbering.desired(rev, merged.config, extras) : previous;
    return { rev, result, desired, merge: extras.length > 0 ? { result: merged, extras } : null };
  }

  /** A source besides the primary one changed: merge again, tell listeners. */
  private sourcesChanged(): void {
    const previous = this.state;
    if (!previous) return; // start() composes once the sources are read
    this.state = this.compose(previous.rev, previous.result, previous.desired);
    const pushed = this.state.merge && !this.state.merge.result.ok ? null : this.state.desired;
    this.sourceHistory.note(
      previous.merge?.extras ?? [],
      this.state.merge?.extras ?? [],
      pushed?.revision ?? null,
    );
    for (const fn of this.listeners) fn(this.state, previous);
  }

  /** True once start() has composed the first state (current() may be called). */
  started(): boolean {
    return this.state !== undefined;
  }

  current(): ConfigState {
    if (!this.state) throw new Error("config service not started");
    return this.state;
  }

  onChange(fn: ConfigListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Parses and validates a candidate without saving it. */
  check(input: ConfigInput): Candidate {
    if ("yaml" in input) {
      const r = parseConfigText(input.yaml, this.flags);
      return r.ok ? { ok: true, text: input.yaml, config: r.config, warnings: r.warnings } : r;
    }
    const { errors, warnings } = validateConfig(input.config, this.flags);
    if (errors.length > 0) return { ok: false, errors, warnings };
    return { ok: true, text: serializeConfig(input.config), config: input.config, warnings };
  }

  private update(rev: ConfigRevision): void {
    const previous = this.state;
    if (previous && previous.rev.resourceVersion === rev.resourceVersion) return;
    const result = this.revisions.get(rev);
    this.state = this.compose(rev, result, previous?.desired ?? null);
    for (const fn of this.listeners) fn(this.state, previous);
  }

  /** A stored revision as nodes would enforce it; null when gone from the history or invalid. */
  async desiredOfRevision(resourceVersion: string): Promise<Desired | null> {
    const rev = (await this.store.history()).find((r) => r.resourceVersion === resourceVersion);
    const r = rev && this.revisions.get(rev);
    return rev && r?.ok ? toDesired(rev, r.config) : null;
  }

  /** The newest valid stored revision older than `revision` (null: none kept). */
  async desiredBefore(revision: number): Promise<Desired | null> {
    for (const rev of await this.store.history()) {
      if (rev.revision >= revision) continue;
      const r = this.revisions.get(rev);
      if (r.ok) return toDesired(rev, r.config);
    }
    return null;
  }

  private async lastValid(): Promise<Desired | null> {
    for (const rev of await this.store.history()) {
      const r = this.revisions.get(rev);
      if (r.ok) return toDesired(rev, r.config);
    }
    return null;
  }
}

function toDesired(rev: ConfigRevision, config: MasqConfig): Desired {
  return {
    revision: rev.revision,
    resourceVersion: rev.resourceVersion,
    config,
    author: rev.author,
  };
}
