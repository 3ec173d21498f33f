import { describe, expect, it } from "vitest";
import { nameHash, setDigest, verifyMembers, withName } from "./wave-digest.js";

const counted = [
  "ip-10-0-0-1.ec2.internal",
  "ip-10-0-0-2.ec2.internal",
  "ip-10-0-0-3.ec2.internal",
];
const of = (names: string[]) => ({ size: names.length, digest: setDigest(names) });

describe("verifyMembers", () => {
  const cases: {
    desc: string;
    input: { known: string[]; counted: string[] };
    want: ReturnType<typeof verifyMembers>;
  }[] = [
    {
      desc: "exactly the members counted, in any order",
      input: { known: [...counted].reverse(), counted },
      want: { ok: true },
    },
    {
      desc: "the members and one node joined since: the joiner found",
      input: { known: [...counted, "joined-late"], counted },
      want: { ok: true, joiner: "joined-late" },
    },
    {
      desc: "as many as counted, but a joiner for a member whose record is gone (break7)",
      input: { known: [counted[0]!, counted[1]!, "joined-late"], counted },
      want: { ok: false },
    },
    {
      desc: "a member not seen",
      input: { known: [counted[0]!, counted[1]!], counted },
      want: { ok: false },
    },
    {
      desc: "two joiners: not told apart",
      input: { known: [...counted, "joined-1", "joined-2"], counted },
      want: { ok: false },
    },
    {
      desc: "nothing counted, nothing known",
      input: { known: [], counted: [] },
      want: { ok: true },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(verifyMembers(input.known, of(input.counted))).toEqual(want);
  });
});

describe("digests", () => {
  it("add and take names one at a time, as the whole set's digest", () => {
    const d = setDigest(counted);
    expect(withName(setDigest(counted.slice(0, 2)), counted[2]!, 1)).toBe(d);
    expect(withName(d, counted[2]!, -1)).toBe(setDigest(counted.slice(0, 2)));
    expect(withName(setDigest([]), counted[0]!, -1)).toBe(2 ** 48 - nameHash(counted[0]!));
  });

  it("are 48-bit integers, the same on every replica", () => {
    const h = nameHash("node-1");
    expect(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 48).toBe(true);
    expect(nameHash("node-1")).toBe(h);
    expect(nameHash("node-2")).not.toBe(h);
  });
});
