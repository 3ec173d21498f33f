// One node's state judged against the desired config: analysis and drift per family (Linux),
// or the CNI config's exception lists (Windows). Shared by the CLI (`ipmasq drift`), the
// reporter and the dashboard. A Linux family may come from two iptables backends: the agent's
// chain is judged where it is, and the same chain acting in the other backend is a conflict.

import { BACKEND_LABELS } from "./analysis/backend-labels.js";
import { type CombinedVerdict, evaluateAcrossBackends } from "./analysis/backends.js";
import { evaluate, type PacketFields, type Verdict } from "./analysis/evaluate.js";
import { analyzeRuleset } from "./analysis/ruleset.js";
import type { FamilyAnalysis } from "./analysis/types.js";
import type { AssessCache } from "./assess-cache.js";
import type { Family } from "./cidr.js";
import { desiredExceptions } from "./cni/desired.js";
import { windowsDrift } from "./cni/drift.js";
import type { AgentFlags, MasqConfig } from "./config.js";
import { computeDrift, type Difference, type DriftReport, driftReport } from "./drift.js";
import { otherBackendPathDifferences } from "./drift-path.js";
import { parseIptables } from "./parser.js";
import type { FamilySnapshot, IptablesBackend, WindowsSnapshot } from "./protocol.js";
import { type DesiredChain, desiredChain, familiesFor, NAT_TABLE } from "./rules.js";
import { chainLines, snapshotText } from "./snapshot.js";

export interface FamilyAssessment {
  desired: DesiredChain;
  observed: FamilyAnalysis;
  differences: Difference[];
  /** The backend whose rules were judged (absent when nothing was reported). */
  backend?: IptablesBackend;
  /** Chains on the path the reporter did not read; answers about packets reaching them are unknown. */
  unread: string[];
  /** Why they (or more) were not read. */
  unreadNote?: string;
}

export interface LinuxAssessment {
  families: FamilyAssessment[];
  report: DriftReport;
}

export { BACKEND_LABELS };

/**
 * The analysis of one family as a reporter read it: every chain of the snapshot, parsed once
 * (with `cache`, each distinct chain text once for every node judged with it: the same answer).
 */
export function analyzeSnapshot(
  snap: FamilySnapshot,
  chain: string,
  cache?: AssessCache,
): FamilyAnalysis {
  const { ruleset, errors } = cache
    ? cache.chains.parse(snap)
    : parseIptables(snapshotText(snap), NAT_TABLE);
  const a = analyzeRuleset(ruleset, snap.family, chain, {
    backend: snap.backend,
    ...(snap.unread ? { unread: snap.unread } : {}),
    ...(cache ? { summaries: cache.summaries } : {}),
  });
  a.errors = errors;
  return a;
}

/** desiredChain, from `cache` when one is given. */
function desiredOf(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
  cache: AssessCache | undefined,
): DesiredChain {
  return cache ? cache.desired(config, flags, family) : desiredChain(config, flags, family);
}

/**
 * One family judged; a missing snapshot is an empty node, a read error one more difference.
 * `cache` (shared by every node judged) changes the cost, never the answer.
 */
export function assessFamily(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
  snap: FamilySnapshot | undefined,
  cache?: AssessCache,
): FamilyAssessment {
  const desired = desiredOf(config, flags, family, cache);
  const observed = analyzeSnapshot(
    snap ?? { family, backend: "nf_tables", chains: [] },
    flags.masqChain,
    cache,
  );
  const differences = computeDrift(desired, observed);
  if (snap?.readError)
    differences.unshift({
      kind: "unreadable",
      severity: "critical",
      scope: family,
      message: `could not read rules: ${snap.readError}`,
    });
  return {
    desired,
    observed,
    differences,
    ...(snap ? { backend: snap.backend } : {}),
    unread: snap?.unread ?? [],
    ...(snap?.unreadNote ? { unreadNote: snap.unreadNote } : {}),
  };
}

