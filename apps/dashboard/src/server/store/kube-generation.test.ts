import type { V1ConfigMap } from "@kubernetes/client-node";
import { sha256 } from "@masq/node-util";
import { describe, expect, it } from "vitest";
import {
  annotatedGeneration,
  annotationsFor,
  decideGeneration,
  describe as describeRevision,
  type GenerationInput,
} from "./kube-generation.js";

const cm = (
  text: string,
  annotations: Record<string, string> = {},
  managedFields = [] as object[],
) =>
  ({
    metadata: { resourceVersion: "7", annotations, managedFields },
    data: { config: text },
  }) as V1ConfigMap;

describe("decideGeneration", () => {
  const cases: {
    desc: string;
    input: GenerationInput;
    want: { generation: number; stamp: boolean };
  }[] = [
    {
      desc: "our own save: its annotation is new",
      input: { recorded: undefined, annotated: 22, highest: 21, sameTextAsHighest: false },
      want: { generation: 22, stamp: false },
    },
    {
      desc: "a fresh replica that knows nothing takes the ConfigMap's word",
      input: { recorded: undefined, annotated: 21, highest: 0, sameTextAsHighest: false },
      want: { generation: 21, stamp: false },
    },
    {
      desc: "our stamp of an outside edit (same text as the highest): the same generation",
      input: { recorded: undefined, annotated: 22, highest: 22, sameTextAsHighest: true },
      want: { generation: 22, stamp: false },
    },
    {
      desc: "an outside edit (annotation no longer matches the text): the next one, stamped",
      input: { recorded: undefined, annotated: undefined, highest: 22, sameTextAsHighest: false },
      want: { generation: 23, stamp: true },
    },
    {
      desc: "an old manifest applied again with its old annotations: never backwards",
      input: { recorded: undefined, annotated: 20, highest: 22, sameTextAsHighest: false },
      want: { generation: 23, stamp: true },
    },
    {
      desc: "a copy of the highest generation's annotation on other text: a new one",
      input: { recorded: undefined, annotated: 22, highest: 22, sameTextAsHighest: false },
      want: { generation: 23, stamp: true },
    },
    {
      desc: "a revision the history recorded keeps its generation",
      input: { recorded: 22, annotated: undefined, highest: 22, sameTextAsHighest: true },
      want: { generation: 22, stamp: false },
    },
    {
      desc: "a ConfigMap nobody numbered yet (the chart's): generation 1",
      input: { recorded: undefined, annotated: undefined, highest: 0, sameTextAsHighest: false },
      want: { generation: 1, stamp: true },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(decideGeneration(input)).toEqual(want);
  });
});

describe("annotations", () => {
  it("reads the generation only while the text is the one it was written with", () => {
    const text = "nonMasqueradeCIDRs: [10.0.0.0/8]\n";
    const a = annotationsFor({ author: "alice", message: "m", text, generation: 5 });
    expect(a["ipmasq.dev/config-sha256"]).toBe(sha256(text));
    expect(annotatedGeneration(cm(text, a))).toBe(5);
    expect(annotatedGeneration(cm(`${text}# edited\n`, a))).toBeUndefined();
    expect(annotatedGeneration(cm(text, { ...a, "ipmasq.dev/generation": "-1" }))).toBeUndefined();
    expect(annotatedGeneration(cm(text, { ...a, "ipmasq.dev/generation": "1e3" }))).toBeUndefined();
  });

  it("attributes an outside edit to the last other field manager, even on a same-second tie", () => {
    const t = "2026-01-01T00:00:00Z";
    const fields = [
      { manager: "kubectl-edit", time: t },
      { manager: "ipmasq-dashboard", time: t },
    ];
    const a = annotationsFor({ author: "alice", message: "m", text: "old", generation: 5 });
    expect(describeRevision(cm("new", a, fields))).toMatchObject({
      revision: "7",
      author: "kubectl-edit (outside the dashboard)",
      message: "edited outside the dashboard",
    });
    expect(describeRevision(cm("old", a, fields))).toMatchObject({ author: "alice", message: "m" });
  });
});
