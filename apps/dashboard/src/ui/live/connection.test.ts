import { describe, expect, it } from "vitest";
import { connectionOnError } from "./connection";

describe("connectionOnError", () => {
  it.each([
    { desc: "never connected (signed out, first load)", input: "connecting", want: "connecting" },
    { desc: "was live", input: "live", want: "reconnecting" },
    { desc: "already reconnecting", input: "reconnecting", want: "reconnecting" },
    { desc: "polling", input: "polling", want: "reconnecting" },
  ] as const)("$desc", ({ input, want }) => {
    expect(connectionOnError(input)).toBe(want);
  });
});
