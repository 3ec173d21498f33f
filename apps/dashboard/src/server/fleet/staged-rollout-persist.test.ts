// StagedRollouts and its persisted state: reads that fail, hand edits, restarts.
import { compareNodeOrder, MAX_CONFIG_CIDRS, type WavesStrategy } from "@masq/shared";
import { remoteStatusFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import {
  applied,
  apply,
  fleetHooks,
  remote,
  restartedFrom,
  sent,
  setup,
  v1,
  v2,
  v3,
  WAVES,
} from "./staged-rollout.fixture.js";
import { StagedRollouts } from "./staged-rollout.js";

describe("break4: the persisted rollout cannot be read when a replica starts", () => {
  it("a node of a wave not released does not get the new revision because the read failed once", async () => {
    const t = setup();
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    // A replica starting now (a rolling update, a restart) reads the history ConfigMap; the API
    // server answers 503 once (restarting, overloaded).
    let reads = 0;
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: {
        loadRollout: async () => {
          if (reads++ === 0) throw new Error("503 ServiceUnavailable");
          return t.saved.at(-1)!;
        },
        saveRollout: async () => {},
      },
    });
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    again.attach(fleetHooks(t.fleet.nodes));
    // The rest's wave was never released: they must stay on revision 1 (late, never early).
    expect(again.desiredFor(t.rest[0]!, v2)?.revision).toBe(1);
  });
});

