// One fresh read of the node judged against the desired config, for either kind of node:
// Linux family snapshots (shared assessLinux) or the Windows CNI snapshot (shared windowsDrift,
// plus the file's read error). Also says whether an apply can heal what differs.
import {
  type AgentFlags,
  assessLinux,
  type Difference,
  type DriftReport,
  driftReport,
  type MasqConfig,
  type WindowsSnapshot,
  windowsDrift,
} from "@masq/shared";
import { isWindowsObserved, type Observed } from "./backend/types.js";

export interface ObservedAssessment {
  report: DriftReport;
  /** An apply would change something that matters (not only cosmetics or other components). */
  healable: boolean;
}

/** The differences of a Windows snapshot: an unreadable file is one critical difference. */
export function windowsDifferences(config: MasqConfig, snap: WindowsSnapshot): Difference[] {
  if (snap.readError)
    return [
      {
        kind: "unreadable",
        severity: "critical",
        scope: "windows",
        message: `could not read the CNI config: ${snap.readError}`,
        impact: "unknown: the reporter never writes a file it cannot parse",
      },
    ];
  return windowsDrift(config, snap.lists);
}

export function assessObserved(
  config: MasqConfig,
  flags: AgentFlags,
  observed: Observed,
): ObservedAssessment {
  if (isWindowsObserved(observed)) {
    const report = driftReport(windowsDifferences(config, observed));
    // A rewrite cannot add a missing policy nor fix a file it cannot parse.
    const healable =
      !observed.readError &&
      report.differences.some((d) => d.severity !== "info" && d.kind !== "policy-missing");
    return { report, healable };
  }
  const report = assessLinux(config, flags, observed).report;
  const healable = report.differences.some(
    (d) => d.severity !== "info" && d.kind !== "jump-shadowed",
  );
  return { report, healable };
}
