import { describe, expect, it } from "vitest";
import {
  fromLegacyRevisionNames,
  hasLegacyRevisionNames,
  toLegacyRevisionNames,
} from "./legacy-revision-names.js";

describe("fromLegacyRevisionNames", () => {
  const tests: { desc: string; input: unknown; want: unknown }[] = [
    {
      desc: "a desired of the previous release: generation → revision, revision → resourceVersion",
      input: { type: "desired", v: 2, generation: 3, revision: "812", config: {} },
      want: { type: "desired", v: 2, revision: 3, resourceVersion: "812", config: {} },
    },
    {
      desc: "a hello's appliedGeneration (null before any apply)",
      input: { type: "hello", appliedGeneration: null },
      want: { type: "hello", appliedRevision: null },
    },
    {
      desc: "an apply-result of a resync (generation null)",
      input: { type: "apply-result", generation: null, ok: true },
      want: { type: "apply-result", revision: null, ok: true },
    },
    {
      desc: "a persisted rollout: the previous pair too",
      input: { revision: "9", generation: 4, previousRevision: "8", previousGeneration: 3 },
      want: {
        resourceVersion: "9",
        revision: 4,
        previousResourceVersion: "8",
        previousRevision: 3,
      },
    },
    {
      desc: "a reporter's state file (nulls: applied from a file, not the dashboard)",
      input: { v: 1, generation: null, revision: null, source: "file" },
      want: { v: 1, revision: null, resourceVersion: null, source: "file" },
    },
    {
      desc: "already in the current names: the same object",
      input: { type: "desired", revision: 3, resourceVersion: "812" },
      want: { type: "desired", revision: 3, resourceVersion: "812" },
    },
    { desc: "not an object", input: "generation", want: "generation" },
    { desc: "an array", input: [{ generation: 1 }], want: [{ generation: 1 }] },
    { desc: "null", input: null, want: null },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(fromLegacyRevisionNames(input)).toEqual(want);
  });

  it("returns the very object when there is nothing to translate, and never changes its input", () => {
    const current = { revision: 1, resourceVersion: "a" };
    expect(fromLegacyRevisionNames(current)).toBe(current);
    const old = { generation: 1, revision: "a" };
    fromLegacyRevisionNames(old);
    expect(old).toEqual({ generation: 1, revision: "a" });
    expect(hasLegacyRevisionNames(old)).toBe(true);
    expect(hasLegacyRevisionNames(current)).toBe(false);
  });
});

describe("toLegacyRevisionNames", () => {
  const tests: {
    desc: string;
    input: { type: string } & Record<string, unknown>;
    want: unknown;
  }[] = [
    {
      desc: "a desired for a reporter of the previous release",
      input: { type: "desired", v: 2, revision: 3, resourceVersion: "812", config: {} },
      want: { type: "desired", v: 2, generation: 3, revision: "812", config: {} },
    },
    {
      desc: "a hello for a dashboard of the previous release",
      input: { type: "hello", appliedRevision: 4 },
      want: { type: "hello", appliedGeneration: 4 },
    },
    {
      desc: "an apply-result",
      input: { type: "apply-result", revision: null, ok: true },
      want: { type: "apply-result", generation: null, ok: true },
    },
    {
      desc: "a message without the number: as it is",
      input: { type: "resync", requestId: "r1" },
      want: { type: "resync", requestId: "r1" },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(toLegacyRevisionNames(input)).toEqual(want);
    expect(fromLegacyRevisionNames(toLegacyRevisionNames(input))).toEqual(input);
  });
});