describe("a staged rollout whose state could not be persisted or followed", () => {
  const find = async (r: string) => (r === "1" ? v1 : null);
  /** Another replica's nodes, AWS-style names (~40 bytes each). */
  const many = (n: number) =>
    Array.from({ length: n }, (_, i) => `ip-10-1-${i >> 8}-${i & 255}.eu-west-1.compute.internal`);

  it("is refused up front only by its configs' size, never by the fleet's; a revision asking for waves then goes at once", async () => {
    const v6 = Array.from(
      { length: MAX_CONFIG_CIDRS },
      (_, i) => `2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16)}/128`,
    );
    // Saved at once, then changed in waves: both revisions' configs in the state.
    const huge: Desired = {
      ...v2,
      config: { ...v2.config, nonMasqueradeCIDRs: v6, masqueradeCIDRs: v6 },
    };
    const huger: Desired = {
      ...v3,
      config: { ...huge.config, nonMasqueradeCIDRs: [...v6.slice(1), "192.0.2.0/24"] },
    };
    const cases: { desc: string; input: { nodes: number; next: Desired }; want: RegExp | null }[] =
      [
        { desc: "3 + 1,000 nodes: staged", input: { nodes: 1_000, next: v2 }, want: null },
        {
          desc: "3 + 65,000 AWS-style nodes (refused before: ~2.6 MiB of names): staged",
          input: { nodes: 65_000, next: v2 },
          want: null,
        },
        {
          desc: "3 nodes, both configs the most long IPv6 CIDRs: its state could take over 768 KiB",
          input: { nodes: 0, next: huger },
          want: /could take \d+ KiB, more than the 768 KiB/,
        },
      ];
    for (const c of cases) {
      const t = setup(
        ["a", "b", "c"],
        [],
        { reason: null },
        { remote: remote(many(c.input.nodes)) },
      );
      await t.staged.restore(t.current, find);
      expect(t.staged.startRefusal(), c.desc).toBeNull(); // the current config is small
      if (c.want) {
        t.save(huge, { kind: "all-at-once" });
        expect(t.staged.sizeRefusal(JSON.stringify(c.input.next.config))).toMatch(c.want);
      }
      t.save(c.input.next, WAVES);
      await t.staged.flush();
      // Staged: only the canary (if held here) has the revision; else every node here has it.
      const rev = c.input.next.revision;
      const on2 = [...t.links].filter(([, l]) => sent(l).at(-1) === rev).map(([n]) => n);
      // (A config this large is past the 256 KiB a frame to a node carries: desired, not sent.)
      const desired = [...t.links.keys()].filter((n) => t.fleet.desiredOf(n)?.revision === rev);
      if (c.want) expect(desired.length, c.desc).toBe(3);
      else expect(on2.length, c.desc).toBeLessThan(2); // the one canary node, if held here
      expect(t.staged.active, c.desc).toBe(c.want === null);
      // The followers learn it went at once (begun, no state of waves).
      if (c.want) expect(t.saved.at(-1), c.desc).toMatchObject({ begun: rev, current: null });
      else expect(Buffer.byteLength(JSON.stringify(t.saved.at(-1))), c.desc).toBeLessThan(8192);
    }
  });

  it("a follower that cannot read the owner's state says why in problems() and its view", async () => {
    const follower = setup(
      ["d", "e"],
      [],
      { reason: null, active: false },
      { remote: remote(["a"]) },
    );
    await follower.staged.restore(follower.current, find);
    follower.save(v2, WAVES);
    const names = Array.from({ length: 20_001 }, (_, i) => `node-${i}`);
    const unreadable = {
      version: 2,
      begun: 2,
      current: { waves: [names.slice(0, 1), names.slice(1)] },
      past: [],
    };
    follower.staged.follow(unreadable);
    await until(() => follower.staged.problems().length > 0, 2000, 10, "the problem said");
    expect(follower.staged.problems()).toEqual([
      expect.stringMatching(
        /^the owner's rollout state is not readable \(current\..*\): the nodes this replica holds stay on the previous revision$/,
      ),
    ]);
    const v = follower.staged.view();
    expect(v).toMatchObject({ revision: 2, previousRevision: 1, waves: [] });
    expect(v?.held).toMatch(/not readable/);
    expect(v?.message).toMatch(/^the nodes this replica holds stay on revision 1: the owner's/);
    for (const [name, l] of follower.links) expect(sent(l).at(-1), name).toBe(1);
    // The owner's next state is readable (at once): the problem is gone, the nodes move on.
    follower.staged.follow({ version: 2, begun: 2, current: null, past: [] });
    await until(() => sent(follower.links.get("d")!).at(-1) === 2, 2000, 10, "d on 2");
    expect(follower.staged.problems()).toEqual([]);
    expect(follower.staged.view()).toBeNull();
  });
});

describe("break6: a hand-edited rollout.json", () => {
  const ten = Array.from({ length: 10 }, (_, i) => `n-${i}`);
  const thirds: WavesStrategy = { ...WAVES, waves: [50, 100] };
  const order = [...ten].sort(compareNodeOrder);
  async function edited(edit: (current: Record<string, unknown>) => void) {
    const t = setup(ten);
    t.save(v2, thirds);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    const state = structuredClone(t.saved.at(-1)) as { current: Record<string, unknown> };
    edit(state.current);
    t.saved.push(state);
    const pushed: string[] = [];
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: {
        loadRollout: async () => t.saved.at(-1)!,
        saveRollout: async (x) => void t.saved.push(x),
      },
      // With replicas (the nodes other replicas hold: none here), the owner says what it began.
      remote: remote([]),
    });
    again.attach(fleetHooks(t.fleet.nodes, pushed));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    return { t, again, pushed };
  }

  it("boundaries for fewer waves than the rollout has: no crash, nothing released early", async () => {
    const { again } = await edited((c) => {
      (c.bounds as { last: unknown[] }).last = [order[0], order[9]];
    });
    expect(() => again.promote("bob", false)).not.toThrow();
    expect(() => again.view()).not.toThrow();
    expect(() => again.promote("bob", false)).not.toThrow();
    expect(() => again.tick()).not.toThrow();
  });

  it("a step past the last wave: no crash", async () => {
    const { again } = await edited((c) => {
      (c.core as { step: number }).step = 7;
    });
    expect(() => again.view()).not.toThrow();
    expect(() => again.tick()).not.toThrow();
  });

  it("a state the schema refuses (a key added by hand) read by an owner restarting: not overwritten with 'begun at once', said in problems()", async () => {
    const { t, again } = await edited((c) => {
      c.note = "paused by ops, see ticket 123";
    });
    const before = t.saved.length;
    await again.flush();
    // Taken as "no rollout", the owner wrote `begun: 2` over it: every follower then sent the
    // nodes of waves never released the revision at once, and the rollout was gone for good.
    expect(t.saved.length).toBe(before);
    expect((t.saved.at(-1) as { current: { note?: string } }).current.note).toBeDefined();
    expect(again.problems().join()).toMatch(
      /rollout\.json is not a rollout state: current: .*note/,
    );
  });
});

/**
 * Ten nodes here: the canary (1) applied and promoted, then wave 1 (the last, 9) applied after
 * the state persisted at the promote (`state`) was written.
 */
async function lastWaveApplied() {
  const ten = Array.from({ length: 10 }, (_, i) => `n-${i}`);
  const t = setup(ten);
  t.save(v2);
  applied(t.fleet, t.canary, 2);
  t.staged.promote("bob", false);
  await t.staged.flush();
  const state = structuredClone(t.saved.at(-1)) as { current: { sizes: number[] } };
  expect(state.current.sizes).toEqual([1, 9]);
  for (const n of t.rest) applied(t.fleet, n, 2);
  return { ten, t, state };
}

