// a node whose status has not changed for longer than the TTL (a quiet, healthy node:
// observedAt is "when the holder last saw the node change, not a heartbeat") must not lose its
// NodeMasquerade the moment its holder stops renewing its Lease (a replica crashing or cut off
// from the API server mid-rollout). docs/scale-out.md: such a node is `unknown` with the reason
// and its last known state until its reporter reconnects; the TTL runs from when no live
// replica held it, as this replica observed.
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import type { NodeMasquerade } from "./node-masquerade.js";
import { ObjectExpiry } from "./object-expiry.js";

const T0 = Date.parse("2026-01-02T00:00:00Z");
const quiet: NodeMasquerade = {
  metadata: { name: "n1" },
  // In sync and unchanged for two days, held by a replica that just died.
  status: {
    replica: "dead",
    connected: true,
    health: "in-sync",
    observedAt: "2025-12-31T00:00:00Z",
  },
};

describe("ObjectExpiry and a holder that just stopped renewing", () => {
  it("keeps a quiet node's object when its holder dies, deletes it a TTL later", async () => {
    let now = T0;
    const removed: string[] = [];
    const e = new ObjectExpiry({
      objects: { values: () => (removed.length ? [] : [quiet]) },
      live: (r) => r === "live",
      remove: async (name) => void removed.push(name),
      offlineTtlMs: 3600_000,
      nodeExists: async () => true,
      log: silentLogger(),
      now: () => now,
    });
    e.sweep();
    await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual([]);
    now = T0 + 3599_000;
    e.sweep();
    await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual([]);
    now = T0 + 3600_000;
    e.sweep();
    await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual(["n1"]);
  });
});