/** What the agent's chain in another backend means: both act on packets, or a leftover. */
function otherBackendDifferences(
  config: MasqConfig,
  flags: AgentFlags,
  judged: FamilySnapshot,
  other: FamilySnapshot,
  cache: AssessCache | undefined,
): Difference[] {
  const chain = flags.masqChain;
  const scope = other.family;
  const where = BACKEND_LABELS[other.backend];
  if (other.readError)
    return [
      {
        kind: "unreadable",
        severity: "critical",
        scope,
        message: `could not read the ${where} rules: ${other.readError}`,
        impact: `unknown: ${where} also acts on packets in nat POSTROUTING`,
      },
    ];
  if (chainLines(other, chain) == null)
    return otherBackendPathDifferences(
      desiredOf(config, flags, other.family, cache),
      analyzeSnapshot(other, chain, cache),
      where,
    );
  const jumped = analyzeSnapshot(other, chain, cache).jumps.length > 0;
  const both = `${chain} exists in both ${BACKEND_LABELS[judged.backend]} and ${where}`;
  return [
    jumped
      ? {
          kind: "backend-conflict",
          severity: "critical",
          scope,
          message: `${both}, and POSTROUTING jumps to it in both`,
          impact: `both chains act on packets: a packet one of them lets go unchanged is still masqueraded by the other, so traffic is masqueraded when either chain masquerades it; remove the ${where} chain and its jump`,
        }
      : {
          kind: "backend-conflict",
          severity: "warning",
          scope,
          message: `${both}; ${where} POSTROUTING does not jump to it`,
          impact: `no effect on traffic today, but a jump added in ${where} would make both chains act on packets`,
        },
  ];
}

/**
 * One family from every backend that reported it (the backend the reporter writes to first):
 * the agent chain is judged in the first backend that has it, every other backend is checked
 * for a second copy acting on the same packets.
 */
export function assessFamilySnapshots(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
  snaps: readonly FamilySnapshot[],
  cache?: AssessCache,
): FamilyAssessment {
  const chain = flags.masqChain;
  const judged = snaps.find((s) => chainLines(s, chain) != null) ?? snaps[0];
  const a = assessFamily(config, flags, family, judged, cache);
  for (const other of snaps) {
    if (other === judged || !judged) continue;
    a.differences.push(...otherBackendDifferences(config, flags, judged, other, cache));
  }
  return a;
}

/**
 * Judges the snapshots a reporter read (per family, one per backend holding rules). With
 * `cache`, what many nodes share is computed once for all (assess-cache.ts); the answer is the
 * same as without, and its parts may be shared with other nodes' answers: read only.
 */
export function assessLinux(
  config: MasqConfig,
  flags: AgentFlags,
  snapshots: readonly FamilySnapshot[],
  cache?: AssessCache,
): LinuxAssessment {
  const families = familiesFor(flags).map((family) =>
    assessFamilySnapshots(
      config,
      flags,
      family,
      snapshots.filter((s) => s.family === family),
      cache,
    ),
  );
  return { families, report: driftReport(families.flatMap((f) => f.differences)) };
}

/**
 * Would pod traffic to `ip` be masqueraded, judging every backend's snapshot of its family
 * (both act on the same packets: analysis/backends.ts)?
 */
export function evaluateSnapshots(
  snaps: readonly FamilySnapshot[],
  chain: string,
  ip: string,
  fields: PacketFields = {},
): Verdict | CombinedVerdict | { error: string } {
  const analyses = snaps.map((s) => analyzeSnapshot(s, chain));
  if (analyses.length === 0) return { error: "no rules were read" };
  return analyses.length === 1
    ? evaluate(analyses[0]!, ip, fields)
    : evaluateAcrossBackends(analyses, ip, fields);
}

export interface WindowsAssessment {
  /** Most severe first (the same list as `report.differences`). */
  differences: Difference[];
  report: DriftReport;
  /** The ExceptionList the config wants. */
  desired: string[];
}

/**
 * Judges the CNI config a Windows reporter read against the desired config. A file it could not
 * read or parse is one critical difference: its lists are unknown, so nothing else is judged.
 */
export function assessWindows(config: MasqConfig, snapshot: WindowsSnapshot): WindowsAssessment {
  const report = driftReport(
    snapshot.readError
      ? [
          {
            kind: "unreadable",
            severity: "critical",
            scope: "windows",
            message: `could not read the CNI config: ${snapshot.readError}`,
            impact: "unknown: the reporter never writes a file it cannot parse",
          },
        ]
      : windowsDrift(config, snapshot.lists),
  );
  return { differences: report.differences, report, desired: desiredExceptions(config) };
}
