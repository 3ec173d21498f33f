// One node's state judged against the desired config: analysis and drift per family (Linux),
// or the CNI config's exception lists (Windows). Shared by the CLI (`ipmasq drift`), the
// reporter and the dashboard.
import { analyzeFamily, type FamilyAnalysis } from "./analysis.js";
import type { Family } from "./cidr.js";
import { desiredExceptions, windowsDrift } from "./cni/index.js";
import type { AgentFlags, MasqConfig } from "./config.js";
import { computeDrift, type Difference, type DriftReport, driftReport } from "./drift.js";
import type { FamilySnapshot, WindowsSnapshot } from "./protocol.js";
import { type DesiredChain, desiredChain, familiesFor } from "./rules.js";

export interface FamilyAssessment {
  desired: DesiredChain;
  observed: FamilyAnalysis;
  differences: Difference[];
}

export interface LinuxAssessment {
  families: FamilyAssessment[];
  report: DriftReport;
}

/** The analysis of one family as a reporter read it (`-S CHAIN` and `-S POSTROUTING` lines). */
export function analyzeSnapshot(snap: FamilySnapshot, chain: string): FamilyAnalysis {
  return analyzeFamily({
    family: snap.family,
    chain,
    chainText: snap.chain === null ? null : snap.chain.join("\n"),
    postroutingText: snap.postrouting.join("\n"),
  });
}

/** One family judged; a missing snapshot is an empty node, a read error one more difference. */
export function assessFamily(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
  snap: FamilySnapshot | undefined,
): FamilyAssessment {
  const desired = desiredChain(config, flags, family);
  const observed = analyzeSnapshot(
    snap ?? { family, chain: null, postrouting: [] },
    flags.masqChain,
  );
  const differences = computeDrift(desired, observed);
  if (snap?.readError)
    differences.unshift({
      kind: "unreadable",
      severity: "critical",
      scope: family,
      message: `could not read rules: ${snap.readError}`,
    });
  return { desired, observed, differences };
}

/** Judges the snapshots a reporter read (one per family) against the desired config. */
export function assessLinux(
  config: MasqConfig,
  flags: AgentFlags,
  snapshots: readonly FamilySnapshot[],
): LinuxAssessment {
  const families = familiesFor(flags).map((family) =>
    assessFamily(
      config,
      flags,
      family,
      snapshots.find((s) => s.family === family),
    ),
  );
  return { families, report: driftReport(families.flatMap((f) => f.differences)) };
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
