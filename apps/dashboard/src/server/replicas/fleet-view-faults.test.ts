// a NodeMasquerade no replica ever wrote a status to (`kubectl create`, or created by a
// holder whose status patches are refused: 403 on nodemasquerades/status, 422) is no rollout
// target: it must not hold every replica's finished rollout open forever.
import type { Rollout } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { FleetState } from "../fleet/fleet-state.js";
import { type NodeRecord, newRecord } from "../fleet/node.js";
import { type FleetViewSources, rolloutOf, summaryOf } from "./fleet-view.js";
import { type NodeMasquerade, nodeMasqueradeSchema } from "./node-masquerade.js";

describe("rolloutOf and an object without a status", () => {
  it("a finished rollout stays finished", () => {
    const r = newRecord(helloFor("a"));
    r.connected = true;
    const nodes = new Map<string, NodeRecord>([["a", r]]);
    const objects = new Map<string, NodeMasquerade>([
      ["ghost", { metadata: { name: "ghost" }, spec: {} }],
    ]);
    const s: FleetViewSources = {
      fleet: {
        nodes,
        rollout: { countedAs: () => ({ target: "done" }) },
        knownRevisions: () => [],
      } as unknown as FleetState,
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

describe('an object whose status names no replica (the CRD allows "")', () => {
  it("is read, and shown unknown with its last known state, not dropped", () => {
    const raw = {
      metadata: { name: "n1" },
      status: {
        replica: "",
        connected: true,
        health: "in-sync",
        observedAt: "2026-11-30T00:00:00Z",
      },
    };
    const cr = nodeMasqueradeSchema.parse(raw);
    const objects = new Map<string, NodeMasquerade>([["n1", cr]]);
    const s: FleetViewSources = {
      fleet: { nodes: new Map() } as unknown as FleetState,
      objects: { get: (n) => objects.get(n), values: () => objects.values() },
      replica: "me",
      liveness: () => ({ live: true }),
    };
    expect(summaryOf(s, "n1")).toMatchObject({
      status: "unknown",
      summary: "its NodeMasquerade names no replica; last known: in-sync",
    });
  });
});
