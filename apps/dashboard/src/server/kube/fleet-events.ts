// Kubernetes mode: what happens to nodes becomes core/v1 Events, so `kubectl describe node`
// and `kubectl get events` show it. On the Node (referred to as kubelet refers to its node:
// kind Node, name, uid = the name): Applied (the rules were rewritten), ApplyFailed, Drifted
// (also a drift not seen live, told by the apply that changed it back), Healed, RolloutPaused.
// On the config ConfigMap: a finished rollout (Applied), each node's ApplyFailed / Drifted /
// Healed naming the node, RolloutPaused. Rate limiting and aggregation
// are the recorder's (kubelet's rules), so a fleet-wide drift cannot flood the API server.
import type { V1ObjectReference } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { applyWhat } from "../fleet/event-texts.js";
import type { FleetSignal, RolloutRef, SignalRecorder } from "../fleet/signals.js";
import type { KubeClients, ObjectRef } from "./client.js";
import { Lru } from "./event-correlator.js";
import type { EventType, KubeEventRecorder } from "./event-recorder.js";

/** How long the ConfigMap's uid is trusted before it is read again (it changes when recreated). */
const UID_TTL_MS = 60_000;

export class FleetEvents implements SignalRecorder {
  /** Nodes last seen drifted, so that coming back in sync is a Healed event (bounded). */
  private readonly drifted = new Lru<true>(16_384);
  private uid: { value?: string; at: number } | undefined;

  constructor(
    private readonly recorder: Pick<
      KubeEventRecorder,
      "record" | "close" | "onResult" | "onWait" | "queued"
    >,
    private readonly clients: KubeClients,
    private readonly configMap: ObjectRef,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  countResults(fn: (result: string) => void): void {
    this.recorder.onResult = fn;
  }

  countWaits(fn: (ms: number) => void): void {
    this.recorder.onWait = fn;
  }

  queued(): number {
    return this.recorder.queued;
  }

  close(): Promise<void> {
    return this.recorder.close();
  }

  /** A fleet signal (FleetState's onSignal). */
  readonly signal = (s: FleetSignal): void => {
    switch (s.kind) {
      case "applied":
        this.applied(s);
        break;
      case "apply-failed": {
        const what = applyWhat(s.trigger, s.revision);
        this.both(s.node, "Warning", "ApplyFailed", `${what} failed: ${s.error}`);
        break;
      }
      case "status":
        this.statusChanged(s);
        break;
      case "drift-healed":
        // Drifted as a drift seen live is, and already back in sync: no Healed to wait for.
        this.both(s.node, "Warning", "Drifted", s.message);
        break;
      case "rollout-paused":
        this.rolloutPaused(s.rollout, s.reason, s.message, s.nodes);
        break;
      case "rollout-resumed":
        break; // nothing to record: the rollout's own events say what came next
    }
  };

  /** Applied on the Node when an apply rewrote its rules (a no-op apply is not news). */
  private applied(s: Extract<FleetSignal, { kind: "applied" }>): void {
    if (!s.result.changed) return;
    const what = applyWhat(s.result.trigger, s.result.revision);
    // No duration in the text: identical messages are what lets repeats be counted.
    this.node(s.node, "Normal", "Applied", `${what} rewrote the masquerade rules`);
  }

  /**
   * Drifted when a node starts to differ (not again when a drifted node reconnects still
   * drifted); Healed when a node seen drifted is in sync again.
   */
  private statusChanged(s: Extract<FleetSignal, { kind: "status" }>): void {
    if (s.to === "drifted" && !this.drifted.get(s.node)) {
      this.drifted.set(s.node, true);
      this.both(s.node, "Warning", "Drifted", `the rules differ from the config: ${s.summary}`);
    } else if (s.to === "in-sync" && this.drifted.get(s.node)) {
      this.drifted.delete(s.node);
      const more = s.summary === "in sync" ? "" : ` (${s.summary})`;
      this.both(s.node, "Normal", "Healed", `the rules match the config again${more}`);
    }
  }

  /** A rollout whose every target applied or failed. */
  rolloutFinished(r: RolloutRef): void {
    const failed = r.failed ? `, ${r.failed} failed` : "";
    const held = r.heldBy ? ` held by replica ${r.heldBy}` : "";
    const counts =
      r.total === undefined
        ? ""
        : ` on ${r.done ?? 0} of ${r.total} node${r.total === 1 ? "" : "s"}${held}${failed}`;
    this.record(
      () => this.configMapRef(),
      r.failed ? "Warning" : "Normal",
      "Applied",
      `revision ${r.revision}${rev(r)} applied${counts}`,
    );
  }

  /**
   * A staged rollout paused itself (the rollout code calls this from its pause hook): a
   * Warning "RolloutPaused" on the ConfigMap and on each of `nodes` (those that caused it).
   * `reason` is the pause's cause in a word or two ("apply failed", "node offline"),
   * `message` what the operator should know.
   */
  rolloutPaused(rollout: RolloutRef, reason: string, message: string, nodes: string[] = []): void {
    const text = `rollout of revision ${rollout.revision}${rev(rollout)} paused (${reason}): ${message}`;
    this.record(() => this.configMapRef(), "Warning", "RolloutPaused", text);
    for (const n of nodes.slice(0, 100)) this.record(nodeRef(n), "Warning", "RolloutPaused", text);
  }

  private node(name: string, type: EventType, reason: string, message: string): void {
    this.record(nodeRef(name), type, reason, message);
  }

  /** On the Node, and on the ConfigMap naming the node. */
  private both(name: string, type: EventType, reason: string, message: string): void {
    this.node(name, type, reason, message);
    this.record(() => this.configMapRef(), type, reason, `node ${name}: ${message}`);
  }

  private record(
    ref: Parameters<KubeEventRecorder["record"]>[0],
    ...rest: [EventType, string, string]
  ) {
    this.recorder.record(ref, ...rest);
  }

  /** The ConfigMap with its uid (what `kubectl describe configmap` selects on), when readable. */
  private async configMapRef(): Promise<V1ObjectReference> {
    const now = this.now();
    if (!this.uid || now - this.uid.at > UID_TTL_MS) {
      try {
        const cm = await this.clients.core.readNamespacedConfigMap(this.configMap);
        this.uid = { value: cm.metadata?.uid, at: now };
      } catch (e) {
        this.log.debug({ err: e }, "cannot read the ConfigMap's uid for its Events");
        this.uid = { value: undefined, at: now };
      }
    }
    return {
      kind: "ConfigMap",
      apiVersion: "v1",
      namespace: this.configMap.namespace,
      name: this.configMap.name,
      ...(this.uid.value ? { uid: this.uid.value } : {}),
    };
  }
}

/** kubelet's reference to its node (pkg/kubelet: UID is the node name). */
export function nodeRef(name: string): V1ObjectReference {
  return { kind: "Node", name, uid: name };
}

const rev = (r: RolloutRef) => (r.resourceVersion ? ` (resourceVersion ${r.resourceVersion})` : "");
