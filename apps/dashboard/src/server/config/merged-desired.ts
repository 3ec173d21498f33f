// The config nodes get when there are several sources: the primary store's revision merged with
// the other sources (shared config-merge.ts), and the revision number nodes get. Only a merge without conflicts
// becomes desired; otherwise the last good one stays in force and the conflicts are shown.
//
// Revisions: the primary store numbers its own revisions (persisted). A merged config is
// numbered here, above every revision this process has seen, whenever the merged config (or
// the primary revision) changes, so rollouts track each merge; the store numbers its next save,
// and an edit made outside the dashboard, above the merged numbers (ConfigStore.numberAbove:
// with Kubernetes above every replica's, shared as a mark on the history ConfigMap, which a
// replica starting numbers above too: mergedUpTo), so one number never names two configs.
// At a start the numbers the persisted rollout recorded are remembered (NumberingSeed): the
// same merge gets its number again, and a new one is numbered above them all. Where the store
// reserves numbers (Kubernetes, every replica active), a new merge takes the number the config
// service reserved for it (wants, then desired with it), never one of its own count.
import {
  type AgentFlags,
  type ConfigSource,
  configsEqual,
  type MasqConfig,
  type MergeResult,
  mergedResourceVersion,
  mergeSources,
  primaryOf,
  type SourceText,
  sourceId,
  sourceLabel,
} from "@masq/shared";
import type { ExtraSource } from "../store/sources.js";
import type { ConfigRevision } from "../store/types.js";

export interface Desired {
  revision: number;
  resourceVersion: string;
  config: MasqConfig;
  /** Who saved the revision (for node timelines). */
  author?: string;
}

/** The merged view while there are sources besides the primary one. */
export interface MergeView {
  result: MergeResult;
  /** The sources besides the primary one, as read. */
  extras: ExtraSource[];
  /** Why this merge reaches no node although it has no conflict (config-service heldMerge). */
  held?: string;
}

/** What the last merge (or the primary alone) was made of: the primary's and each source's version. */
interface Basis {
  primary: string;
  extras: Map<string, string>;
}

/**
 * Merged revisions a persisted rollout recorded before a restart (its revision and the one
 * before it, with their configs) and the highest number it names anywhere.
 */
export interface NumberingSeed {
  known: readonly Desired[];
  highest: number;
}

export class MergedNumbering {
  private last: { key: string; desired: Desired } | undefined;
  private basis: Basis | undefined;
  private known: readonly Desired[] = [];

  /** The store's highest revision at the start: a seed above it makes numbering used. */
  private readonly own: number;
  private floor: number;

  /**
   * `floor`: the highest revision the store has handed out (history, current). `shared`: the
   * highest merged revision any replica handed out (ConfigStore.mergedUpTo): merges are numbered
   * above it too, but it alone does not make numbering used, so a single source keeps the
   * store's revision.
   */
  constructor(floor: number, shared = 0) {
    this.own = floor;
    this.floor = Math.max(floor, shared);
  }

  /** The highest number handed out here (or remembered): the store numbers its saves above it. */
  get highest(): number {
    return this.floor;
  }

  /** Remembers the numbers handed out before a restart (see NumberingSeed). */
  seed(seed: NumberingSeed): void {
    this.known = seed.known;
    this.above(seed.highest);
  }

  private raised = false;

  /** Whether a merge was ever numbered, or the floor raised (from then on every desired is numbered here). */
  get used(): boolean {
    return this.last !== undefined || this.raised;
  }

  /**
   * Numbers from here on are above `revision` (handed out before a restart): raised only when
   * it is above the store's own numbers, so a single source keeps the store's revision.
   */
  above(revision: number): void {
    if (revision > this.own) this.raised = true;
    this.floor = Math.max(this.floor, revision);
  }

  /**
   * The lowest number a merge of `config` on `rev` may take when it needs a new one; undefined
   * when it keeps one it had (the same merge, or one a persisted rollout recorded).
   */
  wants(rev: ConfigRevision, config: MasqConfig): number | undefined {
    if (this.last?.key === keyOf(rev, config) || this.remembered(rev, config)) return undefined;
    return Math.max(rev.revision, this.floor, this.last?.desired.revision ?? 0) + 1;
  }

  /** `reserved`: a number reserved for it (at least wants()), taken when it needs a new one. */
  desired(
    rev: ConfigRevision,
    config: MasqConfig,
    extras: readonly ExtraSource[],
    reserved?: number,
  ): Desired {
    const key = keyOf(rev, config);
    if (this.last?.key === key) return this.last.desired;
    const author = this.authorOf(rev, extras);
    const again = this.remembered(rev, config);
    const revision = again?.revision ?? Math.max(this.wants(rev, config) ?? 0, reserved ?? 0);
    this.floor = Math.max(this.floor, revision);
    // Only the first merge at the start is found again: later ones are numbered on, never back.
    this.known = [];
    const resourceVersion =
      again?.resourceVersion ?? mergedResourceVersion(rev.resourceVersion, extras.length, revision);
    this.last = { key, desired: { revision, resourceVersion, config, author } };
    this.track(rev, extras);
    return this.last.desired;
  }

  /** The number this merge had before a restart (same stored revision, same config), if any. */
  private remembered(rev: ConfigRevision, config: MasqConfig): Desired | undefined {
    return this.known.find(
      (d) => primaryOf(d.resourceVersion) === rev.resourceVersion && configsEqual(d.config, config),
    );
  }

  /** Records what nodes got without a merge (the primary alone), so the next merge's author is right. */
  track(rev: ConfigRevision, extras: readonly ExtraSource[]): void {
    this.basis = {
      primary: rev.resourceVersion,
      extras: new Map(extras.map((e) => [sourceId(e.source), e.resourceVersion])),
    };
  }

  /**
   * Who made this merge differ from the last one: the primary's author when it changed, each
   * added or changed source's author (with the source). Nobody for a removed source (the store
   * cannot say); the primary's author when there is nothing to compare with.
   */
  private authorOf(rev: ConfigRevision, extras: readonly ExtraSource[]): string | undefined {
    const basis = this.basis;
    if (!basis) return rev.author;
    const who = new Set<string>();
    if (basis.primary !== rev.resourceVersion) who.add(rev.author);
    for (const e of extras)
      if (basis.extras.get(sourceId(e.source)) !== e.resourceVersion)
        who.add(`${e.author} in ${sourceLabel(e.source)}`);
    return who.size > 0 ? [...who].join(", ") : undefined;
  }
}

function keyOf(rev: ConfigRevision, config: MasqConfig): string {
  return JSON.stringify([rev.resourceVersion, config]);
}

/** The primary text merged with the other sources (the primary source replaced by `text`). */
export function mergeWith(
  primary: ConfigSource,
  text: string,
  extras: readonly SourceText[],
  flags: AgentFlags,
): MergeResult {
  return mergeSources([{ source: primary, text }, ...extras], flags);
}
