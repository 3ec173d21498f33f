import { until } from "@masq/testkit/wait";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { RolloutFencedError } from "../store/kube-rollout.js";
import { type MoveAction, notChecked, notWritten } from "./staged-move.js";
import { NotOwnerError, type Persisted, StateWriter } from "./staged-state.js";

describe("a move's answer when its state is not stored", () => {
  const cases: {
    desc: string;
    input: { of: typeof notChecked; action: MoveAction; e: unknown };
    want: { status: number; error: string[] };
  }[] = [
    {
      desc: "checked: another replica claimed the rollout",
      input: { of: notChecked, action: "promote", e: new RolloutFencedError("dash-b") },
      want: { status: 409, error: ["promote not made: another replica owns this rollout: dash-b"] },
    },
    {
      desc: "checked: the API server not answering",
      input: { of: notChecked, action: "abort", e: new Error("connect ECONNREFUSED") },
      want: {
        status: 503,
        error: [
          "abort not made",
          "could not be checked (connect ECONNREFUSED)",
          "nothing was changed",
        ],
      },
    },
    {
      desc: "written: refused by the fence after the check",
      input: { of: notWritten, action: "retry", e: new RolloutFencedError("dash-c") },
      want: {
        status: 409,
        error: ["retry not made: another replica owns this rollout: dash-c", "no node was sent it"],
      },
    },
    {
      desc: "written: the Lease lost while it was queued",
      input: { of: notWritten, action: "promote", e: new NotOwnerError("no longer holds") },
      want: { status: 409, error: ["promote not made: no longer holds"] },
    },
    {
      desc: "written: the write failed",
      input: { of: notWritten, action: "promote", e: new Error("etcdserver: timeout") },
      want: {
        status: 503,
        error: ["promote not made", "could not be written to Kubernetes (etcdserver: timeout)"],
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const a = input.of(input.action, input.e);
      expect(a.ok).toBe(false);
      if (a.ok) return;
      expect(a.status).toBe(want.status);
      for (const part of want.error) expect(a.error).toContain(part);
    });
});

const state = (step: number) =>
  ({ version: 2, past: [], current: null, step }) as unknown as Persisted;

/** A store whose writes wait until released, failing with `fail` when set. */
function store() {
  const saved: unknown[] = [];
  const gates: (() => void)[] = [];
  const s = {
    saved,
    fail: undefined as Error | undefined,
    release: () => gates.shift()?.(),
    async saveRollout(x: unknown) {
      await new Promise<void>((r) => gates.push(r));
      if (s.fail) throw s.fail;
      saved.push(x);
    },
    loadRollout: async () => saved.at(-1) ?? null,
  };
  return s;
}

describe("StateWriter.landed", () => {
  it("nothing queued: at once", async () => {
    const w = new StateWriter(store(), silentLogger());
    await expect(w.landed()).resolves.toBeUndefined();
  });

  it("the write on the wire: once it is stored, not before", async () => {
    const s = store();
    const w = new StateWriter(s, silentLogger());
    w.write(state(1));
    let done = false;
    const landed = w.landed().then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(false);
    s.release();
    await landed;
    expect(s.saved).toEqual([state(1)]);
  });

  it("a state queued behind another and replaced by a newer one: once the newer is stored", async () => {
    const s = store();
    const w = new StateWriter(s, silentLogger());
    w.write(state(1));
    w.write(state(2));
    const landed = w.landed();
    w.write(state(3));
    s.release();
    await until(() => s.saved.length === 1, 5000, 1, "the first write stored");
    s.release();
    await landed;
    expect(s.saved).toEqual([state(1), state(3)]);
  });

  it("fenced: rejected, and the state queued behind it is neither written nor said stored", async () => {
    const s = store();
    let fenced = 0;
    const w = new StateWriter(
      s,
      silentLogger(),
      () => true,
      () => fenced++,
    );
    w.write(state(1));
    const first = w.landed();
    w.write(state(2));
    const second = w.landed();
    s.fail = new RolloutFencedError("dash-b");
    s.release();
    await expect(first).rejects.toBeInstanceOf(RolloutFencedError);
    await expect(second).rejects.toBeInstanceOf(RolloutFencedError);
    await w.flush();
    expect({ saved: s.saved, fenced }).toEqual({ saved: [], fenced: 1 });
  });

  it("a write that failed: rejected with its error", async () => {
    const s = store();
    const w = new StateWriter(s, silentLogger());
    w.write(state(1));
    const landed = w.landed();
    s.fail = new Error("etcdserver: timeout");
    s.release();
    await expect(landed).rejects.toThrow("etcdserver: timeout");
  });

  it("the Lease lost before it was written: rejected, not written", async () => {
    const s = store();
    let owner = true;
    const w = new StateWriter(s, silentLogger(), () => owner);
    w.write(state(1));
    w.write(state(2));
    const landed = w.landed();
    owner = false;
    s.release();
    await expect(landed).rejects.toBeInstanceOf(NotOwnerError);
    expect(s.saved).toEqual([state(1)]);
  });
});
