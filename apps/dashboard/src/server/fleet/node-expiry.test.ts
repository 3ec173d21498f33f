import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../env.js";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { FleetState, type ReporterLink } from "./fleet-state.js";
import { type ExpiryOptions, NodeExpiry } from "./node-expiry.js";

const link = (): ReporterLink => ({ send: () => {}, close: () => {} });

function setup(o: Omit<ExpiryOptions, "log" | "now">) {
  const clock = { now: 1_000_000 };
  const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const removed: string[] = [];
  const feed = new ChangeFeed(250, () => {});
  const origRemoved = feed.nodeRemoved.bind(feed);
  feed.nodeRemoved = (name: string) => {
    removed.push(name);
    origRemoved(name);
  };
  const fleet = new FleetState({
    desired: () => desired,
    feed,
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    now: () => clock.now,
  });
  const expiry = new NodeExpiry(fleet, { ...o, log: silentLogger(), now: () => clock.now });
  /** Registers a node and, unless `stay`, disconnects it (offline from now on). */
  const node = (name: string, stay = false) => {
    const l = link();
    fleet.connect(helloFor(name), l);
    if (!stay) fleet.disconnect(name, l, "gone");
  };
  return { fleet, expiry, clock, node, removed, names: () => [...fleet.nodes.keys()].sort() };
}

describe("NodeExpiry", () => {
  it("forgets nodes offline longer than the TTL, never connected ones", () => {
    const t = setup({ offlineTtlMs: 60_000 });
    t.node("old");
    t.node("live", true);
    t.clock.now += 30_000;
    t.node("recent");
    t.clock.now += 30_000;
    t.expiry.sweep();
    expect(t.names()).toEqual(["live", "recent"]);
    t.clock.now += 10 * 60_000;
    t.expiry.sweep();
    expect(t.names()).toEqual(["live"]);
    expect(t.removed).toEqual(["old", "recent"]);
  });

  it("keeps offline nodes with TTL 0, but no more than maxOffline (longest silent go first)", () => {
    const t = setup({ offlineTtlMs: 0, maxOffline: 2 });
    for (const n of ["a", "b", "c", "d"]) {
      t.node(n);
      t.clock.now += 1000;
    }
    t.node("live", true);
    t.clock.now += 365 * 24 * 3600_000;
    t.expiry.sweep();
    expect(t.names()).toEqual(["c", "d", "live"]);
  });

  it("forgets an offline node whose Node object is gone, asking at most once a minute", async () => {
    const asked: string[] = [];
    const exists = new Map([
      ["kept", true],
      ["deleted", false],
    ]);
    const t = setup({
      offlineTtlMs: 0,
      nodeExists: async (name) => {
        asked.push(name);
        return exists.get(name); // undefined for "unknown": cannot tell, keep it
      },
      existsEveryMs: 60_000,
    });
    for (const n of ["kept", "deleted", "unknown"]) t.node(n);
    t.node("live", true);
    t.expiry.sweep();
    await new Promise((r) => setImmediate(r));
    expect(t.names()).toEqual(["kept", "live", "unknown"]);
    t.clock.now += 59_000;
    t.expiry.sweep();
    await new Promise((r) => setImmediate(r));
    expect(asked.sort()).toEqual(["deleted", "kept", "unknown"]);
    t.clock.now += 1_000;
    t.expiry.sweep();
    expect(asked).toHaveLength(5);
  });
});

describe("IPMASQ_OFFLINE_NODE_TTL", () => {
  const cases: { desc: string; input: string | undefined; want: number | RegExp }[] = [
    { desc: "default: a day", input: undefined, want: 24 * 3600_000 },
    { desc: "a Go duration", input: "90m", want: 90 * 60_000 },
    { desc: "0 keeps offline nodes", input: "0", want: 0 },
    { desc: "negative", input: "-1h", want: /IPMASQ_OFFLINE_NODE_TTL.*must not be negative/ },
    { desc: "not a duration", input: "a day", want: /IPMASQ_OFFLINE_NODE_TTL.*invalid duration/ },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const run = () => parseEnv({ IPMASQ_OFFLINE_NODE_TTL: input }).IPMASQ_OFFLINE_NODE_TTL;
    if (typeof want === "number") expect(run()).toBe(want);
    else expect(run).toThrow(want);
  });
});
