import type { V1ObjectReference } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { FleetSignal } from "../fleet/signals.js";
import { silentLogger } from "../log.js";
import type { KubeClients } from "./client.js";
import type { EventType } from "./event-recorder.js";
import { FleetEvents } from "./fleet-events.js";

/** What FleetEvents asks the recorder to write: "Node/Type/Reason" or "ConfigMap/Type/Reason". */
function recorded(signals: FleetSignal[]): string[] {
  const out: string[] = [];
  const recorder = {
    onResult: undefined,
    onWait: undefined,
    queued: 0,
    close: async () => {},
    record(ref: V1ObjectReference | (() => unknown), type: EventType, reason: string) {
      out.push(`${typeof ref === "function" ? "ConfigMap" : ref.kind}/${type}/${reason}`);
    },
  };
  // The ConfigMap's reference is resolved by the recorder, which this one never does.
  const events = new FleetEvents(
    recorder,
    {} as KubeClients,
    { namespace: "kube-system", name: "ip-masq-agent" },
    silentLogger(),
  );
  for (const s of signals) events.signal(s);
  return out;
}

const status = (from: string, to: string): FleetSignal =>
  ({ kind: "status", node: "node-a", from, to, summary: "missing 10.0.0.0/8" }) as FleetSignal;
const applied = (changed: boolean): FleetSignal => ({
  kind: "applied",
  node: "node-a",
  result: {
    type: "apply-result",
    v: 2,
    revision: 3,
    ok: true,
    durationMs: 12,
    trigger: "resync",
    changed,
  },
});

describe("FleetEvents", () => {
  const cases: { desc: string; input: FleetSignal[]; want: string[] }[] = [
    {
      desc: "drift is a Warning on the Node and the ConfigMap",
      input: [status("in-sync", "drifted")],
      want: ["Node/Warning/Drifted", "ConfigMap/Warning/Drifted"],
    },
    {
      desc: "in sync again after drift is Healed",
      input: [
        status("in-sync", "drifted"),
        status("drifted", "applying"),
        status("applying", "in-sync"),
      ],
      want: [
        "Node/Warning/Drifted",
        "ConfigMap/Warning/Drifted",
        "Node/Normal/Healed",
        "ConfigMap/Normal/Healed",
      ],
    },
    {
      // Its rules changed back by the apply at reconnect: the drift no status showed.
      desc: "a drift an apply changed back, not seen live, is Drifted (and no Healed after)",
      input: [
        {
          kind: "drift-healed",
          node: "node-a",
          revision: 3,
          message: "its rules had drifted from revision 3 while the dashboard did not hear from it",
        },
        status("applying", "in-sync"),
      ],
      want: ["Node/Warning/Drifted", "ConfigMap/Warning/Drifted"],
    },
    {
      desc: "in sync without drift before is not news",
      input: [status("applying", "in-sync"), status("offline", "in-sync")],
      want: [],
    },
    {
      desc: "a drifted node reconnecting still drifted is not drifted anew",
      input: [
        status("in-sync", "drifted"),
        status("drifted", "offline"),
        status("applying", "drifted"),
      ],
      want: ["Node/Warning/Drifted", "ConfigMap/Warning/Drifted"],
    },
    {
      desc: "an apply that rewrote the rules is Applied on the Node only; a no-op apply is nothing",
      input: [applied(true), applied(false)],
      want: ["Node/Normal/Applied"],
    },
    {
      desc: "a failed apply is a Warning on both",
      input: [
        { kind: "apply-failed", node: "node-a", revision: 3, trigger: "desired", error: "x" },
      ],
      want: ["Node/Warning/ApplyFailed", "ConfigMap/Warning/ApplyFailed"],
    },
    {
      desc: "a paused rollout: the ConfigMap and each node named; resumed records nothing",
      input: [
        {
          kind: "rollout-paused",
          rollout: { revision: 4 },
          reason: "apply failed",
          message: "m",
          nodes: ["node-a", "node-b"],
        },
        { kind: "rollout-resumed", rollout: { revision: 4 } },
      ],
      want: [
        "ConfigMap/Warning/RolloutPaused",
        "Node/Warning/RolloutPaused",
        "Node/Warning/RolloutPaused",
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => expect(recorded(input)).toEqual(want));
});
