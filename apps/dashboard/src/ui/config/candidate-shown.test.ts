import { DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { checkCandidate, showCandidateCheck } from "./draft";

// A new user's find: "foo" was flagged only when Add was clicked, "300.1.1.1/8" as typed.
describe("showCandidateCheck: as you type, for any text that is no CIDR", () => {
  it.each([
    { text: "", shown: false },
    { text: "   ", shown: false },
    { text: "foo", shown: true },
    { text: "f", shown: false }, // may become fe80::/10
    { text: "fe80", shown: false },
    { text: "10.0.", shown: false },
    { text: "10.0.0.0", shown: false },
    { text: "10.0.0.0/", shown: false },
    { text: "10.0.0.0/8", shown: true },
    { text: "300.1.1.1/8", shown: true },
    { text: "300.", shown: true },
    { text: "1.2.3.4.5", shown: true },
    { text: "10.0.0.0/8/9", shown: true },
    { text: "10.0.0.0/x", shown: true },
    { text: "10.0.0.0 /8", shown: true },
    { text: "fd00::", shown: false },
    { text: "fd00::/8", shown: true },
  ])("$text", ({ text, shown }) => {
    expect(showCandidateCheck(text, false)).toBe(shown);
  });

  it("after Add or blur, whatever the text (but empty)", () => {
    expect(showCandidateCheck("10.0.", true)).toBe(true);
    expect(showCandidateCheck("", true)).toBe(false);
  });

  it("what is shown early is an error of the shared check", () => {
    for (const text of ["foo", "300.", "1.2.3.4.5"])
      expect(checkCandidate(defaultConfig(), text, DEFAULT_FLAGS).errors.length).toBeGreaterThan(0);
  });
});
