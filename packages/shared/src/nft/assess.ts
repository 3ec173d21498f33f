// One native-nftables node judged against the config: the nat postrouting path per family
// (analysis.ts), the agent's table vs the desired one (drift.ts), and what other nat chains do
// to traffic the config leaves alone. The one way from an `nftables` snapshot to answers, for
// the CLI, the reporter and the dashboard.
import type { Family } from "../cidr.js";
import type { AgentFlags, MasqConfig } from "../config.js";
import { type Difference, type DriftReport, driftReport } from "../drift.js";
import { describeConditions, describeRef } from "../path/describe.js";
import { loopbackSourcesOnly } from "../path/loopback.js";
import { intersectSets, type RangeSet, setToCidrs } from "../path/range-set.js";
import type { PathOutcome, RuleRef } from "../path/types.js";
import type { FamilySnapshot, NftChainRef, NftSnapshot } from "../protocol.js";
import { familiesFor } from "../rules.js";
import { analyzeNftFamily, type NftFamilyAnalysis } from "./analysis.js";
import { nftTableDrift } from "./drift.js";
import { leftoverAgentChains, withIptablesHooks } from "./iptables-hooks.js";
import { parseNftJson } from "./parse.js";
import { desiredNftTable } from "./render.js";

export interface NftAssessment {
  /** Per family the agent manages. */
  families: NftFamilyAnalysis[];
  differences: Difference[];
  report: DriftReport;
  unread: NftChainRef[];
  unreadNote?: string;
}

/** The analysis of one family as a reporter read it. */
export function analyzeNftSnapshot(snap: NftSnapshot, family: Family): NftFamilyAnalysis {
  return analyzeNftFamily(parseNftJson(snap.ruleset), family, snap.unread ?? []);
}

/**
 * NAT kube-proxy applies to packets it marked itself, by design (as drift-path.ts); its nftables
 * mode tests `mark and 0x4000 == 0` and returns, so the NAT branch is that test failing.
 */
function expected(o: PathOutcome): boolean {
  return o.decidedBy?.component.id === "kube-proxy" && o.conditions.some((c) => c.field === "mark");
}

/**
 * Whether an outcome of another chain NATs pod traffic it should not be judged for: not a
 * NAT, kube-proxy's own marked packets, or the agent's own iptables chain left beside its
 * table (a backend-conflict instead).
 */
function isOtherNat(o: PathOutcome): o is PathOutcome & { decidedBy: RuleRef } {
  if (o.result !== "masquerade" && o.result !== "snat") return false;
  if (!o.decidedBy || expected(o)) return false;
  return o.decidedBy.component.id !== "ip-masq-agent";
}

/** A NAT by another chain of pod traffic to destinations in `kept` (which keep pod IP). */
function masqueradedAfter(
  o: PathOutcome & { decidedBy: RuleRef },
  family: Family,
  kept: RangeSet,
): Difference | undefined {
  const hit = intersectSets(o.destination, kept);
  if (hit.length === 0) return undefined;
  const when = describeConditions(o.conditions);
  const cidrs = setToCidrs(family, hit, 4) ?? ["several ranges"];
  return {
    kind: "masqueraded-after",
    severity: when.length === 0 ? "critical" : "warning",
    scope: family,
    message: `${describeRef(o.decidedBy)} ${o.result === "snat" ? "translates" : "masquerades"} pod traffic to ${cidrs.join(", ")}${when.length ? ` when ${when.join(" and ")}` : ""}, which the config leaves alone`,
    impact: "nat chains run one after another: the agent's return does not stop them",
    rule: o.decidedBy.text,
  };
}

/** Other nat chains that NAT pod traffic to destinations the config leaves alone. */
export function nftPathDifferences(
  fa: NftFamilyAnalysis,
  config: MasqConfig,
  flags: AgentFlags,
): Difference[] {
  const set = desiredNftTable(config, flags).sets.find((s) => s.family === fa.family);
  if (!set) return [];
  return (
    fa.hooks
      .filter((h) => !h.agent)
      .flatMap((h) => h.analysis.outcomes.filter(isOtherNat))
      // A rule only loopback sources reach (Cilium's -s 127.0.0.1 -o cilium_host) is not pod traffic.
      .filter((o) => !loopbackSourcesOnly(o.source, fa.family))
      .flatMap((o) => masqueradedAfter(o, fa.family, set.ranges) ?? [])
  );
}

/**
 * The node judged: its agent table's drift plus what other chains change. `linux`: the node's
 * iptables family snapshots, when its reporter read them too (their nat POSTROUTING is one more
 * chain on the hook; the agent's own iptables chain there is a conflict).
 */
export function assessNft(
  config: MasqConfig,
  flags: AgentFlags,
  snap: NftSnapshot | undefined,
  linux: readonly FamilySnapshot[] = [],
): NftAssessment {
  const s: NftSnapshot = snap ?? { backend: "nftables", ruleset: [] };
  const rs = parseNftJson(s.ruleset);
  const families = familiesFor(flags).map((f) =>
    withIptablesHooks(analyzeNftFamily(rs, f, s.unread ?? []), linux, flags.masqChain),
  );
  const differences = [
    ...nftTableDrift(config, flags, rs, s.readError),
    ...leftoverAgentChains(linux, flags.masqChain),
    ...families.flatMap((fa) => nftPathDifferences(fa, config, flags)),
  ];
  return {
    families,
    differences,
    report: driftReport(differences),
    unread: s.unread ?? [],
    ...(s.unreadNote ? { unreadNote: s.unreadNote } : {}),
  };
}
