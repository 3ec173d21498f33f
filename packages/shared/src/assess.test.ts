import { describe, expect, it } from "vitest";
import { assessLinux, assessWindows } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import type { WindowsSnapshot } from "./protocol.js";
import { chainS, postroutingS } from "./test-fixtures/iptables.js";

const config = defaultConfig();

describe("assessLinux", () => {
  it("judges every managed family", () => {
    const flags = { ...DEFAULT_FLAGS, enableIPv6: true };
    const a = assessLinux(config, flags, [
      { family: "ipv4", chain: chainS(), postrouting: postroutingS() },
      { family: "ipv6", chain: null, postrouting: ["-P POSTROUTING ACCEPT"] },
    ]);
    expect(a.families.map((f) => f.desired.family)).toEqual(["ipv4", "ipv6"]);
    expect(a.report.status).toBe("drifted");
    expect(a.report.differences.map((d) => `${d.scope}:${d.kind}`)).toEqual(["ipv6:chain-missing"]);
  });
  it("a read error is critical", () => {
    const a = assessLinux(config, DEFAULT_FLAGS, [
      { family: "ipv4", chain: null, postrouting: [], readError: "iptables: permission denied" },
    ]);
    expect(a.report.differences[0]).toMatchObject({ kind: "unreadable", severity: "critical" });
  });
});

describe("assessWindows", () => {
  const pointer = "/plugins/0/policies/0/value/Settings/Exceptions";
  const snap = (exceptions: string[], readError?: string): WindowsSnapshot => ({
    path: "C:/k/cni/config/10-bridge.conf",
    lists: readError ? [] : [{ pointer, form: "OutBoundNAT", exceptions }],
    ...(readError ? { readError } : {}),
  });
  const want = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];

  it("judges the exception lists with windowsDrift and says what the list should hold", () => {
    const good = assessWindows(config, snap(want));
    expect(good).toMatchObject({ differences: [], desired: want, report: { status: "in-sync" } });
    const bad = assessWindows(config, snap(["10.0.0.0/8", "100.64.0.0/10"]));
    expect(bad.report.status).toBe("drifted");
    expect(bad.differences).toBe(bad.report.differences);
    expect(bad.differences.map((d) => `${d.kind}:${d.cidr}`)).toEqual([
      "missing-cidr:172.16.0.0/12",
      "missing-cidr:192.168.0.0/16",
      "missing-cidr:169.254.0.0/16",
      "unexpected-cidr:100.64.0.0/10",
    ]);
  });

  it("a file it could not read is one critical difference, not a missing policy", () => {
    const a = assessWindows(
      config,
      snap([], "not valid JSON at line 3, column 1: unexpected character"),
    );
    expect(a.report.status).toBe("drifted");
    expect(a.report.summary).toBe("unreadable rules");
    expect(a.differences).toEqual([
      {
        kind: "unreadable",
        severity: "critical",
        scope: "windows",
        message:
          "could not read the CNI config: not valid JSON at line 3, column 1: unexpected character",
        impact: "unknown: the reporter never writes a file it cannot parse",
      },
    ]);
    expect(a.desired).toEqual(want);
  });
});
