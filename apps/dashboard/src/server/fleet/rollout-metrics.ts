// Staged rollout gauges for alerts (a PrometheusRule "rollout paused"): read at scrape time.
import { Gauge, type Registry } from "prom-client";
import type { StagedRollouts } from "./staged-rollout.js";

const PHASES = ["progressing", "paused", "healthy", "degraded"] as const;

export function registerRolloutMetrics(registry: Registry, staged: StagedRollouts): void {
  new Gauge({
    name: "ipmasq_rollout_phase",
    help: "1 for the phase of the current staged rollout (progressing, paused, healthy, degraded); all 0 without one",
    labelNames: ["phase"],
    registers: [registry],
    collect() {
      const phase = staged.view()?.phase;
      for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: "ipmasq_rollout_paused_by_failure",
    help: "1 while the current staged rollout is paused because a node failed, went offline or drifted",
    registers: [registry],
    collect() {
      this.set(staged.view()?.pause?.kind === "failure" ? 1 : 0);
    },
  });
}
