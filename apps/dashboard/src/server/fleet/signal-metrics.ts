// Fleet signals as metrics (both stores), then on to the Kubernetes Events recorder (if any):
// apply failures are counted by trigger. A paused rollout is no counter: the rollout's gauges
// (rollout-metrics.ts) read its state at scrape time.
import type { Metrics } from "../metrics.js";
import type { FleetSignalSink, SignalRecorder } from "./signals.js";

export function signalSink(
  metrics: Pick<Metrics, "applyFailures">,
  events: Pick<SignalRecorder, "signal"> | undefined,
): FleetSignalSink {
  return (s) => {
    if (s.kind === "apply-failed") metrics.applyFailures.inc({ trigger: s.trigger });
    events?.signal(s);
  };
}
