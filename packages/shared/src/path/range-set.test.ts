import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mustParseCidr } from "../cidr.js";
import {
  cidrRange,
  fullRange,
  intersectRange,
  rangeToCidrs,
  relation,
  setToCidrs,
  subtractRange,
  unionSets,
} from "./range-set.js";

const r = (cidr: string) => cidrRange(mustParseCidr(cidr));

describe("range sets", () => {
  const cases: { desc: string; input: () => string[]; want: string[] }[] = [
    {
      desc: "all minus 10.0.0.0/8",
      input: () => setToCidrs("ipv4", subtractRange([fullRange("ipv4")], r("10.0.0.0/8"))),
      want: [
        "0.0.0.0/5",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
        "16.0.0.0/4",
        "32.0.0.0/3",
        "64.0.0.0/2",
        "128.0.0.0/1",
      ],
    },
    {
      desc: "10.0.0.0/8 ∩ 10.1.0.0/16",
      input: () => setToCidrs("ipv4", intersectRange([r("10.0.0.0/8")], r("10.1.0.0/16"))),
      want: ["10.1.0.0/16"],
    },
    {
      desc: "the whole family",
      input: () => rangeToCidrs("ipv4", fullRange("ipv4")),
      want: ["0.0.0.0/0"],
    },
    {
      desc: "the whole IPv6 family",
      input: () => rangeToCidrs("ipv6", fullRange("ipv6")),
      want: ["::/0"],
    },
    {
      desc: "union merges neighbours",
      input: () => setToCidrs("ipv4", unionSets([r("10.0.0.0/9")], [r("10.128.0.0/9")])),
      want: ["10.0.0.0/8"],
    },
  ];
  for (const c of cases) it(c.desc, () => expect(c.input()).toEqual(c.want));

  it("relation: inside, outside, both", () => {
    expect(relation([r("10.1.0.0/16")], r("10.0.0.0/8"))).toBe("inside");
    expect(relation([r("192.168.0.0/16")], r("10.0.0.0/8"))).toBe("outside");
    expect(relation([fullRange("ipv4")], r("10.0.0.0/8"))).toBe("both");
  });

  it("subtracting then intersecting a block leaves nothing of it (property)", () => {
    const cidr = fc
      .tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 32 }))
      .map(([a, p]) => {
        const net = p === 0 ? 0 : (a >>> (32 - p)) << (32 - p);
        const ip = [24, 16, 8, 0].map((s) => ((net >>> 0) >>> s) & 255).join(".");
        return r(`${ip}/${p}`);
      });
    fc.assert(
      fc.property(fc.array(cidr, { maxLength: 6 }), cidr, (cut, block) => {
        let set = [fullRange("ipv4")] as ReturnType<typeof subtractRange>;
        for (const c of cut) set = subtractRange(set, c);
        expect(intersectRange(subtractRange(set, block), block)).toEqual([]);
        // What setToCidrs prints covers exactly the set.
        const again = setToCidrs("ipv4", set).map(r);
        expect(unionSets([], again)).toEqual(set);
      }),
    );
  });
});
