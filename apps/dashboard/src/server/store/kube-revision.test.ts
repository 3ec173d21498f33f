import type { V1ConfigMap } from "@kubernetes/client-node";
import { sha256 } from "@masq/node-util";
import type { RolloutStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  annotatedRevision,
  annotationsFor,
  decideRevision,
  describe as describeRevision,
  type RevisionInput,
  withAnnotations,
} from "./kube-revision.js";

const cm = (
  text: string,
  annotations: Record<string, string> = {},
  managedFields = [] as object[],
) =>
  ({
    metadata: { resourceVersion: "7", annotations, managedFields },
    data: { config: text },
  }) as V1ConfigMap;

describe("decideRevision", () => {
  const cases: {
    desc: string;
    input: RevisionInput;
    want: { revision: number; stamp: boolean };
  }[] = [
    {
      desc: "our own save: its annotation is new",
      input: { recorded: undefined, annotated: 22, highest: 21, sameTextAsHighest: false },
      want: { revision: 22, stamp: false },
    },
    {
      desc: "a fresh replica that knows nothing takes the ConfigMap's word",
      input: { recorded: undefined, annotated: 21, highest: 0, sameTextAsHighest: false },
      want: { revision: 21, stamp: false },
    },
    {
      desc: "our stamp of an outside edit (same text as the highest): the same revision",
      input: { recorded: undefined, annotated: 22, highest: 22, sameTextAsHighest: true },
      want: { revision: 22, stamp: false },
    },
    {
      desc: "an outside edit (annotation no longer matches the text): the next one, stamped",
      input: { recorded: undefined, annotated: undefined, highest: 22, sameTextAsHighest: false },
      want: { revision: 23, stamp: true },
    },
    {
      desc: "an old manifest applied again with its old annotations: never backwards",
      input: { recorded: undefined, annotated: 20, highest: 22, sameTextAsHighest: false },
      want: { revision: 23, stamp: true },
    },
    {
      desc: "a copy of the highest revision's annotation on other text: a new one",
      input: { recorded: undefined, annotated: 22, highest: 22, sameTextAsHighest: false },
      want: { revision: 23, stamp: true },
    },
    {
      desc: "a revision the history recorded keeps its revision",
      input: { recorded: 22, annotated: undefined, highest: 22, sameTextAsHighest: true },
      want: { revision: 22, stamp: false },
    },
    {
      desc: "a ConfigMap nobody numbered yet (the chart's): revision 1",
      input: { recorded: undefined, annotated: undefined, highest: 0, sameTextAsHighest: false },
      want: { revision: 1, stamp: true },
    },
    {
      desc: "an outside edit after merges numbered up to 30: above every merged number",
      input: {
        recorded: undefined,
        annotated: undefined,
        highest: 22,
        sameTextAsHighest: false,
        merged: 30,
      },
      want: { revision: 31, stamp: true },
    },
    {
      desc: "an outside edit while the merges are below the history's numbers: the history's next",
      input: {
        recorded: undefined,
        annotated: undefined,
        highest: 22,
        sameTextAsHighest: false,
        merged: 20,
      },
      want: { revision: 23, stamp: true },
    },
    {
      desc: "an old manifest applied again after merges: above the merged numbers too",
      input: {
        recorded: undefined,
        annotated: 20,
        highest: 22,
        sameTextAsHighest: false,
        merged: 25,
      },
      want: { revision: 26, stamp: true },
    },
    {
      desc: "a save echoed back below a merge numbered since: its annotation still",
      input: {
        recorded: undefined,
        annotated: 31,
        highest: 22,
        sameTextAsHighest: false,
        merged: 32,
      },
      want: { revision: 31, stamp: false },
    },
    {
      desc: "our own stamp echoed back, merges numbered since: the same revision",
      input: {
        recorded: undefined,
        annotated: 31,
        highest: 31,
        sameTextAsHighest: true,
        merged: 33,
      },
      want: { revision: 31, stamp: false },
    },
    {
      desc: "another replica's stamp with a higher number than ours for the text: taken",
      input: {
        recorded: undefined,
        annotated: 32,
        highest: 31,
        sameTextAsHighest: true,
        merged: 31,
      },
      want: { revision: 32, stamp: false },
    },
    {
      desc: "another replica's stamp with a lower number than ours for the text: ours stamped over it",
      input: {
        recorded: undefined,
        annotated: 31,
        highest: 32,
        sameTextAsHighest: true,
        merged: 32,
      },
      want: { revision: 32, stamp: true },
    },
    {
      desc: "a revision the history recorded keeps its revision, whatever was merged since",
      input: { recorded: 22, annotated: 22, highest: 22, sameTextAsHighest: true, merged: 40 },
      want: { revision: 22, stamp: false },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(decideRevision(input)).toEqual(want);
  });
});

