import { parseConfigText } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ExtraSource } from "../store/sources.js";
import { SOURCE_HISTORY_LIMIT, SourceHistory } from "./source-history.js";

const src = (name: string, text: string, resourceVersion = text, key = "config"): ExtraSource => ({
  source: { kind: "configmap", name, key },
  text,
  resourceVersion,
  author: "kubectl-edit (outside the dashboard)",
  updatedAt: "2026-01-01T00:00:00Z",
});
const A1 = src("ip-masq-a", "nonMasqueradeCIDRs: [10.0.0.0/8]\n", "1");
const A2 = src("ip-masq-a", "nonMasqueradeCIDRs: [10.0.0.0/8, 192.0.2.0/24]\n", "2");
const B = src("ip-masq-b", "masqLinkLocal: true\n", "1");

describe("SourceHistory", () => {
  const cases: {
    desc: string;
    input: { before: ExtraSource[]; after: ExtraSource[]; revision: number | null };
    want: [string, string, number | null][];
  }[] = [
    {
      desc: "a new source is added",
      input: { before: [], after: [A1], revision: 4 },
      want: [["ConfigMap ip-masq-a key config", "added", 4]],
    },
    {
      desc: "a changed source, and one that went away",
      input: { before: [A1, B], after: [A2], revision: null },
      want: [
        ["ConfigMap ip-masq-a key config", "changed", null],
        ["ConfigMap ip-masq-b key config", "removed", null],
      ],
    },
    {
      desc: "another key of the same ConfigMap changed: this one did not (same text, new revision)",
      input: { before: [A1], after: [{ ...A1, resourceVersion: "9" }], revision: 5 },
      want: [],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const h = new SourceHistory((t) => parseConfigText(t));
    h.note(input.before, input.after, input.revision);
    expect(h.list().map((c) => [c.label, c.change, c.revision])).toEqual([...want].reverse());
  });

  it("records the source's own diff, and keeps a bounded list, newest first", () => {
    const h = new SourceHistory((t) => parseConfigText(t));
    h.note([A1], [A2], 3);
    expect(h.list()[0]?.diff.added).toEqual(["192.0.2.0/24"]);
    for (let i = 0; i < SOURCE_HISTORY_LIMIT + 5; i++)
      h.note([], [src("ip-masq-c", `# ${i}\n`)], i);
    expect(h.list()).toHaveLength(SOURCE_HISTORY_LIMIT);
    expect(h.list()[0]?.revision).toBe(SOURCE_HISTORY_LIMIT + 4);
  });
});
