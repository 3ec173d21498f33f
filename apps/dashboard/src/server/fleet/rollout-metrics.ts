// The staged rollout's state as gauges, read from the rollout itself at scrape time (so they
// are right after a restart, a hand-over or a superseded rollout, with no signal to miss): the
// one place for "a rollout is paused" (the chart's IpMasqRolloutPaused alert and dashboard).
import { Gauge, type Registry } from "prom-client";
import type { StagedRollouts } from "./staged-rollout.js";

const PHASES = ["progressing", "paused", "healthy", "degraded"] as const;

/**
 * `ipmasq_rollout_phase{phase}` and `ipmasq_rollout_paused_by_failure`. `active`: whether this
 * replica speaks for the fleet (with leader election a standby reports no rollout: its own
 * view has no nodes, and an empty canary would read paused).
 */
export function registerRolloutMetrics(
  registry: Registry,
  staged: Pick<StagedRollouts, "view">,
  active: () => boolean = () => true,
): void {
  const view = () => (active() ? staged.view() : null);
  new Gauge({
    name: "ipmasq_rollout_phase",
    help: "1 for the phase of the current staged rollout (progressing, paused, healthy, degraded); all 0 without one",
    labelNames: ["phase"],
    registers: [registry],
    collect() {
      const phase = view()?.phase;
      for (const p of PHASES) this.set({ phase: p }, p === phase ? 1 : 0);
    },
  });
  new Gauge({
    name: "ipmasq_rollout_paused_by_failure",
    help: "1 while the current staged rollout is paused because a node failed, went offline or drifted",
    registers: [registry],
    collect() {
      this.set(view()?.pause?.kind === "failure" ? 1 : 0);
    },
  });
}