describe("annotations", () => {
  it("reads the revision only while the text is the one it was written with", () => {
    const text = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    const a = annotationsFor({ author: "alice", message: "m", text, revision: 5 });
    expect(a["ipmasq.dev/config-sha256"]).toBe(sha256(text));
    expect(annotatedRevision(cm(text, a))).toBe(5);
    expect(annotatedRevision(cm(`${text}# edited\n`, a))).toBeUndefined();
    expect(annotatedRevision(cm(text, { ...a, "ipmasq.dev/revision": "-1" }))).toBeUndefined();
    expect(annotatedRevision(cm(text, { ...a, "ipmasq.dev/revision": "1e3" }))).toBeUndefined();
  });

  it("reads the previous release's ipmasq.dev/generation; every write carries both, the same number", () => {
    const text = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    const {
      "ipmasq.dev/revision": _,
      "ipmasq.dev/generation": _g,
      ...old
    } = annotationsFor({
      author: "a",
      message: "m",
      text,
      revision: 4,
    });
    const legacy = { ...old, "ipmasq.dev/generation": "4", other: "kept" };
    expect(annotatedRevision(cm(text, legacy))).toBe(4);
    expect(annotatedRevision(cm(text, { ...legacy, "ipmasq.dev/revision": "6" }))).toBe(6);
    const next = annotationsFor({ author: "b", message: "m2", text, revision: 5 });
    const written = withAnnotations(legacy, next);
    expect(written).toMatchObject({
      "ipmasq.dev/revision": "5",
      "ipmasq.dev/generation": "5",
      other: "kept",
    });
  });

  it("attributes an outside edit to the last other field manager, even on a same-second tie", () => {
    const t = "2026-01-01T00:00:00Z";
    const fields = [
      { manager: "kubectl-edit", time: t },
      { manager: "ipmasq-dashboard", time: t },
    ];
    const a = annotationsFor({ author: "alice", message: "m", text: "old", revision: 5 });
    expect(describeRevision(cm("new", a, fields))).toMatchObject({
      resourceVersion: "7",
      author: "kubectl-edit (outside the dashboard)",
      message: "edited outside the dashboard",
    });
    expect(describeRevision(cm("old", a, fields))).toMatchObject({ author: "alice", message: "m" });
  });
});

describe("the strategy saved with a revision", () => {
  const text = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
  const waves: RolloutStrategy = {
    kind: "waves",
    canary: { percent: 10 },
    waves: [50, 100],
    pause: { kind: "manual" },
  };
  const saved = annotationsFor({
    author: "alice",
    message: "m",
    text,
    revision: 5,
    strategy: waves,
  });
  const key = "ipmasq.dev/rollout-strategy";
  const cases: {
    desc: string;
    input: { text: string; annotations: Record<string, string> };
    want: unknown;
  }[] = [
    {
      desc: "a save's strategy, the text unchanged",
      input: { text, annotations: saved },
      want: waves,
    },
    {
      desc: "an outside edit of the text: not trusted (the default strategy's)",
      input: { text: `${text}# edited\n`, annotations: saved },
      want: undefined,
    },
    {
      desc: "a save without a strategy: none",
      input: {
        text,
        annotations: annotationsFor({ author: "a", message: "m", text, revision: 5 }),
      },
      want: undefined,
    },
    {
      desc: "not JSON: none",
      input: { text, annotations: { ...saved, [key]: "waves please" } },
      want: undefined,
    },
    {
      desc: "JSON that is no strategy (waves not reaching 100%): none",
      input: { text, annotations: { ...saved, [key]: JSON.stringify({ ...waves, waves: [50] }) } },
      want: undefined,
    },
    {
      desc: "all at once",
      input: { text, annotations: { ...saved, [key]: '{"kind":"all-at-once"}' } },
      want: { kind: "all-at-once" },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(describeRevision(cm(input.text, input.annotations)).strategy).toEqual(want);
  });

  it("a later write without a strategy (a save, a stamp of an outside edit) removes it", () => {
    const later = annotationsFor({ author: "b", message: "m2", text: "x", revision: 6 });
    expect(withAnnotations(saved, later)[key]).toBeUndefined();
    const again = annotationsFor({
      author: "b",
      message: "m2",
      text: "x",
      revision: 6,
      strategy: waves,
    });
    expect(JSON.parse(withAnnotations(saved, again)[key]!)).toEqual(waves);
  });
});
