// Browsers render the staged rollout from the stream: hello.staged, then each `staged-rollout`
// event, which the server sends only at a feed flush marked `rollout` (http-server publish()).
// A change of StagedRollouts.view() with no rolloutChanged() after it leaves every open page on
// the old view until some unrelated rollout change. Each test drives one kind of transition and
// checks, after each step, that the view is the one the last marked flush would have sent.
import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import { applied, apply, notHolding, setup, v2, WAVES } from "./staged-rollout.fixture.js";

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
