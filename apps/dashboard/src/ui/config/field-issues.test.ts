import { DEFAULT_FLAGS, defaultConfig, validateConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { fieldIssues } from "./field-issues";

describe("fieldIssues: the list view's fields show what the YAML tab and the review show", () => {
  const check = (resyncInterval: string) =>
    fieldIssues(
      validateConfig({ ...defaultConfig(), resyncInterval }, DEFAULT_FLAGS),
      "resyncInterval",
    );
  it.each([
    // A new user's find: "0s" warned in YAML and in the review, not in the CIDR-list tab.
    { value: "0s", errors: [], warnings: [/^resyncInterval "0s" is not positive/] },
    { value: "-5s", errors: [], warnings: [/^resyncInterval "-5s" is not positive/] },
    { value: "10ms", errors: [], warnings: [/^resyncInterval "10ms" is shorter than/] },
    { value: "60s", errors: [], warnings: [] },
    { value: "soon", errors: [/^resyncInterval "soon" is not a duration/], warnings: [] },
  ])("$value", ({ value, errors, warnings }) => {
    const got = check(value);
    expect(got.errors.map((x) => x.message)).toEqual(errors.map((r) => expect.stringMatching(r)));
    expect(got.warnings.map((x) => x.message)).toEqual(
      warnings.map((r) => expect.stringMatching(r)),
    );
  });

  it("the field's warning is the very one the YAML tab shows", () => {
    const v = validateConfig({ ...defaultConfig(), resyncInterval: "0s" }, DEFAULT_FLAGS);
    expect(fieldIssues(v, "resyncInterval").warnings).toEqual(
      v.warnings.filter((w) => w.value === "0s"),
    );
  });
});
