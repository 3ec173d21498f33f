// Which nodes and destinations a config change affects (the validate dry run). Built on
// the shared renderer: a node is affected when its desired chain changes, a destination
// when it moves between "returns before MASQUERADE" and "masqueraded".
import {
  type AgentFlags,
  desiredExceptions,
  type Family,
  familiesFor,
  type MasqConfig,
  mustParseCidr,
  nonMasqCidrs,
  rangesCover,
  renderRestorePayload,
  toRanges,
} from "@masq/shared";

export interface ImpactNode {
  os: NodeOs;
  flags: AgentFlags;
}

import type { DestinationImpact, Impact, NodeOs } from "@masq/shared";

export type { DestinationImpact, Impact };

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
  for (const family of ["ipv4", "ipv6"] as const) {
    const count = nodes.filter((n) => familiesOf(n).includes(family)).length;
    if (!before) continue;
    for (const cidr of unique(moved(after, before, family)))
      destinations.push({ cidr, change: "no-longer-masqueraded", nodes: count });
    for (const cidr of unique(moved(before, after, family)))
      destinations.push({ cidr, change: "now-masqueraded", nodes: count });
  }
  // Nodes share flags in practice: render once per distinct (os, flags).
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
  return { nodes: affected, destinations };
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
