import { describe, expect, it } from "vitest";
import type { NodeMasquerade } from "./node-masquerade.js";
import { type PendingInputs, reconnectsPending } from "./reconnects-pending.js";

/** An object as the watch shows it: held by `replica`, connected or not. */
const shown = (replica: string, connected = true) =>
  ({ metadata: { name: "x" }, status: { replica, connected } }) as unknown as NodeMasquerade;

interface Input {
  nodes: { name: string; connected: boolean }[];
  objects?: Record<string, NodeMasquerade>;
  writing?: string[];
  connecting?: number;
}

describe("reconnectsPending: what the others cannot see of this replica's reporters yet", () => {
  const cases: { desc: string; input: Input; want: number }[] = [
    {
      desc: "a node connected here, its object saying so",
      input: { nodes: [{ name: "n1", connected: true }], objects: { n1: shown("dash-b") } },
      want: 0,
    },
    {
      desc: "a node connected here not offered to the writer yet (no object)",
      input: { nodes: [{ name: "n1", connected: true }] },
      want: 1,
    },
    {
      desc: "its object still names the replica it left",
      input: { nodes: [{ name: "n1", connected: true }], objects: { n1: shown("dash-a") } },
      want: 1,
    },
    {
      desc: "its object says held here but disconnected (an earlier visit)",
      input: { nodes: [{ name: "n1", connected: true }], objects: { n1: shown("dash-b", false) } },
      want: 1,
    },
    {
      desc: "its reconnect write queued: counted once, not twice",
      input: { nodes: [{ name: "n1", connected: true }], writing: ["n1"] },
      want: 1,
    },
    {
      desc: "a reconnect write queued for a node the fleet state dropped since: still counted",
      input: { nodes: [], writing: ["n9"] },
      want: 1,
    },
    {
      desc: "a node that went offline here is no reconnect",
      input: { nodes: [{ name: "n1", connected: false }] },
      want: 0,
    },
    {
      desc: "reporters still connecting (token checked, claim, refused busy) count too",
      input: { nodes: [], connecting: 3 },
      want: 3,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const writing = new Set(c.input.writing ?? []);
      const o: PendingInputs = {
        nodes: c.input.nodes,
        replica: "dash-b",
        observed: (name) => c.input.objects?.[name],
        writing: (name) => writing.has(name),
        written: writing.size,
        connecting: c.input.connecting ?? 0,
      };
      expect(reconnectsPending(o)).toBe(c.want);
    });
});
