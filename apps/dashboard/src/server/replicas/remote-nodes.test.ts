import { describe, expect, it } from "vitest";
import type { FleetState } from "../fleet/fleet-state.js";
import type { FleetViewSources } from "./fleet-view.js";
import type { NodeMasquerade } from "./node-masquerade.js";
import { heldElsewhere } from "./remote-nodes.js";

const cr = (name: string, status?: Partial<NonNullable<NodeMasquerade["status"]>>) =>
  ({
    metadata: { name },
    status: status && {
      replica: "dash-b",
      connected: true,
      health: "in-sync",
      observedAt: "2026-01-01T00:00:00Z",
      ...status,
    },
  }) as NodeMasquerade;

describe("heldElsewhere", () => {
  const cases: {
    desc: string;
    input: { objects: NodeMasquerade[]; here: string[] };
    want: { name: string; mode: string }[];
  }[] = [
    {
      desc: "another replica's node, by its mode",
      input: { objects: [cr("n1", { mode: "enforce" }), cr("n2", { mode: "observe" })], here: [] },
      want: [
        { name: "n1", mode: "enforce" },
        { name: "n2", mode: "observe" },
      ],
    },
    {
      desc: "a node this replica has a record of is its own (its record wins)",
      input: { objects: [cr("n1", { mode: "enforce" })], here: ["n1"] },
      want: [],
    },
    {
      desc: "an object without status (created for a resync request) is no node known",
      input: { objects: [cr("n1")], here: [] },
      want: [],
    },
    {
      desc: "held by no live replica (offline since): still a node of the fleet",
      input: {
        objects: [cr("n1", { replica: "", connected: false, health: "offline" })],
        here: [],
      },
      want: [{ name: "n1", mode: "enforce" }],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const objects = new Map(input.objects.map((o) => [o.metadata.name, o]));
    const s: FleetViewSources = {
      fleet: { nodes: new Map(input.here.map((n) => [n, {}])) } as unknown as FleetState,
      objects: { get: (n) => objects.get(n), values: () => objects.values() },
      replica: "dash-a",
      liveness: () => ({ live: true }) as never,
    };
    expect([...heldElsewhere(s)]).toEqual(want);
  });
});
