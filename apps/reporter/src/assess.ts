// One fresh read of the node judged against the desired config, for either kind of node:
// Linux family snapshots (shared assessLinux) or the Windows CNI snapshot (shared
// assessWindows). Also says whether an apply can heal what differs.
import {
  type AgentFlags,
  assessLinux,
  assessWindows,
  type DriftReport,
  type MasqConfig,
} from "@masq/shared";
import { assessNftObserved } from "./backend/nft-assess.js";
import { isNftObserved, isWindowsObserved, type Observed } from "./backend/types.js";

export interface ObservedAssessment {
  report: DriftReport;
  /** An apply would change something that matters (not only cosmetics or other components). */
  healable: boolean;
}

export function assessObserved(
  config: MasqConfig,
  flags: AgentFlags,
  observed: Observed,
): ObservedAssessment {
  if (isWindowsObserved(observed)) {
    const report = assessWindows(config, observed).report;
    // A rewrite cannot add a missing policy, split a list mixing families (it keeps the IPv6
    // entries) nor fix a file it cannot parse.
    const healable =
      !observed.readError &&
      report.differences.some(
        (d) => d.severity !== "info" && d.kind !== "policy-missing" && d.kind !== "mixed-families",
      );
    return { report, healable };
  }
  if (isNftObserved(observed)) return assessNftObserved(config, flags, observed);
  const report = assessLinux(config, flags, observed).report;
  // Other components' rules, and the agent chain in the backend it does not write, are reported
  // but never healed by a write.
  const healable = report.differences.some(
    (d) => d.severity !== "info" && d.kind !== "jump-shadowed" && d.kind !== "backend-conflict",
  );
  return { report, healable };
}
