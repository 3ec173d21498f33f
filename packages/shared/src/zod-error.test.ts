import { describe, expect, it } from "vitest";
import { z } from "zod";
import { masqConfigSchema } from "./config.js";
import { type ZodReasonOptions, zodReason } from "./zod-error.js";

const body = z.strictObject({ resourceVersion: z.string(), config: masqConfigSchema.optional() });
const validConfig = {
  nonMasqueradeCIDRs: [],
  masqLinkLocal: false,
  masqLinkLocalIPv6: false,
  cidrLimit: 1,
  resyncInterval: "1s",
};

describe("zodReason", () => {
  const cases: { desc: string; input: { value: unknown; o?: ZodReasonOptions }; want: string }[] = [
    {
      desc: "the first issue only by default, at its path",
      input: { value: { resourceVersion: 1, extra: true } },
      want: "resourceVersion: expected string, received number",
    },
    {
      desc: "unknown fields with their path, other problems with theirs",
      input: {
        value: { resourceVersion: 1, extra: true, config: { ...validConfig, bogus: 1 } },
        o: { issues: 5, root: "body" },
      },
      want: 'resourceVersion: expected string, received number; unknown field "config.bogus"; unknown field "extra"',
    },
    {
      desc: "a top-level problem is named by the root",
      input: { value: "text", o: { root: "body" } },
      want: "body: expected object, received string",
    },
    {
      desc: "the default root is the message",
      input: { value: null },
      want: "message: expected object, received null",
    },
    {
      desc: "missing fields are named as required, with their type",
      input: {
        value: { resourceVersion: "1", config: { nonMasqueradeCIDRs: [], cidrLimit: 1 } },
        o: { issues: 5 },
      },
      want: "config.masqLinkLocal: required (boolean); config.masqLinkLocalIPv6: required (boolean); config.resyncInterval: required (string)",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = body.safeParse(input.value);
    expect(r.success).toBe(false);
    expect(zodReason(r.error!, input.o)).toBe(want);
  });

  it("names the root when there is no issue at all", () => {
    expect(zodReason(new z.ZodError([]), { root: "body" })).toBe("invalid body");
  });
});
