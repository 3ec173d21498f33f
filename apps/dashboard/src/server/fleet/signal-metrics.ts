// Fleet signals as metrics (both stores), then on to the Kubernetes Events recorder (if any):
// apply failures are counted by trigger, a paused rollout sets ipmasq_rollout_paused.
import type { Metrics } from "../metrics.js";
import type { FleetSignalSink, SignalRecorder } from "./signals.js";

export function signalSink(
  metrics: Pick<Metrics, "applyFailures" | "rolloutPaused">,
  events: Pick<SignalRecorder, "signal"> | undefined,
): FleetSignalSink {
  return (s) => {
    if (s.kind === "apply-failed") metrics.applyFailures.inc({ trigger: s.trigger });
    else if (s.kind === "rollout-paused") metrics.rolloutPaused.set(1);
    else if (s.kind === "rollout-resumed") metrics.rolloutPaused.set(0);
    events?.signal(s);
  };
}
