// A fresh read judged against the desired config: the drift metrics, and one log line per new
// drift (the same drift seen again at every poll is not logged again).
import type { AgentFlags, DriftReport, HealPolicy, MasqConfig, Mode } from "@masq/shared";
import { assessObserved } from "../assess.js";
import type { Observed } from "../backend/types.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { type Heal, HealSpotter } from "./heal-spotter.js";

export class DriftJudge {
  private lastSummary = "";
  /** Which applies heal the drift judged here (told to `onHeal`). */
  readonly heals: HealSpotter;

  private readonly m: Metrics | undefined;
  /** How drift is healed, for the log line. */
  private readonly healNote: string;

  constructor(
    private readonly log: Logger,
    o: { metrics?: Metrics; mode: Mode; heal: HealPolicy; onHeal?: (heal: Heal) => void },
  ) {
    this.heals = new HealSpotter(o.onHeal, () => this.summary());
    this.m = o.metrics;
    this.healNote = o.mode === "enforce" ? o.heal : "never (observe)";
  }

  /** What differs by the last read judged, null when it was in sync (or none was judged). */
  summary(): string | null {
    return this.lastSummary === "" ? null : this.lastSummary;
  }

  /** Nothing to judge against yet (no config, or flags not read). */
  unknown(): void {
    this.lastSummary = "";
    this.m?.drifted.set(-1);
  }

  /** The report, and whether a rewrite can heal what differs. */
  judge(
    config: MasqConfig,
    flags: AgentFlags,
    observed: Observed,
  ): { report: DriftReport; healable: boolean } {
    const { report, healable } = assessObserved(config, flags, observed);
    const m = this.m;
    for (const s of ["critical", "warning", "info"] as const)
      m?.differences.set(
        { severity: s },
        report.differences.filter((d) => d.severity === s).length,
      );
    m?.drifted.set(report.status === "drifted" ? 1 : 0);
    if (report.status === "in-sync") m?.lastSync.set(Date.now() / 1000);
    else if (report.summary !== this.lastSummary)
      this.log.warn({ summary: report.summary, heal: this.healNote }, "drift detected");
    this.lastSummary = report.status === "in-sync" ? "" : report.summary;
    return { report, healable };
  }
}
