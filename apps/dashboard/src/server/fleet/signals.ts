// What happened to a node or a rollout, as the fleet state tells it to whoever turns it into
// signals (Kubernetes Events, metrics): structured, so no one parses timeline text.
import type { ApplyResult, NodeStatus } from "@masq/shared";

export type FleetSignal =
  /** An apply that succeeded (`changed`: it rewrote the rules). */
  | { kind: "applied"; node: string; result: ApplyResult }
  /** An apply that failed, or was never acknowledged (`error` says which). */
  | {
      kind: "apply-failed";
      node: string;
      revision: number | null;
      trigger: ApplyResult["trigger"];
      error: string;
    }
  /**
   * An apply of the revision the node already ran changed its rules back: a drift not seen
   * live (while the dashboard did not hear from it, or between two reads), or its reporter
   * healed it while no dashboard heard (`unheard-heals`; revision null: a mounted config's).
   * `message`: what is known of it, as its timeline says it (event-texts.ts).
   */
  | { kind: "drift-healed"; node: string; revision: number | null; message: string }
  /** The node's status changed (`summary`: why, in a few words). */
  | { kind: "status"; node: string; from: NodeStatus; to: NodeStatus; summary: string }
  /**
   * A staged rollout paused itself (the rollout code's pause hook): `reason` is its cause in a
   * word or two ("apply failed", "node offline"), `message` what the operator should know,
   * `nodes` the nodes that caused it. Records a RolloutPaused Event on the ConfigMap and those
   * Nodes (the gauges read the rollout itself: rollout-metrics.ts).
   */
  | {
      kind: "rollout-paused";
      rollout: RolloutRef;
      reason: string;
      message: string;
      nodes: string[];
    }
  /** The paused rollout goes on, or ended (promoted, aborted, finished, superseded). */
  | { kind: "rollout-resumed"; rollout: RolloutRef };

/** The rollout as far as its signals need it (the shared Rollout type fits). */
export interface RolloutRef {
  revision: number;
  resourceVersion?: string;
  total?: number;
  done?: number;
  failed?: number;
  /**
   * With every replica active: the replica whose nodes `total`/`done`/`failed` count (each
   * replica counts the nodes it holds; the others' arrive later through their NodeMasquerades).
   */
  heldBy?: string;
}

export type FleetSignalSink = (s: FleetSignal) => void;

/** Where signals go besides metrics (Kubernetes mode: kube/fleet-events.ts). */
export interface SignalRecorder {
  signal: FleetSignalSink;
  rolloutFinished(r: RolloutRef): void;
  /** Counts what became of each recorded signal (ipmasq_kube_events_total). */
  countResults(fn: (result: string) => void): void;
  /** Told each wait (ms) of a write for the Event rate limit (ipmasq_kube_event_wait_seconds_total). */
  countWaits?(fn: (ms: number) => void): void;
  /** Events waiting to be written now (ipmasq_kube_events_queued). */
  queued?(): number;
  close(): Promise<void>;
}