describe("break6: an owner restarting before it has listed the NodeMasquerades", () => {
  it("does not call the last wave applied when a node joined meanwhile makes up the count of one not seen yet", async () => {
    const { ten, t, state } = await lastWaveApplied();
    // The restarted owner: `unseen` is held by another replica whose NodeMasquerade it has not
    // listed yet (it has not applied revision 2 either); `late` joined while no owner ran, here.
    const order = [...ten].sort(compareNodeOrder);
    const unseen = order[9]!;
    const late = "joined-late";
    const nodes = new Map([...t.fleet.nodes].filter(([n]) => n !== unseen));
    nodes.set(late, { ...t.fleet.nodes.get(order[1]!)!, name: late });
    let listed = false;
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: { loadRollout: async () => state, saveRollout: async () => {} },
      remote: {
        list: () => (listed ? [{ name: unseen, mode: "enforce" as const }] : []),
        status: (name) =>
          listed && name === unseen
            ? (remoteStatusFor({ appliedRevision: 1 }) as NodeMasqueradeStatus)
            : undefined,
        listed: () => listed,
      },
    });
    again.attach(fleetHooks(nodes));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    again.applied(late, 2, true);
    // 9 nodes seen in wave 1, as many as it counted: without the list it was called healthy.
    expect(again.view()?.phase).toBe("progressing");
    expect(again.problems().join()).toMatch(/NodeMasquerades .* not listed yet/);
    listed = true;
    again.remoteChanged([unseen]);
    expect(again.view()?.phase).toBe("progressing");
    expect(again.view()?.waves[1]).toMatchObject({ total: 10, applied: 9, pending: 1 });
  });
});

describe("break7: a restarted owner counts wave members by identity, not by number", () => {
  /**
   * Ten nodes, the canary promoted, wave 1 (the last) applied by the nine seen here; the owner
   * restarts with `gone`'s record deleted meanwhile (it is counted in wave 1) and `late`, a node
   * joined since, applied: before the restart (`when` "before") or after it ("after").
   */
  async function restarted(when: "before" | "after") {
    const { ten, t, state } = await lastWaveApplied();
    const gone = [...ten].sort(compareNodeOrder)[9]!;
    const late = "joined-late";
    const nodes = new Map([...t.fleet.nodes].filter(([n]) => n !== gone));
    const joined = { ...t.fleet.nodes.get(t.rest[0]!)!, name: late };
    if (when === "before") nodes.set(late, joined);
    const statuses = new Map<string, NodeMasqueradeStatus>();
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: { loadRollout: async () => state, saveRollout: async () => {} },
      remote: {
        list: () => [...statuses.keys()].map((name) => ({ name, mode: "enforce" as const })),
        status: (name) => statuses.get(name),
        listed: () => true,
      },
    });
    again.attach(fleetHooks(nodes));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    if (when === "after") nodes.set(late, joined);
    again.applied(late, 2, true);
    return { again, gone, statuses };
  }

  it.each(["before", "after"] as const)(
    "a node joined %s the restart does not stand in for a counted node whose record is gone",
    async (when) => {
      const { again } = await restarted(when);
      // 9 nodes known in wave 1 applied, as many as it counted: by number it was called healthy.
      expect(again.view()?.phase).toBe("progressing");
      expect(again.view()?.waves[1]).toMatchObject({ applied: 9, pending: 1 });
    },
  );

  it("a counted node whose record stays gone: the view says why the wave waits, not only 'applying'", async () => {
    const { again } = await restarted("after");
    again.tick();
    // No pending node is named (pendingNodes empty): the message is all the operator has.
    expect(again.view()?.waves[1]).toMatchObject({ pending: 1, pendingNodes: [] });
    expect(again.view()?.message).toMatch(
      /^wave 1 is applying the revision; wave 1 counted 9 nodes when the rollout was last saved, and not all of them are known here .*abort/,
    );
  });

  it("the counted node's record comes back applied: the joiner told apart, the rollout finishes", async () => {
    const { again, gone, statuses } = await restarted("after");
    statuses.set(gone, remoteStatusFor({ appliedRevision: 2 }) as NodeMasqueradeStatus);
    again.remoteChanged([gone]);
    expect(again.view()?.phase).toBe("healthy");
  });
});

