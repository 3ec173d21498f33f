// StagedRollouts moves (promote, retry, abort): asked here, asked elsewhere, and stored.
import type { WavesStrategy } from "@masq/shared";
import { remoteStatusFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import { beforeEach, describe, expect, it } from "vitest";
import { RolloutFencedError } from "../store/kube-rollout.js";
import {
  applied,
  apply,
  remote,
  savedAndFollowed,
  sent,
  setup,
  v1,
  v2,
  v3,
  WAVES,
} from "./staged-rollout.fixture.js";

describe("moves asked on a replica that does not own the rollout", () => {
  const find = async (r: string) => (r === "1" ? v1 : null);

  it("an owner losing the Lease while a write runs does not write the state queued behind it (break5)", async () => {
    const ctl = { reason: null, active: true };
    let open: () => void = () => {};
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const written: unknown[] = [];
    const owner = setup(["a", "b"], [], ctl, {
      remote: remote(["d"]),
      persistence: {
        loadRollout: async () => null,
        saveRollout: async (x) => {
          await gate;
          written.push(x);
        },
      },
    });
    owner.save(v2); // the first write waits on the API server
    expect(owner.staged.abort("bob").ok).toBe(true); // queued behind it
    ctl.active = false; // the Lease lost: another replica owns the rollout now
    open();
    await owner.staged.flush();
    expect(written).toHaveLength(1);
  });

  it("an owner whose write is fenced (another replica wrote since it read) reads the state again and goes on from it", async () => {
    const other = setup(["a", "b"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    await other.staged.restore(other.current, find);
    other.save(v2);
    expect(other.staged.abort("carol").ok).toBe(true); // the state another owner wrote
    await other.staged.flush();
    let fence = false;
    const written: unknown[] = [];
    const owner = setup(
      ["a", "b"],
      [],
      { reason: null, active: true },
      {
        remote: remote(["d"]),
        persistence: {
          loadRollout: async () => other.saved.at(-1) ?? null,
          saveRollout: async (x) => {
            if (fence) {
              fence = false;
              throw Object.assign(new Error("written by another replica since"), { fenced: true });
            }
            written.push(x);
          },
        },
      },
    );
    await owner.staged.restore(owner.current, find);
    await owner.staged.flush();
    written.length = 0;
    fence = true; // the other replica writes from here on
    owner.save(v2); // its own rollout, not aborted: its write is refused
    await owner.staged.flush();
    expect(written).toEqual([]);
    expect(owner.staged.view()).toMatchObject({ aborted: false });
    owner.staged.tick(); // reads the state again, as taking the Lease over
    await until(() => owner.staged.view()?.aborted === true, 2000, 10, "the other's state read");
    await owner.staged.flush();
    expect(written.at(-1)).toMatchObject({ current: { core: { aborted: true } } });
  });

  it("a follower taking over while its read of rollout.json fails writes nothing over it, and reads it again (break5)", async () => {
    const owner = setup(["a", "b"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const ctl = { reason: null, active: false };
    let failing = false;
    const written: unknown[] = [];
    const follower = setup(["d"], [], ctl, {
      remote: remote(["a", "b"]),
      persistence: {
        loadRollout: async () => {
          if (failing) throw new Error("the API server is not reachable");
          return owner.saved.at(-1) ?? null;
        },
        saveRollout: async (x) => void written.push(x),
      },
    });
    await savedAndFollowed(owner, follower, find);
    // The owner aborts; the follower's watch has not brought it yet when the owner dies.
    expect(owner.staged.abort("bob").ok).toBe(true);
    await owner.staged.flush();
    failing = true;
    ctl.active = true;
    follower.staged.tick();
    await new Promise((r) => setTimeout(r, 50));
    await follower.staged.flush();
    expect(written, "nothing written over the aborted state").toEqual([]);
    failing = false;
    follower.staged.tick();
    await until(() => follower.staged.view()?.aborted === true, 2000, 10, "the abort read");
  });

  it("a follower taking over (its read of rollout.json failing) does not perform again a request the owner performed (break5)", async () => {
    const requests: unknown[] = [];
    const strategy: WavesStrategy = { ...WAVES, waves: [50, 100] };
    const dApplied = new Map([["d", remoteStatusFor({ appliedRevision: 2 })]]);
    const owner = setup(
      ["a", "b", "c"],
      [],
      { reason: null, active: true },
      { remote: remote(["d"], dApplied) },
    );
    const ctl = { reason: null, active: false };
    let failing = false;
    const follower = setup(["d"], [], ctl, {
      remote: remote(["a", "b", "c"]),
      replica: "dash-b",
      confirmWaitMs: 50, // nobody performs it meanwhile: not the 5 s a browser is given
      persistence: {
        loadRollout: async () => {
          if (failing) throw new Error("the API server is not reachable");
          return owner.saved.at(-1) ?? null;
        },
        saveRollout: async () => {},
        saveRequest: async (r) => void requests.push(r),
      },
    });
    await owner.staged.restore(owner.current, find);
    await follower.staged.restore(follower.current, find);
    owner.save(v2, strategy);
    follower.save(v2, strategy);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view() !== null, 2000, 10, "followed");
    for (const [n, l] of owner.links) if (sent(l).at(-1) === 2) applied(owner.fleet, n, 2);
    expect(owner.staged.view()!.phase).toBe("paused");
    expect((await follower.staged.request("promote", "bob")).ok).toBe(true);
    owner.staged.requested(requests[0]);
    follower.staged.requested(requests[0]);
    // Stored first, then performed (issue 17).
    await owner.staged.flush();
    expect(owner.staged.view()!.step).toBe(1);
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view()?.step === 1, 2000, 10, "step 1 followed");
    // The owner dies; the follower takes the Lease over while the API server does not answer.
    failing = true;
    ctl.active = true;
    follower.staged.tick();
    await new Promise((r) => setTimeout(r, 50));
    expect(follower.staged.view()!.step, "the promote performed once").toBe(1);
  });
  it("are written as a request; the owner performs each once, saying via which replica", async () => {
    const requests: unknown[] = [];
    const owner = setup(["a", "b"], [], { reason: null, active: true }, { remote: remote(["d"]) });
    const follower = setup(
      ["d"],
      [],
      { reason: null, active: false },
      {
        remote: remote(["a", "b"]),
        replica: "dash-b",
        confirmWaitMs: 50, // nobody performs it meanwhile: not the 5 s a browser is given
        persistence: {
          loadRollout: async () => owner.saved.at(-1) ?? null,
          saveRollout: async () => {},
          saveRequest: async (r) => void requests.push(r),
        },
      },
    );
    await savedAndFollowed(owner, follower, find);
    expect(follower.staged.ownedElsewhere).toBe(true);
    expect(await follower.staged.request("abort", "bob")).toMatchObject({ ok: true });
    expect(requests).toEqual([
      expect.objectContaining({
        action: "abort",
        user: "bob",
        via: "dash-b",
        resourceVersion: "2",
      }),
    ]);
    owner.staged.requested(requests[0]);
    owner.staged.requested(requests[0]); // seen again (another write to the ConfigMap): once
    await owner.staged.flush(); // stored first, then performed (issue 17)
    const v = owner.staged.view()!;
    expect(v.aborted).toBe(true);
    expect(v.actions.filter((a) => a.action === "abort")).toEqual([
      expect.objectContaining({ user: "bob (via replica dash-b)" }),
    ]);
    await owner.staged.flush();
    expect(owner.saved.at(-1)).toMatchObject({ performed: (requests[0] as { id: string }).id });
  });
});

// Issue 17: a follower passed a move on and answered 202; when the owner then refused it (or
// its write was refused) the asker never learned it. The follower now waits for the owner's
// word (bounded) and passes it on: made, refused with why, or not confirmed yet.
describe("a move asked on a follower tells what the owner did with it", () => {
  const find = async (r: string) => (r === "1" ? v1 : null);
  async function pair(ownerSave: { fail: Error | null } = { fail: null }) {
    const requests: unknown[] = [];
    const ownerRefusal = { reason: null as string | null, active: true };
    const dApplied = new Map([["d", remoteStatusFor({ appliedRevision: 2 })]]);
    const owner = setup(["a", "b"], [], ownerRefusal, {
      remote: remote(["d"], dApplied),
      persistence: {
        loadRollout: async () => owner.saved.at(-1) ?? null,
        saveRollout: async (x) => {
          if (ownerSave.fail) throw ownerSave.fail;
          owner.saved.push(x);
        },
      },
    });
    const follower = setup(
      ["d"],
      [],
      { reason: null, active: false },
      {
        remote: remote(["a", "b"]),
        replica: "dash-b",
        confirmWaitMs: 300,
        persistence: {
          loadRollout: async () => owner.saved.at(-1) ?? null,
          saveRollout: async () => {},
          // The owner reads it through its watch, performs it, and the follower its state.
          saveRequest: async (r) => {
            requests.push(r);
            setTimeout(async () => {
              owner.staged.requested(r);
              await owner.staged.flush();
              follower.staged.follow(owner.saved.at(-1));
            }, 10);
          },
        },
      },
    );
    await savedAndFollowed(owner, follower, find);
    for (const [n, l] of owner.links) if (sent(l).at(-1) === 2) applied(owner.fleet, n, 2);
    owner.staged.remoteChanged(["d"]);
    await owner.staged.flush();
    follower.staged.follow(owner.saved.at(-1));
    await until(() => follower.staged.view()?.phase === "paused", 2000, 5, "paused followed");
    return { owner, follower, ownerRefusal, requests };
  }

  it("made by the owner: confirmed, the view showing it", async () => {
    const { follower } = await pair();
    const r = await follower.staged.request("promote", "bob");
    expect(r).toMatchObject({ ok: true, confirmed: true, view: { step: 1 } });
  });

  it("refused by the owner as things stand: the refusal passed on, and in the rollout's actions", async () => {
    const { follower, ownerRefusal } = await pair();
    ownerRefusal.reason = "replica dash-c runs an older release";
    const r = await follower.staged.request("promote", "bob");
    expect(r).toEqual({
      ok: false,
      error: expect.stringContaining("promote not made by the rollout's owner: not performed"),
    });
    expect(follower.staged.view()?.step).toBe(0);
  });

  it("the owner's write refused: not confirmed (never 'done'), nothing moved", async () => {
    const save = { fail: null as Error | null };
    const { follower } = await pair(save);
    save.fail = new Error("etcdserver: request timed out");
    const r = await follower.staged.request("promote", "bob");
    expect(r).toMatchObject({ ok: true, confirmed: false, view: { step: 0 } });
  });
});

describe("a move asked on a follower after another was made on the owner", () => {
  const find = async (r: string) => (r === "1" ? v1 : null);
  it("is not performed, and the rollout's actions say so", async () => {
    const owner = setup(
      ["a", "b", "c"],
      [],
      { reason: null, active: true },
      { remote: remote([]) },
    );
    await owner.staged.restore(owner.current, find);
    owner.save(v2, { ...WAVES, waves: [50, 100] });
    applied(owner.fleet, owner.canary, 2);
    // Asked on dash-b at the canary; the owner's own user promotes first.
    const asked = {
      id: "r-1",
      action: "promote",
      user: "bob",
      via: "dash-b",
      resourceVersion: "2",
    };
    expect(owner.staged.promote("alice", false).ok).toBe(true);
    owner.staged.requested({ ...asked, at: 1000, step: 0 });
    const v = owner.staged.view()!;
    expect(v.step).toBe(1); // one wave released, not two
    expect(v.actions.at(-1)).toMatchObject({
      action: "promote",
      user: "bob (via replica dash-b)",
      detail: "not performed (asked at the canary): another move came first, it is at wave 1",
    });
    await owner.staged.flush();
    expect(owner.saved.at(-1)).toMatchObject({ performed: "r-1" });
  });
});

describe("break7: a move written over before any owner performed it", () => {
  it("is recorded as not performed, and the later one is performed", async () => {
    const owner = setup(
      ["a", "b", "c"],
      [],
      { reason: null, active: true },
      { remote: remote([]) },
    );
    await owner.staged.restore(owner.current, async (r) => (r === "1" ? v1 : null));
    owner.save(v2, { ...WAVES, waves: [50, 100] });
    applied(owner.fleet, owner.canary, 2);
    // bob's promote waited 30 s with no owner; carol's, asked after it, was written over it.
    owner.staged.requested({
      id: "r-2",
      action: "promote",
      user: "carol",
      via: "dash-c",
      resourceVersion: "2",
      at: 40_000,
      step: 0,
      replaces: { id: "r-1", action: "promote", user: "bob", via: "dash-b", step: 0 },
    });
    await owner.staged.flush(); // stored first, then performed (issue 17)
    const v = owner.staged.view()!;
    expect(v.step).toBe(1);
    expect(v.actions.slice(-2)).toMatchObject([
      {
        action: "promote",
        user: "bob (via replica dash-b)",
        detail:
          "not performed (asked at the canary): no owner performed it within 30 s, and promote by carol (via replica dash-c) was asked after it",
      },
      { action: "promote", user: "carol (via replica dash-c)" },
    ]);
    await owner.staged.flush();
    expect(owner.saved.at(-1)).toMatchObject({ performed: "r-2", performedBefore: ["r-1"] });
  });
});

// Issue 17: a move confirmed to the user must have happened. The store's own fence error (the
// Kubernetes store's: another replica claimed the rollout) refuses it before or at the write.
describe("StagedRollouts.move answers once the move is stored", () => {
  const active = { now: true };
  const refusal = {
    reason: null,
    get active() {
      return active.now;
    },
  };
  beforeEach(() => {
    active.now = true;
  });
  /** The canary of v2 applied and stored; `store` says how the next check and write go. */
  async function paused() {
    const store = { check: null as Error | null, save: null as Error | null };
    const saved: unknown[] = [];
    const t = setup(["a", "b", "c"], [], refusal, {
      persistence: {
        loadRollout: async () => saved.at(-1) ?? null,
        saveRollout: async (s) => {
          if (store.save) throw store.save;
          saved.push(s);
        },
        checkRollout: async () => {
          if (store.check) throw store.check;
        },
      },
    });
    await t.staged.restore(t.current, async (rv) => ({ v1, v2 })[`v${rv}` as "v1"] ?? null);
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    return { t, store, saved };
  }

  it("stored: 200 with the move, the stored state saying it already", async () => {
    const { t, saved } = await paused();
    const r = await t.staged.move("promote", "bob");
    expect(r).toMatchObject({ ok: true, view: { step: 1 } });
    expect((saved.at(-1) as { current: { core: { step: number } } }).current.core.step).toBe(1);
  });

  it("another replica claimed the rollout: 409 naming it, nothing changed or sent", async () => {
    const { t, store, saved } = await paused();
    store.check = new RolloutFencedError("dash-b");
    const count = saved.length;
    const r = await t.staged.move("promote", "bob");
    expect(r).toEqual({
      ok: false,
      status: 409,
      error: expect.stringContaining("another replica owns this rollout: dash-b"),
    });
    expect(t.staged.view()?.step).toBe(0);
    expect(saved).toHaveLength(count);
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1]);
  });

  it("a dashboard not holding the Lease (no replica sync): 409, nothing changed", async () => {
    const { t } = await paused();
    t.staged.tick();
    active.now = false;
    const r = await t.staged.move("promote", "bob");
    expect(r).toEqual({
      ok: false,
      status: 409,
      error: expect.stringContaining("does not hold the singleton Lease"),
    });
    expect(t.staged.view()?.step).toBe(0);
    for (const n of t.rest) expect(sent(t.links.get(n)!)).toEqual([1]);
  });

  it("the write fails: 503, nothing made, no node of the next wave ever sent the revision", async () => {
    const { t, store } = await paused();
    store.save = new Error("etcdserver: request timed out");
    const r = await t.staged.move("promote", "bob");
    expect(r).toEqual({
      ok: false,
      status: 503,
      error: expect.stringContaining("promote not made: its state could not be written"),
    });
    expect(t.staged.view()?.step).toBe(0);
    store.save = null;
    t.staged.tick();
    await t.staged.flush();
    for (const n of t.rest) expect(sent(t.links.get(n)!), n).toEqual([1]);
  });
});

// Issue 17: a move was made (its wave sent the revision) before its write landed, and taken
// back when the write was refused: the nodes of that wave ran the new revision for a moment.
// Now it is written first and made only once the write landed.
describe("a move is made only once its state is stored", () => {
  /** The canary of v2 applied and stored; the next writes wait for `release`. */
  async function gated() {
    const gate = { held: false, fail: null as Error | null, open: [] as (() => void)[] };
    const saved: unknown[] = [];
    const t = setup(
      ["a", "b", "c"],
      [],
      { reason: null },
      {
        persistence: {
          loadRollout: async () => saved.at(-1) ?? null,
          saveRollout: async (s) => {
            if (gate.held) await new Promise<void>((r) => gate.open.push(r));
            if (gate.fail) throw gate.fail;
            saved.push(s);
          },
        },
      },
    );
    await t.staged.restore(t.current, async (rv) => ({ v1, v2 })[`v${rv}` as "v1"] ?? null);
    t.save(v2);
    applied(t.fleet, t.canary, 2);
    await t.staged.flush();
    gate.held = true;
    const release = async () => {
      await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
      for (const open of gate.open.splice(0)) open();
    };
    return { t, gate, saved, release };
  }

  /** What the nodes of the wave not released run or were sent, and the view's step. */
  const observed = (t: Awaited<ReturnType<typeof gated>>["t"]) => ({
    step: t.staged.view()?.step,
    sent: t.rest.map((n) => sent(t.links.get(n)!)),
    desired: t.rest.map((n) => t.staged.desiredFor(n, t.current())?.revision),
  });
  const before = { step: 0, sent: [[1], [1]], desired: [1, 1] };

  const refusals = [
    {
      desc: "fenced (another replica claimed it)",
      fail: new RolloutFencedError("dash-b"),
      status: 409,
    },
    {
      desc: "the API server not answering",
      fail: new Error("etcdserver: request timed out"),
      status: 503,
    },
  ];
  for (const { desc, fail, status } of refusals)
    it(`a write refused (${desc}): no node is sent the next wave at any moment`, async () => {
      const { t, gate, release } = await gated();
      const answer = t.staged.move("promote", "bob");
      // The write is on the wire: nothing is made yet.
      await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
      expect(observed(t)).toEqual(before);
      gate.fail = fail;
      await release();
      expect(await answer).toMatchObject({ ok: false, status });
      expect(observed(t)).toEqual(before);
      // Nor later (read again at the next tick when fenced).
      gate.held = false;
      t.staged.tick();
      await t.staged.flush();
      expect(observed(t)).toEqual(before);
    });

  it("a write that lands: the wave is sent the revision after it, and the answer says so", async () => {
    const { t, gate, saved, release } = await gated();
    const answer = t.staged.move("promote", "bob");
    await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
    expect(observed(t)).toEqual(before);
    await release();
    expect(await answer).toMatchObject({ ok: true, view: { step: 1 } });
    expect(observed(t)).toEqual({
      step: 1,
      sent: [
        [1, 2],
        [1, 2],
      ],
      desired: [2, 2],
    });
    expect((saved.at(-1) as { current: { core: { step: number } } }).current.core.step).toBe(1);
  });

  it("a canary failing while the move's write runs: taken after it, never lost", async () => {
    const { t, gate, release } = await gated();
    const answer = t.staged.move("retry", "bob");
    await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: exit 1"));
    expect(t.staged.view()?.phase, "not taken during the write").toBe("paused");
    gate.held = false;
    await release();
    expect(await answer).toMatchObject({ ok: true });
    await t.staged.flush();
    const v = t.staged.view()!;
    expect(v.phase).toBe("paused");
    expect(v.message).toContain("failed to apply: iptables-restore: exit 1");
  });

  // Its failure came before the retry was made (the retry is made once written), yet was taken
  // after it: the rollout paused again naming the canary while it applied the retry, listed
  // failed nowhere, and stayed paused once it applied.
  it("a retried node's failure reported during the retry's write is the retry's to clear", async () => {
    const { t, gate, release } = await gated();
    const fail = apply(2, false, "iptables-restore: exit 1");
    t.fleet.applyResult(t.canary, fail);
    expect(t.staged.view()?.pause).toMatchObject({ kind: "failure" });
    const answer = t.staged.move("retry", "bob");
    await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
    t.fleet.applyResult(t.canary, { ...fail, trigger: "periodic" }); // its own re-apply
    gate.held = false;
    await release();
    expect(await answer).toMatchObject({ ok: true });
    await t.staged.flush();
    // It runs v2 still (its record): the canary settled, paused to be promoted, none failed.
    expect(t.staged.view()).toMatchObject({ phase: "paused", pause: { kind: "manual" } });
    expect(t.staged.view()!.waves[0]!.failedNodes).toEqual([]);
  });

  // The failure waited for the write, then was taken by whatever rollout ran: v3's, begun
  // meanwhile, paused at once "a failed to apply" (v2's apply) before its canary did anything.
  it("a failure held during the write is not taken by a rollout begun meanwhile", async () => {
    const { t, gate, release } = await gated();
    const answer = t.staged.move("promote", "bob");
    await until(() => gate.open.length > 0, 2000, 1, "a write on the wire");
    t.fleet.applyResult(t.canary, apply(2, false, "iptables-restore: exit 1"));
    t.save(v3);
    gate.held = false;
    await release();
    expect(await answer).toMatchObject({ ok: false, status: 409 });
    await t.staged.flush();
    expect(t.staged.view()).toMatchObject({ revision: 3, phase: "progressing", pause: null });
  });
});
