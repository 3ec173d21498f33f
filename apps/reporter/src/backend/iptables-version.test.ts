import { describe, expect, it } from "vitest";
import { parseIptablesVersion, versionAtLeast } from "./iptables-version.js";

describe("iptables version detection", () => {
  it.each([
    ["iptables v1.8.9 (nf_tables)", "v1.8.9", "nf_tables"],
    ["iptables v1.8.7 (legacy)", "v1.8.7", "legacy"],
    ["iptables v1.6.1", "v1.6.1", "legacy"],
  ])("%s", (text, version, backend) => {
    expect(parseIptablesVersion(text)).toEqual({ version, backend });
  });
  it("refuses text without a version", () => {
    expect(() => parseIptablesVersion("command not found")).toThrow(/version/);
  });
  it("compares versions like upstream's --random-fully gate (>= 1.6.2)", () => {
    expect(versionAtLeast("v1.6.2", [1, 6, 2])).toBe(true);
    expect(versionAtLeast("v1.8.9", [1, 6, 2])).toBe(true);
    expect(versionAtLeast("v1.6.1", [1, 6, 2])).toBe(false);
    expect(versionAtLeast("v1.4", [1, 6, 2])).toBe(false);
    expect(versionAtLeast("v2.0", [1, 6, 2])).toBe(true);
  });
});
