import { describe, expect, it } from "vitest";
import {
  assumeMark,
  decideMark,
  forgetBits,
  knownMark,
  type MarkState,
  markWords,
  parseMarkTest,
  setXmark,
  UNKNOWN_MARK,
} from "./marks.js";

const t = (text: string) => parseMarkTest(text)!;

describe("parseMarkTest", () => {
  const cases: { desc: string; input: string; want: ReturnType<typeof parseMarkTest> }[] = [
    { desc: "value/mask", input: "0x4000/0x4000", want: { value: 0x4000, mask: 0x4000 } },
    { desc: "value alone: every bit", input: "0x1", want: { value: 1, mask: 0xffffffff } },
    { desc: "decimal", input: "16384/16384", want: { value: 0x4000, mask: 0x4000 } },
    {
      desc: "value bits outside the mask are kept (such a test never matches)",
      input: "0xff/0xf",
      want: { value: 0xff, mask: 0xf },
    },
    { desc: "not a number", input: "0xzz", want: undefined },
    { desc: "too wide", input: "0x100000000", want: undefined },
  ];
  for (const c of cases) it(c.desc, () => expect(parseMarkTest(c.input)).toEqual(c.want));
});

describe("decideMark / assumeMark", () => {
  const cases: { desc: string; state: MarkState; test: string; want: boolean | undefined }[] = [
    { desc: "nothing known", state: UNKNOWN_MARK, test: "0x4000/0x4000", want: undefined },
    { desc: "known mark matches", state: knownMark(0x4000), test: "0x4000/0x4000", want: true },
    { desc: "known mark does not", state: knownMark(0), test: "0x4000/0x4000", want: false },
    {
      desc: "a known bit that differs decides",
      state: setXmark(UNKNOWN_MARK, 0, 0x4000),
      test: "0x4000/0xc000",
      want: false,
    },
    {
      desc: "other bits do not matter",
      state: setXmark(UNKNOWN_MARK, 0x4000, 0x4000),
      test: "0x4000/0x4000",
      want: true,
    },
  ];
  for (const c of cases) it(c.desc, () => expect(decideMark(c.state, t(c.test))).toBe(c.want));

  it("a branch remembers what it assumed", () => {
    const yes = assumeMark(UNKNOWN_MARK, t("0x4000/0x4000"), true)!;
    expect(decideMark(yes, t("0x4000/0x4000"))).toBe(true);
    const no = assumeMark(UNKNOWN_MARK, t("0x4000/0x4000"), false)!;
    expect(decideMark(no, t("0x4000/0x4000"))).toBe(false);
    expect(assumeMark(no, t("0x4000/0x4000"), true)).toBeNull();
    // Several unknown bits: the failing test is remembered as such.
    const multi = assumeMark(UNKNOWN_MARK, t("0xa00/0xe00"), false)!;
    expect(decideMark(multi, t("0xa00/0xe00"))).toBe(false);
    expect(decideMark(multi, t("0x200/0xe00"))).toBeUndefined();
  });

  it("MARK --set-xmark and CONNMARK --restore-mark", () => {
    // kube-proxy clears its bit before MASQUERADE: --set-xmark 0x4000/0x0 flips it.
    const marked = assumeMark(UNKNOWN_MARK, t("0x4000/0x4000"), true)!;
    expect(decideMark(setXmark(marked, 0x4000, 0), t("0x4000/0x4000"))).toBe(false);
    expect(decideMark(setXmark(UNKNOWN_MARK, 0x10, 0x10), t("0x10/0x10"))).toBe(true);
    expect(decideMark(forgetBits(knownMark(0x10), 0xff), t("0x10/0x10"))).toBeUndefined();
  });
});

describe("markWords", () => {
  const cases: { desc: string; input: [string, boolean]; want: string }[] = [
    { desc: "kube-proxy's bit set", input: ["0x4000/0x4000", true], want: "mark bit 0x4000 set" },
    { desc: "its test failing", input: ["0x4000/0x4000", false], want: "mark bit 0x4000 clear" },
    {
      desc: "nft's `mark and 0x4000 == 0`",
      input: ["0x0/0x4000", true],
      want: "mark bit 0x4000 clear",
    },
    { desc: "that failing", input: ["0/0x4000", false], want: "mark bit 0x4000 set" },
    { desc: "a whole mark", input: ["0x3", true], want: "mark 0x3" },
    { desc: "a whole mark, failing", input: ["0x3", false], want: "mark not 0x3" },
    { desc: "a multi-bit mask", input: ["0x100/0xff00", true], want: "mark 0x100/0xff00" },
    { desc: "that failing", input: ["0x100/0xff00", false], want: "! mark 0x100/0xff00" },
    { desc: "a value outside its one-bit mask", input: ["0x3/0x1", true], want: "mark 0x3/0x1" },
  ];
  for (const c of cases)
    it(c.desc, () => expect(markWords(t(c.input[0]), c.input[1])).toBe(c.want));
});
