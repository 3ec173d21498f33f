// Browsers render the staged rollout from the stream: hello.staged, then each `staged-rollout`
// event, which the server sends only at a feed flush marked `rollout` (http-server publish()).
// A change of StagedRollouts.view() with no rolloutChanged() after it leaves every open page on
// the old view until some unrelated rollout change. Each test drives one kind of transition and
// checks, after each step, that the view is the one the last marked flush would have sent.
import { helloFor, remoteStatusFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { RECONNECT_GRACE_MS } from "./staged-offline.js";
import {
  applied,
  apply,
  link,
  notHolding,
  remote,
  setup,
  v1,
  v2,
  WAVES,
} from "./staged-rollout.fixture.js";

type Setup = ReturnType<typeof setup>;

/** The view the browsers were last sent, next to the view now. */
function sentViews(t: Setup) {
  let marked = false;
  const mark = t.feed.rolloutChanged.bind(t.feed);
  t.feed.rolloutChanged = () => {
    marked = true;
    mark();
  };
  const now = () => JSON.parse(JSON.stringify(t.staged.view())) as unknown;
  let shown = now();
  /** The next flush: a marked one sends the view as it is then. */
  return () => {
    if (marked) shown = now();
    marked = false;
    return { shown, now: now() };
  };
}

const expectSent = (flush: () => { shown: unknown; now: unknown }) => {
  const { shown, now } = flush();
  expect(shown).toEqual(now);
};

describe("every change of the staged rollout's view is followed by a rollout flush", () => {
  it("a rollout released, failed, retried, promoted and finished", () => {
    const t = setup();
    const flush = sentViews(t);
    t.save(v2);
    expectSent(flush);
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: exit 1"));
    expectSent(flush);
    expect(t.staged.retry("alice")).toMatchObject({ ok: true });
    expectSent(flush);
    applied(t.fleet, t.canary, 2);
    expectSent(flush);
    expect(t.staged.promote("alice", false)).toMatchObject({ ok: true });
    expectSent(flush);
    for (const n of t.rest) {
      applied(t.fleet, n, 2);
      expectSent(flush);
    }
    expect(t.staged.view()).toMatchObject({ phase: "healthy" });
  });

  it("a timed pause ending on the server's tick", () => {
    let mono = 0;
    const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => mono });
    const flush = sentViews(t);
    t.save(v2, { ...WAVES, pause: { kind: "duration", seconds: 30 } });
    applied(t.fleet, t.canary, 2);
    expectSent(flush);
    t.advance(31_000);
    mono += 31_000;
    t.staged.tick();
    expect(t.staged.view()).toMatchObject({ step: 1 });
    expectSent(flush);
  });

  it("a refusal that starts and ends between saves", () => {
    const ctl: { reason: string | null } = { reason: null };
    const t = setup(["a", "b", "c"], [], ctl);
    const flush = sentViews(t);
    t.save(v2);
    expectSent(flush);
    ctl.reason = "the replicas' node lists are not read yet";
    t.staged.tick();
    expectSent(flush);
    ctl.reason = null;
    t.staged.tick();
    expectSent(flush);
  });

  it("an abort", () => {
    const t = setup();
    const flush = sentViews(t);
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expectSent(flush);
    expect(t.staged.abort("alice")).toMatchObject({ ok: true });
    expectSent(flush);
  });

  it("a replica taking the Lease over reads the holder's rollout", async () => {
    const { t, ctl, toV2 } = await notHolding();
    const flush = sentViews(t);
    toV2();
    expectSent(flush);
    ctl.active = true;
    t.staged.tick();
    await until(() => t.staged.view()?.startedBy === "carol", 2000, 10, "the holder's rollout");
    expectSent(flush);
  });
});

