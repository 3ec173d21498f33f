import { describe, expect, it } from "vitest";
import { matchPath } from "./router.js";

describe("matchPath", () => {
  const cases: {
    desc: string;
    input: { pattern: string; path: string };
    want: Record<string, string> | undefined;
  }[] = [
    { desc: "a fixed path", input: { pattern: "/api/config", path: "/api/config" }, want: {} },
    {
      desc: "another fixed path",
      input: { pattern: "/api/config", path: "/api/configs" },
      want: undefined,
    },
    {
      desc: "a param takes one segment",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/node-a" },
      want: { name: "node-a" },
    },
    {
      desc: "params are percent-decoded",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/node%2Da" },
      want: { name: "node-a" },
    },
    {
      desc: "a decoded slash stays inside the param",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/a%2Fb" },
      want: { name: "a/b" },
    },
    {
      desc: "a param never spans segments",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/a/b" },
      want: undefined,
    },
    {
      desc: "an empty param does not match",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/" },
      want: undefined,
    },
    {
      desc: "a param that decodes to nothing does not match",
      input: { pattern: "/api/nodes/:name", path: "/api/nodes/%" },
      want: undefined,
    },
    {
      desc: "a trailing slash is another path",
      input: { pattern: "/api/config", path: "/api/config/" },
      want: undefined,
    },
    {
      desc: "fixed segments after a param",
      input: { pattern: "/api/nodes/:name/resync", path: "/api/nodes/node-b/resync" },
      want: { name: "node-b" },
    },
    {
      desc: "two params",
      input: { pattern: "/api/history/:rev/diff/:other", path: "/api/history/7/diff/9" },
      want: { rev: "7", other: "9" },
    },
    {
      desc: "fixed segments are case-sensitive",
      input: { pattern: "/api/config", path: "/API/config" },
      want: undefined,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(matchPath(input.pattern, input.path)).toEqual(want);
  });
});
