import { describe, expect, it } from "vitest";
import { createMetrics } from "../metrics.js";
import { signalSink } from "./signal-metrics.js";
import type { FleetSignal } from "./signals.js";

const rollout = { revision: 4, resourceVersion: "812" };

async function sample(metrics: ReturnType<typeof createMetrics>, name: string) {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  return m?.values.map((v) => ({ labels: v.labels, value: v.value }));
}

describe("signalSink", () => {
  const cases: {
    desc: string;
    input: FleetSignal[];
    want: { paused: number; failures: unknown };
  }[] = [
    {
      desc: "a paused rollout sets the gauge",
      input: [{ kind: "rollout-paused", rollout, reason: "apply failed", message: "m", nodes: [] }],
      want: { paused: 1, failures: [] },
    },
    {
      desc: "resumed (or ended) puts it back to 0",
      input: [
        { kind: "rollout-paused", rollout, reason: "apply failed", message: "m", nodes: [] },
        { kind: "rollout-resumed", rollout },
      ],
      want: { paused: 0, failures: [] },
    },
    {
      desc: "apply failures are counted by trigger",
      input: [
        { kind: "apply-failed", node: "a", revision: 3, trigger: "desired", error: "x" },
        { kind: "apply-failed", node: "b", revision: 3, trigger: "desired", error: "x" },
        { kind: "apply-failed", node: "a", revision: null, trigger: "resync", error: "timeout" },
      ],
      want: {
        paused: 0,
        failures: [
          { labels: { trigger: "desired" }, value: 2 },
          { labels: { trigger: "resync" }, value: 1 },
        ],
      },
    },
  ];
  it.each(cases)("$desc; every signal goes on to the recorder", async ({ input, want }) => {
    const metrics = createMetrics({ defaultMetrics: false });
    const passed: FleetSignal[] = [];
    const sink = signalSink(metrics, { signal: (s) => passed.push(s) });
    for (const s of input) sink(s);
    expect(passed).toEqual(input);
    expect(await sample(metrics, "ipmasq_rollout_paused")).toEqual([
      { labels: {}, value: want.paused },
    ]);
    expect(await sample(metrics, "ipmasq_apply_failures_total")).toEqual(want.failures);
  });
});