describe("break7: rollout.json hand-edited with digests of the wrong length", () => {
  it("is resumed, its waves counted by number: not refused whole (every node would get the revision at once)", async () => {
    const { t, state } = await lastWaveApplied();
    const edited = structuredClone(state) as { current: { digests?: number[] } };
    edited.current.digests = [...(edited.current.digests ?? []), 12345];
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: { loadRollout: async () => edited, saveRollout: async () => {} },
    });
    again.attach(fleetHooks(t.fleet.nodes));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.problems()).toEqual([]);
    expect(again.view()?.step).toBe(1);
  });
});

describe("break6: an owner that waited for the NodeMasquerade list", () => {
  it("settles the wave at the next tick once listed, when nothing else happens", async () => {
    const t = setup();
    t.save(v2);
    await t.staged.flush();
    const state = structuredClone(t.saved.at(-1));
    applied(t.fleet, t.canary, 2);
    let listed = false;
    const again = new StagedRollouts({
      log: silentLogger(),
      persistence: { loadRollout: async () => state, saveRollout: async () => {} },
      remote: { list: () => [], status: () => undefined, listed: () => listed },
    });
    again.attach(fleetHooks(t.fleet.nodes));
    await again.restore(
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    again.applied(t.canary, 2, true);
    expect(again.view()?.phase).toBe("progressing");
    listed = true; // an empty list: no NodeMasquerade changed
    again.tick();
    await until(() => again.view()?.phase === "paused");
  });
});

describe("break6: a canary selector matching 1,001 nodes when the owner cuts (1,000 when saved)", () => {
  it("does not roll the revision out at once: the canary keeps 1,000 names, the rest wait for later waves", async () => {
    const canary = Array.from({ length: 1001 }, (_, i) => `c-${i}`);
    const others = ["main-a", "main-b", "main-c"];
    const labels = async (names: readonly string[]) =>
      new Map(names.map((n) => [n, { pool: n.startsWith("c-") ? "canary" : "main" }]));
    const t = setup([...canary, ...others], [], { reason: null }, { remote: remote([]), labels });
    const selector: WavesStrategy = { ...WAVES, canary: { selector: { pool: "canary" } } };
    // Saved on a replica that saw 1,000 matching nodes; the owner cuts over 1,001.
    t.save(v2, { kind: "all-at-once" }, selector);
    await until(
      () => t.staged.view() !== null || t.staged.desiredFor("main-a", v2)?.revision === 2,
    );
    for (const n of others) expect(t.staged.desiredFor(n, v2)?.revision, n).toBe(1);
    const v = t.staged.view()!;
    expect(v.waves[0]!.total).toBe(1000);
    expect(v.waves[0]!.total + v.waves[1]!.total).toBe(1004);
    // Every replica and a restart place the one left out of the canary alike (late, never early).
    await t.staged.flush();
    const again = await restartedFrom(
      t,
      () => v2,
      async (r) => (r === "1" ? v1 : null),
    );
    const left = canary.find((n) => t.staged.placeOf(n)?.wave !== 0)!;
    expect(t.staged.desiredFor(left, v2)?.revision).toBe(1);
    expect(again.desiredFor(left, v2)?.revision).toBe(1);
    expect(again.placeOf(left)?.wave).toBe(t.staged.placeOf(left)?.wave);
    expect(again.view()!.waves[0]!.total).toBe(1000);
  });
});

// Attack (issue 17): revision 2 aborted, then the same config saved again as revision 4 (a roll
// forward), and the owner restarted (or took the Lease over) before it wrote revision 4's
// rollout. The persisted state was found "by its config" (meant for a merge renumbered after a
// restart) and revision 2's aborted waves came back as revision 4's: every node held on
// revision 1, the roll forward never rolled out.
describe("a rollback followed by a roll forward of the same config", () => {
  const cases: {
    desc: string;
    input: Desired;
    want: { resumed: boolean; rest: number };
  }[] = [
    {
      desc: "saved again (another resourceVersion): not the aborted rollout; it goes on",
      input: { revision: 4, resourceVersion: "4", config: v2.config },
      want: { resumed: false, rest: 4 },
    },
    {
      desc: "the same save renumbered by a restart (merged config): the aborted rollout holds",
      input: { revision: 7, resourceVersion: "2+1@r7", config: v2.config },
      want: { resumed: true, rest: 1 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const t = setup();
    t.save(v2);
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: line 3"));
    expect(t.staged.abort("carol")).toMatchObject({ ok: true });
    await t.staged.flush();
    const again = await restartedFrom(
      t,
      () => input,
      async (r) => (r === "1" ? v1 : null),
    );
    expect(again.view()?.aborted === true).toBe(want.resumed);
    expect(again.desiredFor(t.rest[0]!, input)?.revision).toBe(want.rest);
  });
});
