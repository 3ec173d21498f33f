// What judging many nodes against one config can compute once instead of per node: each
// distinct chain text parsed once (chain-parse-cache.ts), the agent chain's summary once per
// parsed chain, and the desired chain once per (config, flags, family). Pass one AssessCache to
// assessLinux for every node a process judges; without one, assessLinux computes everything for
// the node alone (the reference the cached path is tested against: assess-cache.test.ts).
import type { ChainSummary } from "./analysis/chain.js";
import { ChainParseCache, type ChainParseCacheLimits } from "./chain-parse-cache.js";
import type { Family } from "./cidr.js";
import type { AgentFlags, MasqConfig } from "./config.js";
import type { ParsedRule } from "./parser.js";
import { type DesiredChain, desiredChain } from "./rules.js";

/** Distinct (config, flags, family) desired chains kept: a handful of revisions and flag sets. */
export const MAX_DESIRED_CHAINS = 64;

/**
 * Caches shared by every node judged with it. Everything it hands out is shared between nodes
 * and must not be mutated (the analysis and drift only read it). Bounded: the parse cache in
 * entries and characters, desired chains in entries, summaries by the parsed chains alive.
 */
export class AssessCache {
  readonly chains: ChainParseCache;
  /** The agent chain's summary per parsed rules array (held by the parse cache) and family. */
  readonly summaries = new WeakMap<readonly ParsedRule[], Map<Family, ChainSummary>>();
  private readonly desiredChains = new Map<string, DesiredChain>();

  constructor(limits: Partial<ChainParseCacheLimits> = {}) {
    this.chains = new ChainParseCache(limits);
  }

  /**
   * desiredChain(config, flags, family), computed once per distinct content of the three (keyed
   * by their JSON, so an edited config object is never answered from before its edit). Throws
   * as desiredChain does.
   */
  desired(config: MasqConfig, flags: AgentFlags, family: Family): DesiredChain {
    const key = JSON.stringify([config, flags, family]);
    const hit = this.desiredChains.get(key);
    if (hit) return hit;
    const d = desiredChain(config, flags, family);
    if (this.desiredChains.size >= MAX_DESIRED_CHAINS)
      this.desiredChains.delete(this.desiredChains.keys().next().value!);
    this.desiredChains.set(key, d);
    return d;
  }
}