describe("a node offline right after applying: the view's word on it is sent as it changes", () => {
  it("an owner taking the Lease over suspects the holder's applied canary, offline here", async () => {
    let mono = 0;
    const { t, ctl, toV2 } = await notHolding({ monotonic: () => mono });
    const flush = sentViews(t);
    toV2();
    applied(t.fleet, t.canary, 2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    expectSent(flush);
    ctl.active = true;
    t.staged.tick();
    await until(() => t.staged.view()?.startedBy === "carol", 2000, 10, "the holder's rollout");
    expectSent(flush);
    mono += 1000;
    t.advance(1000);
    t.staged.tick(); // the inherited suspects
    expect(t.staged.view()?.message).toContain("No wave goes on until it is known whether");
    expectSent(flush);
  });

  it("a suspect whose verdict waits for another replica's reconnects to be written", () => {
    let mono = 0;
    let behind: string[] = [];
    const statuses = new Map<string, NodeMasqueradeStatus>();
    const t = setup(
      ["a", "b", "c"],
      [],
      { reason: null },
      { monotonic: () => mono, remote: remote([], statuses, () => behind) },
    );
    const flush = sentViews(t);
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    t.fleet.disconnect(t.canary, t.links.get(t.canary)!, "gone");
    t.staged.tick();
    expectSent(flush);
    behind = ["dashboard-2"];
    mono += RECONNECT_GRACE_MS;
    t.advance(RECONNECT_GRACE_MS);
    t.staged.tick();
    expect(t.staged.view()?.message).toContain("dashboard-2");
    expectSent(flush);
    // Its reporter connected to another replica: no longer suspected, no pause.
    const status = remoteStatusFor({ replica: "dashboard-2", appliedRevision: 2 });
    statuses.set(t.canary, status as NodeMasqueradeStatus);
    t.staged.remoteChanged([t.canary]);
    expectSent(flush);
    mono += 1000;
    t.advance(1000);
    t.staged.tick();
    expect(t.staged.view()?.message).not.toContain("No wave goes on");
    expectSent(flush);
  });
});

describe("leader election off, another dashboard renewing the rollout", () => {
  it("the rollout it held is looked at again once it stops renewing", async () => {
    let mono = 0;
    let holding = true;
    const saved: unknown[] = [];
    const persistence = {
      loadRollout: async (claim?: { owner: string }) => {
        if (claim && holding)
          throw Object.assign(new Error("held"), { held: true, holder: "dash-x", renewed: "7" });
        return saved.at(-1) ?? null;
      },
      saveRollout: async (s: unknown) => void saved.push(s),
    };
    const t = setup(["a", "b", "c"], [], { reason: null }, { monotonic: () => mono, persistence });
    await t.staged.restore(t.current, async (r) => (r === "1" ? v1 : null));
    const flush = sentViews(t);
    t.save(v2);
    expect(t.staged.view()?.held).toContain("dash-x");
    expectSent(flush);
    holding = false;
    mono += 15_000;
    t.advance(15_000);
    t.staged.tick();
    expectSent(flush);
    await until(() => t.staged.view()?.held === undefined, 2000, 10, "taken over");
    expectSent(flush);
  });
});

describe("nodes coming and going during a wave, and a follower", () => {
  it("a wave's node goes offline, reconnects, applies; another is removed", () => {
    const t = setup(["a", "b", "c", "d"]);
    const flush = sentViews(t);
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    expect(t.staged.promote("alice", false)).toMatchObject({ ok: true });
    expectSent(flush);
    const [x, y] = t.rest;
    t.fleet.disconnect(x!, t.links.get(x!)!, "gone");
    expectSent(flush);
    t.fleet.connect(helloFor(x!, { mode: "enforce" }), link());
    expectSent(flush);
    applied(t.fleet, x!, 2);
    expectSent(flush);
    t.fleet.disconnect(y!, t.links.get(y!)!, "gone");
    t.fleet.forget(y!);
    expectSent(flush);
  });

  it("a follower adopting the owner's state, then its abort", async () => {
    const find = async (r: string) => (r === "1" ? v1 : null);
    const owner = setup(["a", "b"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const follower = setup(
      ["d"],
      [],
      { reason: null, active: false },
      { remote: remote(["a", "b"]) },
    );
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    const flush = sentViews(follower);
    follower.save(v2);
    expectSent(flush);
    owner.save(v2);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view() !== null, 2000, 10, "followed");
    expectSent(flush);
    expect(owner.staged.abort("bob").ok).toBe(true);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view()?.aborted === true, 2000, 10, "aborted followed");
    expectSent(flush);
  });
});
