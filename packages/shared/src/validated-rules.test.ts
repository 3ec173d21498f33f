import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { decodeReporterMessage, encodeMessage, type FamilySnapshot } from "./protocol.js";
import { createReporterDecoder } from "./protocol-v1.js";
import { jsonEqual, VALIDATED_RULES_ENTRIES, ValidatedRules } from "./validated-rules.js";

describe("jsonEqual", () => {
  const cases: { desc: string; input: [unknown, unknown]; want: boolean }[] = [
    {
      desc: "equal nested values",
      input: [{ a: [1, "x", null] }, { a: [1, "x", null] }],
      want: true,
    },
    {
      desc: "key order does not matter",
      input: [
        { a: 1, b: 2 },
        { b: 2, a: 1 },
      ],
      want: true,
    },
    { desc: "an extra key", input: [{ a: 1 }, { a: 1, b: undefined }], want: false },
    { desc: "a missing key", input: [{ a: 1, b: 2 }, { a: 1 }], want: false },
    {
      desc: "array order matters",
      input: [
        ["a", "b"],
        ["b", "a"],
      ],
      want: false,
    },
    { desc: "array vs object with index keys", input: [["a"], { 0: "a" }], want: false },
    { desc: "null vs empty object", input: [null, {}], want: false },
    { desc: "number vs string", input: [1, "1"], want: false },
    { desc: "a longer array", input: [[1], [1, 1]], want: false },
    {
      desc: "a __proto__ key from JSON.parse against an object without it",
      input: [JSON.parse('{"__proto__": {"a": 1}}'), {}],
      want: false,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(jsonEqual(input[0], input[1])).toBe(want);
    expect(jsonEqual(input[1], input[0])).toBe(want);
  });
});

const family = (cidr = "10.0.0.0/8"): FamilySnapshot => ({
  family: "ipv4",
  backend: "nf_tables",
  chains: [
    { name: "POSTROUTING", lines: postroutingS() },
    { name: "IP-MASQ-AGENT", lines: chainS([cidr]) },
  ],
});

const snapshot = (linux: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: "snapshot",
    v: 2,
    seq: 1,
    takenAt: 1,
    appliedRevision: 3,
    linux,
    ...extra,
  });

/** Two connections of one dashboard, sharing one ValidatedRules. */
function twoDecoders() {
  const rules = new ValidatedRules<FamilySnapshot[]>();
  const [a, b] = [0, 1].map(() => createReporterDecoder({ validatedRules: rules }));
  for (const d of [a!, b!])
    expect(d.decode(encodeMessage(helloFor("node-a.example"))).ok).toBe(true);
  return { rules, a: a!, b: b! };
}

describe("a snapshot's rules validated once per distinct content", () => {
  it("gives a second node's equal rules the first one's validated objects", () => {
    const { rules, a, b } = twoDecoders();
    const first = a.decode(snapshot([family()]));
    const second = b.decode(snapshot([family()], { seq: 7 }));
    expect(first.ok && second.ok).toBe(true);
    if (!first.ok || !second.ok || first.msg.type !== "snapshot" || second.msg.type !== "snapshot")
      return;
    expect(second.msg.linux).toBe(first.msg.linux);
    expect(second.msg).toEqual({ ...first.msg, seq: 7 });
    expect(rules.hits).toBe(1);
  });

  // Every frame a decoder without the cache refuses is refused with it too, for the same reason.
  const refused: { desc: string; input: string }[] = [
    { desc: "known rules, a bad envelope field", input: snapshot([family()], { seq: -1 }) },
    { desc: "known rules, an unknown envelope field", input: snapshot([family()], { x: 1 }) },
    {
      desc: "known rules, a malformed digest beside them",
      input: snapshot([family()], { linuxDigest: "sha256:xyz" }),
    },
    {
      desc: "a chain with an extra key",
      input: snapshot([{ ...family(), chains: [{ name: "POSTROUTING", lines: [], x: 1 }] }]),
    },
    {
      desc: "a line of another chain",
      input: snapshot([
        { ...family(), chains: [{ name: "POSTROUTING", lines: ["-A KUBE-X -j RETURN"] }] },
      ]),
    },
    { desc: "linux not an array of families", input: snapshot([1]) },
  ];
  it.each(refused)("refuses $desc as an uncached decoder does", ({ input }) => {
    const { a, b } = twoDecoders();
    expect(a.decode(snapshot([family()])).ok).toBe(true); // the rules are now known
    const want = decodeReporterMessage(input);
    expect(want.ok).toBe(false);
    expect(b.decode(input)).toEqual(want);
  });

  it("remembers the last few distinct rules, newest first", () => {
    const { rules, a } = twoDecoders();
    const cidrs = Array.from({ length: VALIDATED_RULES_ENTRIES + 1 }, (_, i) => `10.${i}.0.0/16`);
    for (const c of cidrs) expect(a.decode(snapshot([family(c)])).ok).toBe(true);
    expect(rules.hits).toBe(0);
    a.decode(snapshot([family(cidrs.at(-1)!)]));
    expect(rules.hits).toBe(1);
    a.decode(snapshot([family(cidrs[0])])); // forgotten: validated again
    expect(rules.hits).toBe(1);
  });

  it("does not remember rules from frames over the size bound", () => {
    const rules = new ValidatedRules<FamilySnapshot[]>();
    rules.remember([], [], 64 * 1024 + 1);
    expect(rules.find([])).toBeUndefined();
    rules.remember([], [], 100);
    expect(rules.find([])).toEqual([]);
  });
});
