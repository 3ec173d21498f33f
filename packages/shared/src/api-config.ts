// Wire types of the config and history routes (docs/api.md, "Config" and "History").

import type { RolloutAction } from "./api.js";
import type { MergedConfigView } from "./api-sources.js";
import type { AgentFlags, Issue, MasqConfig } from "./config.js";
import type { ConfigDiff } from "./config-diff.js";
import type { MergeConflict } from "./config-merge.js";
import type { RolloutStrategy } from "./rollout-plan.js";

/** GET /api/config */
export interface ConfigResponse {
  /** The config nodes enforce: the stored one when valid, else the last valid (null: none ever). */
  config: MasqConfig | null;
  /** The stored text, always. */
  yaml: string;
  /** The store's opaque version of the stored text (optimistic concurrency: send it back). */
  resourceVersion: string;
  /** The stored text's revision number. */
  revision: number;
  /**
   * The revision nodes enforce (null: none ever valid). Differs from `revision` while the
   * stored text is invalid, when other config sources are merged in, and after an aborted
   * rollout (nodes run the stable revision).
   */
  desiredRevision: number | null;
  /**
   * The revision (numbered as `desiredRevision`) whose staged rollout was aborted: nodes run
   * `desiredRevision`, the stable one. Null when none was: `revision` and `desiredRevision`
   * also differ for an invalid stored text and with merged sources, which abort nothing.
   */
  abortedRevision: number | null;
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  /** The fleet's agent flags configs are validated against. */
  flags: AgentFlags;
  author: string;
  /** ISO 8601. */
  updatedAt: string;
  message: string;
  /** The merge of every config source; absent or null while the primary one is alone. */
  merge?: MergedConfigView | null;

  /** How a save rolls out when it does not say (IPMASQ_ROLLOUT_STRATEGY). */
  rolloutStrategy?: RolloutStrategy;
  /**
   * Why a save may not roll out in waves now (other dashboard replicas push changes to the nodes
   * they hold: a canary on one would not hold it back from theirs); null or absent: it may.
   */
  stagedRefusal?: string | null;
}

/**
 * PUT /api/config and POST /api/history/:resourceVersion/rollback bodies (one of yaml or config);
 * `resourceVersion`: the stored one the edit is based on (any other is a 409 conflict).
 */
export type ConfigWrite =
  | { yaml: string; resourceVersion: string; message?: string; strategy?: RolloutStrategy }
  | { config: MasqConfig; resourceVersion: string; message?: string; strategy?: RolloutStrategy };

/** PUT /api/config, POST /api/history/:resourceVersion/rollback */
export interface SaveResponse {
  resourceVersion: string;
  revision: number;
  warnings: Issue[];
  /**
   * How the saved revision rolls out: the strategy the request named, else as the server
   * decides for a save that names none (like the unfinished staged rollout, else the default
   * strategy; all at once when waves cannot run now). Null when the save reaches no node: with
   * several config sources, while they conflict (`notPushed` says why).
   */
  rollsOut: RolloutStrategy | null;
  /** Why the saved revision is not pushed; present exactly when `rollsOut` is null. */
  notPushed?: string;
}

/** The current revision in a 409 "stale resourceVersion" answer. */
export interface ConflictCurrent {
  resourceVersion: string;
  revision: number;
  yaml: string;
  /** null when their text does not parse. */
  config: MasqConfig | null;
  author: string;
  updatedAt: string;
}

export interface DestinationImpact {
  cidr: string;
  change: "no-longer-masqueraded" | "now-masqueraded";
  nodes: number;
  /**
   * With masqueradeCIDRs in either config: the entry of the new config that decides the range,
   * e.g. "masqueradeCIDRs 10.100.10.0/24" (masquerade-decision.ts).
   */
  entry?: string;
}

export interface Impact {
  nodes: number;
  destinations: DestinationImpact[];
  /**
   * Known nodes the impact was not judged on (with every replica active: those other replicas
   * hold, whose agent flags this replica does not have); absent when every node was judged.
   */
  notJudged?: { nodes: number; reason: string };
  /**
   * Judged nodes whose rules are not the old config's now (drifted, unknown, applying, offline,
   * or on another revision): the destination counts leave them out, since what changes on
   * them is not the two configs' difference; they still count in `nodes`. Absent when none.
   */
  notAsConfigured?: { nodes: number; reason: string };
}

/** POST /api/config/validate */
export interface ValidateResponse {
  ok: boolean;
  errors: Issue[];
  warnings: Issue[];
  config?: MasqConfig;
  diff: ConfigDiff;
  impact: Impact;
  /** With several sources: the merge with this candidate as the primary source's text. */
  merge?: MergedConfigView | null;
  /** With several sources: conflicts the candidate adds (saving it is refused). */
  newConflicts?: MergeConflict[];
}

/** One entry of GET /api/history. */
export interface Revision {
  resourceVersion: string;
  revision: number;
  author: string;
  /** ISO 8601. */
  time: string;
  message: string;
  yaml: string;
  /** null when the revision is invalid. */
  config: MasqConfig | null;
  valid: boolean;
  errors: Issue[];
  /** Against the next older revision. */
  diff: ConfigDiff;
  /**
   * The revision's staged rollout (the newest of `rollouts`): phase and who did what. With other
   * config sources, a rollout of a merge made from this revision.
   */
  rollout?: RevisionRollout;
  /**
   * Every staged rollout recorded of this revision, newest first: with other config sources,
   * one per merge made from it that rolled out in waves (absent when there is none).
   */
  rollouts?: RevisionRollout[];
}

/** One staged rollout of a revision (or of a merge made from it), as History shows it. */
export interface RevisionRollout {
  /** The resourceVersion it rolled out: a merge's (`<primary>+<n>@r<revision>`) with other sources. */
  resourceVersion: string;
  phase: string;
  aborted: boolean;
  /** Saved before this rollout finished: the revision that replaced it (nodes then left it). */
  supersededBy?: number;
  actions: RolloutAction[];
}

/** GET /api/history */
export interface HistoryResponse {
  revisions: Revision[];
}
