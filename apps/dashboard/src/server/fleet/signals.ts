// What happened to a node, as the fleet state tells it to whoever turns it into signals
// (Kubernetes Events, metrics): structured, so no one parses timeline text.
import type { ApplyResult, Rollout } from "@masq/shared";
import type { NodeStatus } from "./node.js";

export type FleetSignal =
  /** An apply that succeeded (`changed`: it rewrote the rules). */
  | { kind: "applied"; node: string; result: ApplyResult }
  /** An apply that failed, or was never acknowledged (`error` says which). */
  | {
      kind: "apply-failed";
      node: string;
      generation: number | null;
      trigger: string;
      error: string;
    }
  /** The node's status changed (`summary`: why, in a few words). */
  | { kind: "status"; node: string; from: NodeStatus; to: NodeStatus; summary: string };

export type FleetSignalSink = (s: FleetSignal) => void;

/** Where signals go besides metrics (Kubernetes mode: kube/fleet-events.ts). */
export interface SignalRecorder {
  signal: FleetSignalSink;
  rolloutFinished(r: Rollout): void;
  /** Counts what became of each recorded signal (ipmasq_kube_events_total). */
  countResults(fn: (result: string) => void): void;
  close(): Promise<void>;
}
