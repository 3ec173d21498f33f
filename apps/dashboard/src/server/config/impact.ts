// Which nodes and destinations a config change affects (the validate dry run). Built on
// the shared renderer: a node is affected when its desired chain changes, a destination
// when it moves between "returns before MASQUERADE" and "masqueraded".
import {
  type AgentFlags,
  changedRanges,
  desiredExceptions,
  type Family,
  familiesFor,
  type MasqConfig,
  mustParseCidr,
  nonMasqCidrs,
  rangesCover,
  renderRestorePayload,
  toRanges,
  usesExceptions,
} from "@masq/shared";

export interface ImpactNode {
  os: NodeOs;
  flags: AgentFlags;
  /**
   * Why the node's rules are not the old config's now ("drifted", "offline", "at revision 3",
   * …); absent when they are. Such a node is left out of the destination counts.
   */
  notAsConfigured?: string;
}

import type { DestinationImpact, Impact, NodeOs } from "@masq/shared";

function familiesOf(n: ImpactNode): Family[] {
  return n.os === "windows" ? ["ipv4"] : familiesFor(n.flags);
}

/** CIDRs of `from` (for one family) whose treatment differs under `to`. */
function moved(from: MasqConfig, to: MasqConfig, family: Family): string[] {
  const target = toRanges(nonMasqCidrs(to, family).map(mustParseCidr));
  return nonMasqCidrs(from, family)
    .map(mustParseCidr)
    .filter((c) => !rangesCover(target, c))
    .map((c) => c.canonical);
}

/**
 * With masqueradeCIDRs the first match decides, so whole CIDRs no longer say what moved: the
 * ranges decided differently, each with the new config's deciding entry.
 */
function byRange(
  before: MasqConfig,
  after: MasqConfig,
  family: Family,
  nodes: number,
): DestinationImpact[] {
  return changedRanges(before, after, family).changes.map((c) => ({
    cidr: c.cidr,
    change: c.masquerade ? "now-masqueraded" : "no-longer-masqueraded",
    nodes,
    entry: c.entry
      ? `${c.entry.list} ${c.entry.cidr.canonical}`
      : "the final MASQUERADE rule: no entry contains it",
  }));
}

function chainText(config: MasqConfig, n: ImpactNode): string {
  if (n.os === "windows") return desiredExceptions(config).join(",");
  return familiesFor(n.flags)
    .map((f) => renderRestorePayload(config, n.flags, f))
    .join("\n");
}

export function impactOf(
  before: MasqConfig | null,
  after: MasqConfig,
  nodes: readonly ImpactNode[],
): Impact {
  const destinations: DestinationImpact[] = [];
  const asConfigured = nodes.filter((n) => n.notAsConfigured === undefined);
  for (const family of ["ipv4", "ipv6"] as const) {
    const count = asConfigured.filter((n) => familiesOf(n).includes(family)).length;
    if (before) destinations.push(...familyImpact(before, after, family, count));
  }
  const impact: Impact = { nodes: affectedNodes(before, after, nodes), destinations };
  const others = notAsConfigured(nodes);
  // Only the destination counts leave them out: nothing to say when no destination moves.
  return before && others && destinations.length > 0
    ? { ...impact, notAsConfigured: others }
    : impact;
}

/** "their rules are not the current config's now (2 drifted, 1 offline)", or undefined. */
function notAsConfigured(nodes: readonly ImpactNode[]): Impact["notAsConfigured"] {
  const why = new Map<string, number>();
  for (const n of nodes)
    if (n.notAsConfigured !== undefined)
      why.set(n.notAsConfigured, (why.get(n.notAsConfigured) ?? 0) + 1);
  if (why.size === 0) return undefined;
  const parts = [...why].sort((a, b) => b[1] - a[1]).map(([w, k]) => `${k} ${w}`);
  return {
    nodes: [...why.values()].reduce((a, b) => a + b, 0),
    reason: `their rules are not the current config's now (${parts.join(", ")}), so what changes on them is not this difference: see each node's page`,
  };
}

function familyImpact(
  before: MasqConfig,
  after: MasqConfig,
  family: Family,
  count: number,
): DestinationImpact[] {
  if (usesExceptions(before) || usesExceptions(after)) return byRange(before, after, family, count);
  return [
    ...unique(moved(after, before, family)).map((cidr) => ({
      cidr,
      change: "no-longer-masqueraded" as const,
      nodes: count,
    })),
    ...unique(moved(before, after, family)).map((cidr) => ({
      cidr,
      change: "now-masqueraded" as const,
      nodes: count,
    })),
  ];
}

/** Nodes whose rules change. Nodes share flags in practice: render once per distinct (os, flags). */
function affectedNodes(
  before: MasqConfig | null,
  after: MasqConfig,
  nodes: readonly ImpactNode[],
): number {
  const verdicts = new Map<string, boolean>();
  let affected = 0;
  for (const n of nodes) {
    const key = `${n.os}|${JSON.stringify(n.flags)}`;
    let changes = verdicts.get(key);
    if (changes === undefined) {
      changes = !before || chainText(before, n) !== chainText(after, n);
      verdicts.set(key, changes);
    }
    if (changes) affected++;
  }
  return affected;
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
