// StagedRollouts on a replica that does not hold the singleton Lease: it follows the owner.
import { compareNodeOrder, type WavesStrategy } from "@masq/shared";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import { applied, remote, sent, setup, v1, v2, WAVES } from "./staged-rollout.fixture.js";
import { StagedRollouts } from "./staged-rollout.js";

describe("a replica not holding the singleton Lease follows the owner's rollout", () => {
  const find = async (r: string) => (r === "1" ? v1 : null);

  it("holds its nodes until it read the owner's state, then sends each its wave's revision", async () => {
    const here = ["a", "b", "c"];
    const there = ["d", "e"];
    const order = [...here, ...there].sort(compareNodeOrder);
    // A canary reaching the follower's first node in the stable order.
    const count = order.findIndex((n) => there.includes(n)) + 1;
    const strategy: WavesStrategy = { ...WAVES, canary: { count } };
    const canary = order.slice(0, count);
    const owner = setup(here, [], { reason: null, active: true }, { remote: remote(there) });
    const follower = setup(there, [], { reason: null, active: false }, { remote: remote(here) });
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);

    follower.save(v2, strategy);
    for (const [name, l] of follower.links) expect(sent(l), name).toEqual([1]);
    expect(follower.staged.view()).toBeNull();
    owner.save(v2, strategy);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view() !== null, 2000, 10, "the owner's rollout followed");
    const members = (t: typeof owner) =>
      t.staged.view()!.waves.map((w) => [...w.pendingNodes, ...w.appliedNodes].sort());
    expect(members(follower)).toEqual(members(owner));
    for (const [name, l] of follower.links)
      expect(sent(l).at(-1), name).toBe(canary.includes(name) ? 2 : 1);
    // The canary's timeline says so, as the owner's nodes' do.
    const first = there.find((n) => canary.includes(n))!;
    expect(
      follower.fleet.nodes
        .get(first)!
        .events.list()
        .map((e) => e.kind),
    ).toContain("rollout-started");
    // Moves are the owner's: refused here (until moves from any replica are requested).
    expect(follower.staged.abort("bob")).toMatchObject({ ok: false });
    expect(follower.saved).toEqual([]);

    // The owner aborts: the follower's canary nodes return to revision 1.
    expect(owner.staged.abort("bob").ok).toBe(true);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(
      () => [...follower.links.values()].every((l) => sent(l).at(-1) === 1),
      2000,
      10,
      "back on revision 1",
    );
    expect(follower.staged.view()?.aborted).toBe(true);
    // A move the owner would refuse is answered here, not requested.
    expect(await follower.staged.request("promote", "bob")).toEqual({
      ok: false,
      error: "the rollout is degraded: nothing to promote",
    });
  });

  it("a revision the owner rolls out at once (asked for waves) reaches the follower's nodes once it says so", async () => {
    // The owner cannot stage it (refused there: the Leases it saw), the follower expected waves.
    const refused = { reason: "other replicas", active: true };
    const owner = setup(["a"], [], refused, { remote: remote(["d"]) });
    const follower = setup(["d"], [], { reason: null, active: false }, { remote: remote(["a"]) });
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    follower.save(v2, WAVES);
    owner.save(v2, WAVES);
    await owner.staged.flush();
    expect(sent(follower.links.get("d")!)).toEqual([1]);
    follower.staged.follow({ version: 2, begun: 1, current: null, past: [] }); // not yet
    follower.staged.follow(owner.saved.at(-1));
    await until(() => sent(follower.links.get("d")!).at(-1) === 2, 2000, 10, "d on revision 2");
    expect(follower.staged.active).toBe(false);
  });

  it("the owner reading a selector canary's labels for the next revision does not tell a follower still on this one that it went at once (break5)", async () => {
    // A canary on the follower's first node in the stable order; its other node not in it.
    const here = ["a"];
    const there = ["d", "e", "f"];
    const order = [...here, ...there].sort(compareNodeOrder);
    const count = order.findIndex((n) => there.includes(n)) + 1;
    const strategy: WavesStrategy = { ...WAVES, canary: { count } };
    const canary = order.slice(0, count);
    const never = new Promise<Map<string, Record<string, string>>>(() => {});
    const owner = setup(
      here,
      [],
      { reason: null, active: true },
      {
        remote: remote(there),
        labels: () => never, // a big cluster: the labels take long to read
      },
    );
    const follower = setup(there, [], { reason: null, active: false }, { remote: remote(here) });
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    follower.save(v2, strategy);
    owner.save(v2, strategy);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view() !== null, 2000, 10, "followed");
    // Revision 3 saved with a selector canary: the owner reads the nodes' labels. The follower
    // reads the owner's state before its own watch brings revision 3 (watches are not ordered).
    const v3: Desired = { ...v2, revision: 3, resourceVersion: "3" };
    owner.save(v3, WAVES, { ...WAVES, canary: { selector: { pool: "canary" } } });
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await new Promise((r) => setTimeout(r, 50));
    for (const [name, l] of follower.links)
      if (!canary.includes(name)) expect(sent(l), name).not.toContain(2);
  });

  it("a follower starting on a staged revision no replica persisted holds it until an owner starting says it runs at once (break5)", async () => {
    const owner = setup(["a"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const follower = setup(["d"], [], { reason: null, active: false }, { remote: remote(["a"]) });
    // Both start on revision 2, saved in waves; the owner that saw it died before persisting.
    owner.save(v2, { kind: "all-at-once" });
    follower.save(v2, { kind: "all-at-once" });
    const held = {
      strategy: () => WAVES,
      fallback: { kind: "all-at-once" } as const,
      before: async () => v1,
    };
    const f = new StagedRollouts({
      log: silentLogger(),
      remote: remote(["a"]),
      active: () => false,
      persistence: { loadRollout: async () => null, saveRollout: async () => {} },
    });
    f.attach({
      nodes: follower.fleet.nodes,
      pushTo: () => {},
      revert: () => {},
      noteEvent: () => {},
      rolloutChanged: () => {},
    });
    await f.restore(follower.current, find, held);
    expect(f.desiredFor("d", v2)?.revision, "held").toBe(1);
    await owner.staged.restore(owner.current, find, held);
    await owner.staged.flush();
    expect(owner.saved.at(-1)).toMatchObject({ begun: 2, current: null });
    f.follow(owner.saved.at(-1));
    await until(() => f.desiredFor("d", v2)?.revision === 2, 2000, 10, "at once");
  });

  it("a rollout over 30,000 nodes of 63-character names (refused before: ~2 MiB of names) starts, and two replicas place every node alike", async () => {
    const many = Array.from(
      { length: 30_000 },
      (_, i) => `${"n".repeat(57)}-${String(i).padStart(5, "0")}`,
    );
    const strategy: WavesStrategy = { ...WAVES, canary: { count: 3 }, waves: [10, 50, 100] };
    const owner = setup(["a"], [], { reason: null, active: true }, { remote: remote(many) });
    const [held, ...rest] = many;
    const follower = setup(
      [held!],
      [],
      { reason: null, active: false },
      { remote: remote(["a", ...rest]) },
    );
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    expect(owner.staged.startRefusal()).toBeNull();
    owner.save(v2, strategy);
    follower.save(v2, strategy);
    await owner.staged.flush();
    const text = JSON.stringify(owner.saved.at(-1));
    expect(Buffer.byteLength(text)).toBeLessThan(8 * 1024);
    follower.staged.follow(JSON.parse(text));
    await until(() => follower.staged.view() !== null, 2000, 10, "followed");
    const totals = (t: typeof owner) => t.staged.view()!.waves.map((w) => w.total);
    expect(totals(follower)).toEqual(totals(owner));
    expect(totals(owner)).toEqual([3, 2_998, 12_000, 15_000]);
    for (const name of ["a", ...many])
      expect(follower.staged.placeOf(name)?.wave, name).toBe(owner.staged.placeOf(name)?.wave);
  });

  it("taking the Lease over before the owner persisted the rollout: it cuts and starts it", async () => {
    const ctl = { reason: null, active: false };
    const follower = setup(["d", "e"], [], ctl, { remote: remote(["a"]) });
    await follower.staged.restore(follower.current, find);
    follower.save(v2, WAVES);
    expect(follower.staged.view()).toBeNull();
    ctl.active = true;
    follower.staged.tick();
    await until(() => follower.staged.view() !== null, 2000, 10, "started as the owner");
    expect(
      follower.staged
        .view()!
        .waves.flatMap((w) => w.pendingNodes)
        .sort(),
    ).toEqual(["a", "d", "e"]);
    await follower.staged.flush();
    expect(follower.saved.at(-1)).toMatchObject({ begun: 2, current: { revision: 2 } });
  });
});

