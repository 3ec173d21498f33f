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

  // A file with only resyncInterval and masqueradeCIDRs showed as adding (and, removed,
  // removing) 10.0.0.0/8, 172.16.0.0/12 and 192.168.0.0/16: the defaults its parse fills in.
  const CONFLICT = src(
    "ip-masq-conflict",
    "resyncInterval: 30s\nmasqueradeCIDRs: [172.16.5.0/24]\n",
  );
  const diffs: {
    desc: string;
    input: { before: ExtraSource[]; after: ExtraSource[] };
    want: { added: string[]; removed: string[]; exceptions: string[][] };
  }[] = [
    {
      desc: "added: only the CIDRs it lists",
      input: { before: [], after: [CONFLICT] },
      want: { added: [], removed: [], exceptions: [["172.16.5.0/24"], []] },
    },
    {
      desc: "removed: only the CIDRs it listed",
      input: { before: [CONFLICT], after: [] },
      want: { added: [], removed: [], exceptions: [[], ["172.16.5.0/24"]] },
    },
    {
      desc: "its list left out: its own CIDRs removed, no default added",
      input: { before: [A2], after: [{ ...B, source: A2.source }] },
      want: { added: [], removed: ["10.0.0.0/8", "192.0.2.0/24"], exceptions: [[], []] },
    },
  ];
  it.each(diffs)("diff $desc", ({ input, want }) => {
    const h = new SourceHistory((t) => parseConfigText(t));
    h.note(input.before, input.after, 1);
    const d = h.list()[0]?.diff;
    expect({
      added: d?.added,
      removed: d?.removed,
      exceptions: [d?.exceptionsAdded ?? [], d?.exceptionsRemoved ?? []],
    }).toEqual(want);
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
