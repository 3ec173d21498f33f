// Wire types of the merged config (several sources: docs/api.md, "Config sources").

import type { Impact } from "./api-config.js";
import type { Issue, MasqConfig } from "./config.js";
import type { ConfigDiff } from "./config-diff.js";
import type { CidrOrigin, MergeConflict, ScalarOrigin, SourceWarning } from "./config-merge.js";
import type { ConfigSource } from "./config-source.js";
import type { RolloutStrategy } from "./rollout-plan.js";

/** One source of the merge as the API shows it. */
export interface SourceSummary {
  source: ConfigSource;
  /** `sourceId(source)`: the `:id` of the source routes. */
  id: string;
  /** "ConfigMap ip-masq-app key config". */
  label: string;
  /** The store's own config (ip-masq-agent `config`): history, rollback. */
  primary: boolean;
  /** Whether the dashboard may save it. */
  editable: boolean;
  resourceVersion: string;
  author: string;
  /** ISO 8601. */
  updatedAt: string;
  valid: boolean;
  /**
   * What is wrong with reading it, when something is (a file that has kept changing, never
   * holding still long enough to be taken: since when, and what nodes get meanwhile).
   */
  problem?: string;
}

/** The merge of every source (GET /api/config `merge`; null while there is only the primary). */
export interface MergedConfigView {
  sources: SourceSummary[];
  /** The merged config as computed now (with conflicts too: then it is not what nodes get). */
  config: MasqConfig;
  /**
   * False when there is a conflict or the merge is `held`: nodes keep the last good merged config
   * (`desiredRevision`).
   */
  pushable: boolean;
  /**
   * Set while a source changed after the ip-masq-agent config's staged rollout was aborted: the
   * merge would bring the aborted change back, so it is held until that config is saved again.
   */
  held?: string | null;
  cidrs: { nonMasqueradeCIDRs: CidrOrigin[]; masqueradeCIDRs: CidrOrigin[] };
  scalars: ScalarOrigin[];
  conflicts: MergeConflict[];
  warnings: SourceWarning[];
  /**
   * Set while nodes run in observe mode beside an upstream agent: upstream ip-masq-agent reads
   * only its one ConfigMap key, so the other sources show as drift there (not so beside
   * ip-masq-agent-v2, which merges its files as the dashboard does).
   */
  observeWarning?: string | null;
}

/** GET /api/config/sources/:id */
export interface SourceResponse extends SourceSummary {
  yaml: string;
  /** The source's own parse (null when invalid). */
  config: MasqConfig | null;
  errors: Issue[];
  warnings: Issue[];
}

/** POST /api/config/sources/:id/validate: the source's candidate, and the merge it makes. */
export interface SourceValidateResponse {
  ok: boolean;
  errors: Issue[];
  warnings: Issue[];
  /** The merge with the candidate in place of the source. */
  merge: MergedConfigView | null;
  /** Merged config nodes get now → merged with the candidate. */
  diff: ConfigDiff;
  impact: Impact;
  /** Conflicts the candidate adds (saving is refused while there are any). */
  newConflicts: MergeConflict[];
}

/** PUT /api/config/sources/:id */
export interface SourceSaveResponse {
  resourceVersion: string;
  warnings: Issue[];
  /**
   * How the merged revision the save makes rolls out, as the server decides for a save that
   * names no strategy: like the unfinished staged rollout, else the default strategy (all at
   * once when waves cannot run now). Null when the save reaches no node (`notPushed`).
   */
  rollsOut: RolloutStrategy | null;
  /**
   * Why the merge the save makes is not pushed (the merge is held after an aborted rollout, or
   * the sources conflict: nodes keep the last good merge); present exactly when `rollsOut` is null.
   */
  notPushed?: string;
}

/** One change of a config source other than the primary one (GET /api/history/sources). */
export interface SourceChange {
  source: ConfigSource;
  label: string;
  change: "added" | "changed" | "removed";
  /** The source's revision after the change ("" when removed). */
  resourceVersion: string;
  author: string;
  /** ISO 8601: when the dashboard saw it. */
  time: string;
  /** The source's text after the change ("" when removed). */
  yaml: string;
  /** Its text's own diff, from before the change to after it. */
  diff: ConfigDiff;
  /** The merged revision nodes got with it; null when the merge then had a conflict. */
  revision: number | null;
}

/** GET /api/history/sources: newest first, bounded (kept by this dashboard process). */
export interface SourceHistoryResponse {
  changes: SourceChange[];
}
