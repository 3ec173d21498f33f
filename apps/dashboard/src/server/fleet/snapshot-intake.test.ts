import { PROTOCOL_VERSION, type Snapshot } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { SnapshotIntake, snapshotChars } from "./snapshot-intake.js";

/** A snapshot bringing `chars` characters of rule text (one line of chars − 1 plus newline). */
const snap = (seq: number, chars = 100): Snapshot => ({
  type: "snapshot",
  v: PROTOCOL_VERSION,
  seq,
  takenAt: 0,
  appliedRevision: null,
  linux: [
    {
      family: "ipv4",
      backend: "nf_tables",
      chains: [{ name: "IP-MASQ-AGENT", lines: ["x".repeat(chars - 1)] }],
    },
  ],
});

const KB = 1024;

/**
 * An intake on a simulated clock (per node 1,000 characters per ms of waiting: 1 MB/s; for all
 * nodes `total`, unlimited unless given): judging takes `cost` ms of it, and tests move it on
 * with `advance` (the intake's timers are real, short).
 */
function setup(cost = 0, sliceMs = 8, total = Number.POSITIVE_INFINITY) {
  let now = 0;
  let turn = 0;
  const judged: { node: string; seq: number; turn: number }[] = [];
  const intake = new SnapshotIntake(
    (node, s) => {
      judged.push({ node, seq: s.seq, turn });
      now += cost;
    },
    {
      clock: () => now,
      sliceMs,
      charsPerSecond: 1_000_000,
      totalCharsPerSecond: total,
      smallChars: 16 * KB,
    },
  );
  // Counts event-loop turns: judgements in one turn share a number.
  let ticking = true;
  const tick = () => {
    turn++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    intake,
    judged,
    advance: (ms: number) => {
      now += ms;
    },
    stop: () => {
      ticking = false;
      intake.close();
    },
  };
}

const until = async (ok: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  expect(ok()).toBe(true);
};

describe("SnapshotIntake", () => {
  it("measures the rule text a snapshot brings", () => {
    expect(snapshotChars(snap(0, 500))).toBe(500);
    const win: Snapshot = {
      ...snap(0),
      linux: undefined,
      windows: {
        path: "p",
        lists: [{ pointer: "/x", form: "OutBoundNAT", exceptions: ["10.0.0.0/8"] }],
      },
    };
    expect(snapshotChars(win)).toBe(11);
  });

  it("counts rules shared by many snapshots once, and each snapshot's own rules", () => {
    const shared = snap(0, 500);
    const cases: { desc: string; input: Snapshot; want: number }[] = [
      { desc: "the first snapshot of the rules", input: shared, want: 500 },
      {
        desc: "another node's, sharing them",
        input: { ...snap(1), linux: shared.linux },
        want: 500,
      },
      { desc: "rules of its own", input: snap(2, 300), want: 300 },
      { desc: "no rules", input: { ...snap(3), linux: undefined }, want: 0 },
    ];
    for (const c of cases) expect(snapshotChars(c.input), c.desc).toBe(c.want);
  });

  it("judges small snapshots at once, every one", () => {
    const t = setup();
    for (let i = 0; i < 100; i++) t.intake.offer("a", snap(i));
    expect(t.judged.map((j) => j.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(t.intake.pending).toBe(0);
    t.stop();
  });

  it("makes a node wait after a large snapshot, then judges only its newest one", async () => {
    const t = setup();
    t.intake.offer("big", snap(0, 200_000)); // 200 ms of budget at 1 MB/s
    for (let i = 1; i <= 50; i++) t.intake.offer("big", snap(i, 200_000)); // a flood
    expect(t.judged.map((j) => j.seq)).toEqual([0]);
    expect([t.intake.pending, t.intake.coalesced]).toEqual([1, 49]);
    t.advance(199);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.judged).toHaveLength(1);
    t.advance(1);
    await until(() => t.judged.length === 2);
    expect(t.judged[1]!.seq).toBe(50);
    t.stop();
  });

  it("does not hold back other nodes while one waits", () => {
    const t = setup();
    t.intake.offer("big", snap(0, 200_000));
    t.intake.offer("big", snap(1, 200_000));
    for (let i = 0; i < 10; i++) t.intake.offer(`small-${i}`, snap(i));
    expect(t.judged.filter((j) => j.node.startsWith("small"))).toHaveLength(10);
    t.stop();
  });

  it("makes many nodes' large snapshots share one budget, and lets small ones through", async () => {
    const t = setup(0, 8, 2_000_000); // all nodes together: 2 MB/s
    for (let i = 0; i < 4; i++) t.intake.offer(`big-${i}`, snap(0, 100_000));
    // big-0 spent 50 ms of the shared budget: the others wait for it, in turn.
    expect(t.judged.map((j) => j.node)).toEqual(["big-0"]);
    t.intake.offer("small", snap(0));
    expect(t.judged.map((j) => j.node)).toEqual(["big-0", "small"]);
    t.advance(50);
    await until(() => t.judged.length === 3);
    expect(t.judged[2]!.node).toBe("big-1");
    t.advance(49);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.judged).toHaveLength(3);
    t.advance(1);
    await until(() => t.judged.length === 4);
    t.advance(50);
    await until(() => t.judged.length === 5);
    expect(t.judged.map((j) => j.node).slice(3)).toEqual(["big-2", "big-3"]);
    t.stop();
  });

  it("judges waiting snapshots in short slices, yielding to the event loop in between", async () => {
    const t = setup(5, 8); // each judgement takes 5 ms, slices are 8 ms
    const nodes = Array.from({ length: 8 }, (_, i) => `n${i}`);
    for (const n of nodes) t.intake.offer(n, snap(0, 100_000)); // first ones: at once
    for (const n of nodes) t.intake.offer(n, snap(1, 100_000)); // each waits 100 ms
    expect(t.judged).toHaveLength(8);
    t.advance(100);
    await until(() => t.judged.length === 16);
    const perTurn = new Map<number, number>();
    for (const j of t.judged.slice(8)) perTurn.set(j.turn, (perTurn.get(j.turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(2);
    t.stop();
  });

  it("forgets a dropped node's waiting snapshot", async () => {
    const t = setup();
    t.intake.offer("a", snap(0, 20_000));
    t.intake.offer("a", snap(1, 20_000));
    t.intake.drop("a");
    expect(t.intake.pending).toBe(0);
    t.advance(100);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.judged).toHaveLength(1);
    t.stop();
  });
});
