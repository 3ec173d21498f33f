// The config nodes get when there are several sources: the primary store's revision merged with
// the other sources (shared config-merge.ts), and its generation. Only a merge without conflicts
// becomes desired; otherwise the last good one stays in force and the conflicts are shown.
//
// Generations: the primary store numbers its own revisions (persisted). A merged config is
// numbered here, above every generation this process has seen, whenever the merged config (or
// the primary revision) changes, so rollouts track each merge. These numbers live in this
// process: after a restart the first merge gets the next number above the store's history.
import {
  type AgentFlags,
  type ConfigSource,
  type MasqConfig,
  type MergeResult,
  mergeSources,
  type SourceText,
} from "@masq/shared";
import type { ExtraSource } from "../store/sources.js";
import type { ConfigRevision } from "../store/types.js";

export interface Desired {
  generation: number;
  revision: string;
  config: MasqConfig;
  /** Who saved the revision (for node timelines). */
  author?: string;
}

/** The merged view while there are sources besides the primary one. */
export interface MergeView {
  result: MergeResult;
  /** The sources besides the primary one, as read. */
  extras: ExtraSource[];
}

export class MergedNumbering {
  private last: { key: string; desired: Desired } | undefined;

  /** `floor`: the highest generation the store has handed out (history, current). */
  constructor(private floor: number) {}

  /** Whether a merge was ever numbered (from then on every desired is numbered here). */
  get used(): boolean {
    return this.last !== undefined;
  }

  desired(rev: ConfigRevision, config: MasqConfig, extras: readonly ExtraSource[]): Desired {
    const key = JSON.stringify([rev.revision, config]);
    if (this.last?.key === key) return this.last.desired;
    const generation = Math.max(rev.generation, this.floor, this.last?.desired.generation ?? 0) + 1;
    this.floor = generation;
    const revision =
      extras.length === 0 ? rev.revision : `${rev.revision}+${extras.length}@g${generation}`;
    this.last = { key, desired: { generation, revision, config, author: rev.author } };
    return this.last.desired;
  }
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
