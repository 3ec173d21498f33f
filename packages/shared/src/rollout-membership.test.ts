import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  boundsOf,
  MAX_CANARY_NAMES,
  placeByBounds,
  type WaveBounds,
  waveBoundsSchema,
} from "./rollout-membership.js";
import {
  assignWaves,
  compareNodeOrder,
  type WaveNode,
  type WavesStrategy,
} from "./rollout-plan.js";
import { names, ordered, waves } from "./test-fixtures/rollout.js";

describe("boundsOf", () => {
  const o = ordered(names(10));
  const cases: {
    desc: string;
    input: { waves: string[][]; s: WavesStrategy };
    want: WaveBounds;
  }[] = [
    {
      desc: "each wave is the last node it took in hash order",
      input: {
        waves: [o.slice(0, 1), o.slice(1, 5), o.slice(5)],
        s: waves({ count: 1 }, [50, 100]),
      },
      want: { last: [o[0]!, o[4]!, o[9]!], canary: [o[0]!] },
    },
    {
      desc: "an empty wave has no boundary",
      input: { waves: [o.slice(0, 4), [], o.slice(4)], s: waves({ count: 4 }, [30, 100]) },
      want: { last: [o[3]!, null, o[9]!], canary: o.slice(0, 4) },
    },
    {
      desc: "a selector canary is its list; the waves after it are boundaries",
      input: {
        waves: [["node-3"], ordered(["node-1", "node-2"])],
        s: waves({ selector: { pool: "canary" } }, [100]),
      },
      want: { last: [null, ordered(["node-1", "node-2"])[1]!], canary: ["node-3"] },
    },
    {
      desc: "an older dashboard's lists (a late node appended out of order): the latest in order",
      input: {
        waves: [[o[0]!], [o[1]!, o[2]!, o[7]!], [o[3]!, o[4]!]],
        s: waves({ count: 1 }, [50, 100]),
      },
      want: { last: [o[0]!, o[7]!, o[4]!], canary: [o[0]!] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(boundsOf(input.waves, input.s)).toEqual(want);
    expect(waveBoundsSchema.parse(want)).toEqual(want);
  });

  it("a canary by count or percentage longer than the list limit is kept by its boundary", () => {
    const cut = [o.slice(0, 3), o.slice(3)];
    expect(boundsOf(cut, waves({ count: 3 }, [100]), 2)).toEqual({ last: [o[2]!, o[9]!] });
    expect(boundsOf(cut, waves({ percent: 30 }, [100]), 3)).toEqual({
      last: [o[2]!, o[9]!],
      canary: o.slice(0, 3),
    });
  });

  it("refuses a selector canary longer than a rollout may list", () => {
    const many = Array.from({ length: MAX_CANARY_NAMES + 1 }, (_, i) => `n${i}`);
    expect(() => boundsOf([many, []], waves({ selector: { a: "b" } }, [100]))).toThrow(
      `the canary selector matches ${MAX_CANARY_NAMES + 1} nodes, more than the ${MAX_CANARY_NAMES} a rollout may list`,
    );
  });
});

describe("placeByBounds", () => {
  const o = ordered(names(10));
  const count = waves({ count: 1 }, [50, 100]);
  const bounds = boundsOf(
    assignWaves(
      o.map((name) => ({ name })),
      count,
    ),
    count,
  );
  const selector = waves({ selector: { pool: "canary" } }, [50, 100]);
  const sBounds: WaveBounds = { last: [null, o[4]!, o[9]!], canary: ["listed"] };
  // A name placed between o[4] and o[5] in hash order (searched, so the table stays true).
  const between = Array.from({ length: 500 }, (_, i) => `late-${i}`).find(
    (n) => compareNodeOrder(n, o[4]!) > 0 && compareNodeOrder(n, o[5]!) < 0,
  )!;
  const beyond = Array.from({ length: 5000 }, (_, i) => `late-${i}`).find(
    (n) => compareNodeOrder(n, o[9]!) > 0,
  )!;
  const first = Array.from({ length: 5000 }, (_, i) => `late-${i}`).find(
    (n) => compareNodeOrder(n, o[0]!) < 0,
  )!;
  const { canary: _, ...unlisted } = bounds; // a canary kept by its boundary only
  const cases: {
    desc: string;
    input: { n: WaveNode; s: WavesStrategy; b: WaveBounds };
    want: number;
  }[] = [
    { desc: "the canary's own node", input: { n: { name: o[0]! }, s: count, b: bounds }, want: 0 },
    {
      desc: "a wave's boundary node is in it",
      input: { n: { name: o[4]! }, s: count, b: bounds },
      want: 1,
    },
    {
      desc: "the node after a boundary: next wave",
      input: { n: { name: o[5]! }, s: count, b: bounds },
      want: 2,
    },
    {
      desc: "a late node between two waves: the later one (late, never early)",
      input: { n: { name: between }, s: count, b: bounds },
      want: 2,
    },
    {
      desc: "a late node before every node, the canary listed: wave 1 (the canary stays its nodes)",
      input: { n: { name: first }, s: count, b: bounds },
      want: 1,
    },
    {
      desc: "a late node before every node, the canary by its boundary: the canary",
      input: { n: { name: first }, s: count, b: unlisted },
      want: 0,
    },
    {
      desc: "a canary kept by its boundary places its own node there",
      input: { n: { name: o[0]! }, s: count, b: unlisted },
      want: 0,
    },
    {
      desc: "a late node past every boundary: the last wave",
      input: { n: { name: beyond }, s: count, b: bounds },
      want: 2,
    },
    {
      desc: "selector: a listed node is the canary whatever its labels",
      input: { n: { name: "listed" }, s: selector, b: sBounds },
      want: 0,
    },
    {
      desc: "selector: a late node whose labels match joins the canary",
      input: { n: { name: beyond, labels: { pool: "canary" } }, s: selector, b: sBounds },
      want: 0,
    },
    {
      desc: "selector: labels not known is not the canary (never placed there by a guess)",
      input: { n: { name: o[0]! }, s: selector, b: sBounds },
      want: 1,
    },
    {
      desc: "selector: an empty wave takes no late node",
      input: { n: { name: o[5]! }, s: selector, b: { last: [null, null, o[9]!], canary: [] } },
      want: 2,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(placeByBounds(input.s, input.b)(input.n)).toBe(want);
  });

  const strategy = fc.record({
    canary: fc.oneof(
      fc.record({ count: fc.integer({ min: 1, max: 20 }) }),
      fc.record({ percent: fc.integer({ min: 1, max: 99 }) }),
      fc.constant({ selector: { pool: "canary" } }),
    ),
    waves: fc
      .uniqueArray(fc.integer({ min: 1, max: 99 }), { maxLength: 4 })
      .map((w) => [...w.sort((a, b) => a - b), 100]),
  });
  const node = fc.record({
    name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    canary: fc.boolean(),
  });
  const toWave = (n: { name: string; canary: boolean }): WaveNode => ({
    name: n.name,
    labels: n.canary ? { pool: "canary" } : {},
  });

  it("places every node of the start where assignWaves cut it, from boundaries alone", () => {
    fc.assert(
      fc.property(
        strategy,
        fc.uniqueArray(node, { selector: (n) => n.name, maxLength: 60 }),
        (st, ns) => {
          const s = waves(st.canary, st.waves);
          const nodes = ns.map(toWave);
          const cut = assignWaves(nodes, s);
          const place = placeByBounds(s, boundsOf(cut, s));
          cut.forEach((wave, i) => {
            for (const name of wave) expect(place(nodes.find((n) => n.name === name)!)).toBe(i);
          });
        },
      ),
    );
  });

  it("places a late node after every start node before it and before every one after it", () => {
    fc.assert(
      fc.property(
        strategy,
        fc.uniqueArray(node, { selector: (n) => n.name, minLength: 1, maxLength: 60 }),
        fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
        (st, ns, late) => {
          const s = waves(st.canary, st.waves);
          const nodes = ns.map(toWave).filter((n) => n.name !== late);
          const cut = assignWaves(nodes, s);
          const b = boundsOf(cut, s);
          const place = placeByBounds(s, b);
          const w = place({ name: late, labels: {} });
          // A listed canary takes no late node (late, never early).
          if (b.canary) expect(w).toBeGreaterThan(0);
          cut.forEach((wave, i) => {
            if (b.canary && i === 0) return;
            for (const name of wave) {
              if (compareNodeOrder(name, late) < 0) expect(w).toBeGreaterThanOrEqual(i);
              else expect(w).toBeLessThanOrEqual(i);
            }
          });
        },
      ),
    );
  });
});