describe("a follower recreates the upstream pods of its observe-mode nodes as their wave is released", () => {
  it("the canary's at the start, the next wave's at the owner's promote", async () => {
    const find = async (r: string) => (r === "1" ? v1 : null);
    const owner = setup(["a"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const follower = setup(
      ["d"],
      ["o-1", "o-2"],
      { reason: null, active: false },
      {
        remote: remote(["a"]),
      },
    );
    // The owner cut them with its own (their NodeMasquerades say observe).
    const observe = [...["o-1", "o-2"]].sort(compareNodeOrder);
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    follower.save(v2);
    owner.save(v2);
    await owner.staged.flush();
    const state = owner.saved.at(-1) as { current: { observeBounds: unknown } };
    state.current.observeBounds = { last: [observe[0]!, observe[1]!], canary: [observe[0]!] };
    follower.staged.follow(state);
    await until(() => follower.restarted.length === 1, 2000, 10, "the canary's pod recreated");
    expect(follower.restarted[0]![0]).toEqual([observe[0]]);
    applied(owner.fleet, "a", 2);
    // The owner's promote, as its persisted state says.
    const promoted = structuredClone(state) as typeof state & {
      current: { core: { step: number; phase: string; pause: null } };
    };
    promoted.current.core = {
      ...promoted.current.core,
      step: 1,
      phase: "progressing",
      pause: null,
    };
    follower.staged.follow(promoted);
    await until(() => follower.restarted.length === 2, 2000, 10, "wave 1's pod recreated");
    expect(follower.restarted[1]![0]).toEqual([observe[1]]);
    follower.staged.follow(promoted); // read again: not recreated again
    await new Promise((r) => setTimeout(r, 50));
    expect(follower.restarted).toHaveLength(2);
  });
});

describe("a retry by the owner reaches a failed node another replica holds", () => {
  it("the follower sends it the revision again when the state no longer lists it failed", async () => {
    const find = async (r: string) => (r === "1" ? v1 : null);
    const owner = setup(["a"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const follower = setup(["d"], [], { reason: null, active: false }, { remote: remote(["a"]) });
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    follower.save(v2);
    owner.save(v2, { ...WAVES, canary: { count: 2 } }); // both nodes in the canary
    await owner.staged.flush();
    const state = owner.saved.at(-1) as { current: { failed: Record<string, string> } };
    const failed = structuredClone(state);
    failed.current.failed = { d: "iptables-restore: line 3 failed" };
    follower.staged.follow(failed);
    const d = follower.links.get("d")!;
    await until(() => sent(d).at(-1) === 2, 2000, 10, "d sent revision 2");
    const times = sent(d).length;
    follower.staged.follow(state); // the owner's retry cleared it
    await until(() => sent(d).length === times + 1, 2000, 10, "d sent revision 2 again");
    expect(sent(d).at(-1)).toBe(2);
  });
});
