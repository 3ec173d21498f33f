// Facts are immutable: a branch's change is a new Facts with every other field as it was.
import { describe, expect, it } from "vitest";
import { initialFacts, withFact } from "./facts.js";
import { knownMark } from "./marks.js";

describe("withFact", () => {
  const f = initialFacts({ family: "ipv4", protocol: 6, dport: 53, mark: 0x4000 });
  const cases = [
    { desc: "source", field: "source", value: [{ first: 1n, last: 2n }] },
    { desc: "protocol", field: "protocol", value: 17 },
    { desc: "mark", field: "mark", value: knownMark(1) },
    { desc: "opaque", field: "opaque", value: new Map([["-m foo", true]]) },
  ] as const;
  for (const { desc, field, value } of cases)
    it(`replaces ${desc} and keeps the rest, leaving the original as it was`, () => {
      const before = structuredClone(f);
      const next = withFact(f, field, value as never);
      expect(next[field]).toBe(value);
      expect({ ...next, [field]: f[field] }).toEqual(f);
      expect(f).toEqual(before);
    });
});
