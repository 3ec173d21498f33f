import { describe, expect, it } from "vitest";
import {
  assignWaves,
  rolloutStrategySchema,
  type WaveNode,
  type WavesStrategy,
  waveOfNewNode,
} from "./rollout-plan.js";
import { names, ordered, waves } from "./test-fixtures/rollout.js";

const nodes = (xs: string[]): WaveNode[] => xs.map((name) => ({ name }));

describe("assignWaves", () => {
  const ten = names(10);
  const o = ordered(ten);
  const cases: {
    desc: string;
    input: { nodes: WaveNode[]; s: WavesStrategy };
    want: string[][];
  }[] = [
    {
      desc: "a canary of one, then half, then all (cumulative, rounded up)",
      input: { nodes: nodes(ten), s: waves({ count: 1 }, [50, 100]) },
      want: [o.slice(0, 1), o.slice(1, 5), o.slice(5)],
    },
    {
      desc: "a 10% canary of three nodes is one node",
      input: { nodes: nodes(names(3)), s: waves({ percent: 10 }, [100]) },
      want: [ordered(names(3)).slice(0, 1), ordered(names(3)).slice(1)],
    },
    {
      desc: "a wave already covered by the canary is empty",
      input: { nodes: nodes(ten), s: waves({ count: 4 }, [30, 100]) },
      want: [o.slice(0, 4), [], o.slice(4)],
    },
    {
      desc: "a selector picks the canary by labels; the others fill the waves in hash order",
      input: {
        nodes: [
          { name: "a", labels: { pool: "canary" } },
          { name: "b", labels: { pool: "main" } },
          { name: "c" },
        ],
        s: waves({ selector: { pool: "canary" } }, [100]),
      },
      want: [["a"], ordered(["b", "c"])],
    },
    {
      desc: "no nodes: an empty canary and empty waves",
      input: { nodes: [], s: waves({ count: 1 }, [50, 100]) },
      want: [[], [], []],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(assignWaves(input.nodes, input.s)).toEqual(want);
  });

  it("does not depend on the order nodes are given in", () => {
    const s = waves({ count: 2 }, [40, 70, 100]);
    expect(assignWaves(nodes([...ten].reverse()), s)).toEqual(assignWaves(nodes(ten), s));
  });
});

describe("waveOfNewNode", () => {
  const s = waves({ count: 1 }, [50, 100]);
  const start = assignWaves(nodes(names(10)), s);
  it("a new node takes the wave of the node before it in hash order (the first of a wave: the wave before)", () => {
    for (const [i, wave] of start.entries())
      for (const [j, name] of wave.entries()) {
        const without = start.map((w) => w.filter((x) => x !== name));
        const want = j > 0 || i === 0 ? i : i - 1;
        expect(waveOfNewNode({ name }, s, without), name).toBe(want);
      }
  });
  const cases: {
    desc: string;
    input: { n: WaveNode; s: WavesStrategy; waves: string[][] };
    want: number;
  }[] = [
    {
      desc: "a selector's match joins the canary",
      input: {
        n: { name: "z", labels: { pool: "canary" } },
        s: waves({ selector: { pool: "canary" } }, [100]),
        waves: [["a"], ["b"]],
      },
      want: 0,
    },
    {
      desc: "without a selector match, never the canary",
      input: {
        n: { name: "z" },
        s: waves({ selector: { pool: "canary" } }, [100]),
        waves: [["a"], []],
      },
      want: 1,
    },
    {
      desc: "an empty rollout puts a new node in the canary",
      input: { n: { name: "z" }, s: waves({ count: 1 }, [100]), waves: [[], []] },
      want: 0,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(waveOfNewNode(input.n, input.s, input.waves)).toBe(want);
  });
});

describe("rolloutStrategySchema", () => {
  const cases: { desc: string; input: unknown; want: boolean }[] = [
    { desc: "all at once", input: { kind: "all-at-once" }, want: true },
    { desc: "waves", input: waves({ percent: 10 }, [50, 100]), want: true },
    {
      desc: "a timed pause",
      input: { ...waves({ count: 1 }, [100]), pause: { kind: "duration", seconds: 60 } },
      want: true,
    },
    { desc: "waves that do not end at 100%", input: waves({ count: 1 }, [50]), want: false },
    { desc: "waves that do not increase", input: waves({ count: 1 }, [50, 50, 100]), want: false },
    { desc: "an empty selector", input: waves({ selector: {} }, [100]), want: false },
    { desc: "a bad label key", input: waves({ selector: { "bad key": "x" } }, [100]), want: false },
    {
      desc: "a 100% canary (that is all at once)",
      input: waves({ percent: 100 }, [100]),
      want: false,
    },
    {
      desc: "a pause of two days",
      input: { ...waves({ count: 1 }, [100]), pause: { kind: "duration", seconds: 172_800 } },
      want: false,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(rolloutStrategySchema.safeParse(input).success).toBe(want);
  });
});
