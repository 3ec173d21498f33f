// The merged config as the API shows it (MergedConfigView): every source with its state, every
// CIDR with the sources listing it, the conflicts. Built from the config service's state.
import {
  type ConfigSource,
  type MergedConfigView,
  type MergeResult,
  type SourceSummary,
  sourceId,
  sourceLabel,
} from "@masq/shared";
import type { ExtraSource, SourceSet } from "../store/sources.js";
import type { ConfigRevision } from "../store/types.js";
import type { MergeView } from "./merged-desired.js";

const same = (a: ConfigSource, b: ConfigSource) => sourceId(a) === sourceId(b);

function summary(
  source: ConfigSource,
  meta: Pick<ExtraSource, "resourceVersion" | "author" | "updatedAt">,
  sources: SourceSet,
  merge: MergeResult,
  problems: ReadonlyMap<string, string> | undefined,
): SourceSummary {
  const primary = same(source, sources.primary);
  const invalid = merge.conflicts.some(
    (c) => c.kind === "invalid-source" && same(c.source, source),
  );
  const problem = problems?.get(sourceId(source));
  return {
    source,
    id: sourceId(source),
    label: sourceLabel(source),
    primary,
    editable: primary || sources.editable(source),
    resourceVersion: meta.resourceVersion,
    author: meta.author,
    updatedAt: meta.updatedAt,
    valid: !invalid,
    ...(problem ? { problem } : {}),
  };
}

/** The view of a merge of the primary revision `rev` with `extras`. */
export function mergedView(
  merge: MergeResult,
  rev: ConfigRevision,
  extras: readonly ExtraSource[],
  sources: SourceSet,
  held?: string,
): MergedConfigView {
  const problems = sources.status().sourceProblems;
  return {
    sources: [
      summary(sources.primary, rev, sources, merge, problems),
      ...extras.map((e) => summary(e.source, e, sources, merge, problems)),
    ],
    config: merge.config,
    pushable: merge.ok && !held,
    held: held ?? null,
    cidrs: merge.cidrs,
    scalars: merge.scalars,
    conflicts: merge.conflicts,
    warnings: merge.warnings,
  };
}

/** The current merge's view, or null while the primary source is alone. */
export function currentMergedView(config: {
  sources?: SourceSet;
  current(): { rev: ConfigRevision; merge?: MergeView | null };
}): MergedConfigView | null {
  const state = config.current();
  if (!config.sources || !state.merge) return null;
  const { result, extras, held } = state.merge;
  return mergedView(result, state.rev, extras, config.sources, held);
}

/**
 * The sentence for nodes in observe mode: upstream ip-masq-agent reads one ConfigMap key, so
 * the other sources are drift beside it; ip-masq-agent-v2 merges them as the dashboard does.
 */
export function observeWarning(view: MergedConfigView, observeNodes: number): string | null {
  if (observeNodes === 0 || view.sources.length < 2) return null;
  const primary = view.sources.find((s) => s.primary)?.label ?? "the ip-masq-agent ConfigMap";
  const n = observeNodes === 1 ? "1 node is" : `${observeNodes} nodes are`;
  return `${n} in observe mode beside an agent the dashboard does not control. Upstream ip-masq-agent reads only ${primary}: there the CIDRs and settings of the other ${view.sources.length - 1} source(s) show as drift, and a resync cannot heal it. ip-masq-agent-v2 (AKS) merges its ip-masq* files as the dashboard does. Beside upstream ip-masq-agent, keep the config in ${primary} alone, or switch those nodes to enforce mode.`;
}
