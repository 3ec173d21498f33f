import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import type { NodeMasquerade } from "./node-masquerade.js";
import { ObjectExpiry } from "./object-expiry.js";

const NOW = Date.parse("2026-01-02T00:00:00Z");
const object = (replica: string, connected: boolean, observedAt: string): NodeMasquerade => ({
  metadata: { name: "n1" },
  status: { replica, connected, health: connected ? "in-sync" : "offline", observedAt },
});

describe("ObjectExpiry", () => {
  const cases = [
    {
      desc: "held by a live replica: kept however old",
      cr: object("live", true, "2025-01-01T00:00:00Z"),
      exists: false,
      want: [],
    },
    {
      desc: "offline longer than the TTL: deleted",
      cr: object("live", false, "2026-01-01T00:00:00Z"),
      exists: true,
      want: ["n1"],
    },
    {
      // observedAt is the last change, not a heartbeat: the TTL runs from when the holder was
      // first seen dead (object-expiry-dead-holder.test.ts), so a quiet node is `unknown`, not deleted.
      desc: "holder just seen dead, unchanged for longer than the TTL: kept",
      cr: object("dead", true, "2026-01-01T00:00:00Z"),
      exists: true,
      want: [],
    },
    {
      desc: "offline, recent, Node still there: kept",
      cr: object("live", false, "2026-01-01T23:59:00Z"),
      exists: true,
      want: [],
    },
    {
      desc: "offline, recent, Node gone: deleted",
      cr: object("live", false, "2026-01-01T23:59:00Z"),
      exists: false,
      want: ["n1"],
    },
  ];
  for (const c of cases)
    it(c.desc, async () => {
      const removed: string[] = [];
      const e = new ObjectExpiry({
        objects: { values: () => [c.cr] },
        live: (r) => r === "live",
        remove: async (name) => void removed.push(name),
        offlineTtlMs: 3600_000,
        nodeExists: async () => c.exists,
        log: silentLogger(),
        now: () => NOW,
      });
      e.sweep();
      await new Promise((r) => setTimeout(r, 10));
      expect(removed).toEqual(c.want);
    });
});

describe("ObjectExpiry: an offline object whose observedAt is in the future", () => {
  it("is kept at first, then deleted a TTL after this replica first saw it", async () => {
    const removed: string[] = [];
    let now = NOW;
    const e = new ObjectExpiry({
      objects: { values: () => [object("live", false, "2027-06-01T00:00:00Z")] },
      live: (r) => r === "live",
      remove: async (name) => void removed.push(name),
      offlineTtlMs: 3600_000,
      log: silentLogger(),
      now: () => now,
    });
    e.sweep();
    now += 3600_000 - 1;
    e.sweep();
    await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual([]);
    now += 2;
    e.sweep();
    await new Promise((r) => setTimeout(r, 10));
    expect(removed).toEqual(["n1"]);
  });
});
