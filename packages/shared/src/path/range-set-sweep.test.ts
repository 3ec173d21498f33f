import { describe, expect, it } from "vitest";
import type { Range } from "../cidr.js";
import {
  intersectRange,
  intersectSets,
  type RangeSet,
  subtractRange,
  subtractSets,
} from "./range-set.js";

const r = (first: number, last: number): Range => ({ first: BigInt(first), last: BigInt(last) });
/** The range-at-a-time definitions the sweeps replace, as the reference. */
const slowIntersect = (a: RangeSet, b: RangeSet) => b.flatMap((x) => intersectRange(a, x));
const slowSubtract = (a: RangeSet, b: RangeSet) =>
  b.reduce<RangeSet>((o, x) => subtractRange(o, x), a);

describe("range set sweeps", () => {
  const cases: {
    desc: string;
    input: [RangeSet, RangeSet];
    want: { and: RangeSet; minus: RangeSet };
  }[] = [
    { desc: "disjoint", input: [[r(0, 5)], [r(7, 9)]], want: { and: [], minus: [r(0, 5)] } },
    {
      desc: "inside",
      input: [[r(0, 9)], [r(3, 4)]],
      want: { and: [r(3, 4)], minus: [r(0, 2), r(5, 9)] },
    },
    {
      desc: "several over several",
      input: [
        [r(0, 4), r(10, 20)],
        [r(2, 12), r(15, 15), r(19, 30)],
      ],
      want: {
        and: [r(2, 4), r(10, 12), r(15, 15), r(19, 20)],
        minus: [r(0, 1), r(13, 14), r(16, 18)],
      },
    },
    { desc: "empty sides", input: [[], [r(1, 2)]], want: { and: [], minus: [] } },
    {
      desc: "everything removed",
      input: [[r(3, 4)], [r(0, 9)]],
      want: { and: [r(3, 4)], minus: [] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      expect({ and: intersectSets(...input), minus: subtractSets(...input) }).toEqual(want);
      expect({ and: slowIntersect(...input), minus: slowSubtract(...input) }).toEqual(want);
    });

  it("agrees with the reference on random sets", () => {
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const set = (): Range[] => {
      const out: Range[] = [];
      let at = rand(5);
      for (let k = rand(8); k > 0; k--) {
        const len = rand(6);
        out.push(r(at, at + len));
        at += len + 2 + rand(5);
      }
      return out;
    };
    for (let t = 0; t < 500; t++) {
      const a = set();
      const b = set();
      expect(intersectSets(a, b)).toEqual(slowIntersect(a, b));
      expect(subtractSets(a, b)).toEqual(slowSubtract(a, b));
    }
  });
});
