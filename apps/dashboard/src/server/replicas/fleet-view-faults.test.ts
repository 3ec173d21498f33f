// a NodeMasquerade no replica ever wrote a status to (`kubectl create`, or created by a
// holder whose status patches are refused: 403 on nodemasquerades/status, 422) is no rollout
// target: it must not hold every replica's finished rollout open forever.
import type { Rollout } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { FleetState } from "../fleet/fleet-state.js";
import { type NodeRecord, newRecord } from "../fleet/node.js";
import { type FleetViewSources, rolloutOf } from "./fleet-view.js";
import type { NodeMasquerade } from "./node-masquerade.js";

describe("rolloutOf and an object without a status", () => {
  it("a finished rollout stays finished", () => {
    const r = newRecord(helloFor("a"));
    r.connected = true;
    const nodes = new Map<string, NodeRecord>([["a", r]]);
    const objects = new Map<string, NodeMasquerade>([
      ["ghost", { metadata: { name: "ghost" }, spec: {} }],
    ]);
    const s: FleetViewSources = {
      fleet: { nodes, rollout: { outcomeOf: () => "done" } } as unknown as FleetState,
      objects: { get: (n) => objects.get(n), values: () => objects.values() },
      replica: "me",
      liveness: () => ({ live: true }),
    };
    const local: Rollout = {
      revision: 7,
      resourceVersion: "1",
      startedAt: 0,
      finishedAt: 5,
      total: 1,
      done: 1,
      pending: 0,
      offline: 0,
      failed: 0,
      late: { done: 0, pending: 0, failed: 0 },
    };
    expect(rolloutOf(s, local)).toMatchObject({ total: 1, done: 1, pending: 0, finishedAt: 5 });
  });
});
