import type { StagedRolloutView } from "@masq/shared";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { registerRolloutMetrics } from "./rollout-metrics.js";

async function sample(registry: Registry) {
  const out: Record<string, number> = {};
  for (const m of await registry.getMetricsAsJSON())
    for (const v of m.values) {
      const phase = (v.labels as { phase?: string }).phase;
      out[phase ? `${m.name}{${phase}}` : m.name] = v.value;
    }
  return out;
}

const view = (over: Partial<StagedRolloutView>) => over as StagedRolloutView;
const zero = {
  "ipmasq_rollout_phase{progressing}": 0,
  "ipmasq_rollout_phase{paused}": 0,
  "ipmasq_rollout_phase{healthy}": 0,
  "ipmasq_rollout_phase{degraded}": 0,
  ipmasq_rollout_paused_by_failure: 0,
};

describe("rollout gauges, read from the rollout at scrape time", () => {
  const tests: {
    desc: string;
    input: { view: StagedRolloutView | null; active: boolean };
    want: Record<string, number>;
  }[] = [
    { desc: "no staged rollout: all 0", input: { view: null, active: true }, want: zero },
    {
      desc: "paused for a promote",
      input: { view: view({ phase: "paused", pause: { kind: "manual" } }), active: true },
      want: { ...zero, "ipmasq_rollout_phase{paused}": 1 },
    },
    {
      desc: "paused by a node's failure",
      input: {
        view: view({ phase: "paused", pause: { kind: "failure", reason: "a failed" } }),
        active: true,
      },
      want: { ...zero, "ipmasq_rollout_phase{paused}": 1, ipmasq_rollout_paused_by_failure: 1 },
    },
    {
      desc: "a standby replica (leader election) speaks for no rollout",
      input: { view: view({ phase: "paused", pause: { kind: "manual" } }), active: false },
      want: zero,
    },
  ];
  it.each(tests)("$desc", async ({ input, want }) => {
    const registry = new Registry();
    registerRolloutMetrics(registry, { view: () => input.view }, () => input.active);
    expect(await sample(registry)).toEqual(want);
  });
});
