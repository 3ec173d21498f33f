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
import type { ConfigRevision, ConfigStore } from "../store/types.js";
import { RevisionCache } from "./revision-cache.js";
import { WorkQueue } from "./work-queue.js";

/** Config checks that may wait behind the running one before requests are refused (503). */
const MAX_WAITING_CHECKS = 16;

export interface Desired {
  generation: number;
  revision: string;
  config: MasqConfig;
  /** Who saved the revision (for node timelines). */
  author?: string;
}

export interface ConfigState {
  rev: ConfigRevision;
  result: ConfigResult;
  /** The config nodes enforce: the current one when valid, else the last valid revision. */
  desired: Desired | null;
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

  constructor(
    readonly store: ConfigStore,
    readonly flags: AgentFlags,
  ) {
    this.revisions = new RevisionCache((text) => parseConfigText(text, flags));
  }

  async start(): Promise<void> {
    this.store.onChange((rev) => this.update(rev));
    await this.store.start();
    const rev = this.store.current();
    const result = this.revisions.get(rev);
    // Started on an invalid config (edited while we were down): enforce the last valid one.
    const desired = result.ok ? toDesired(rev, result.config) : await this.lastValid();
    this.state = { rev, result, desired };
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
    if (previous && previous.rev.revision === rev.revision) return;
    const result = this.revisions.get(rev);
    const desired = result.ok ? toDesired(rev, result.config) : (previous?.desired ?? null);
    this.state = { rev, result, desired };
    for (const fn of this.listeners) fn(this.state, previous);
  }

  /** A stored revision as nodes would enforce it; null when gone from the history or invalid. */
  async desiredOfRevision(revision: string): Promise<Desired | null> {
    const rev = (await this.store.history()).find((r) => r.revision === revision);
    const r = rev && this.revisions.get(rev);
    return rev && r?.ok ? toDesired(rev, r.config) : null;
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
  return { generation: rev.generation, revision: rev.revision, config, author: rev.author };
}
