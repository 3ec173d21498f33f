import {
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  jumpRuleLine,
  type MasqConfig,
  snapshotOf,
  type WindowsSnapshot,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { assessObserved } from "./assess.js";

const cfg = (cidrs: string[], extra: Partial<MasqConfig> = {}): MasqConfig => ({
  ...defaultConfig(),
  nonMasqueradeCIDRs: cidrs,
  ...extra,
});
const win = (exceptions: string[] | null, readError?: string): WindowsSnapshot => ({
  path: "C:\\etc\\cni\\net.d\\10-flannel.conf",
  lists:
    exceptions === null
      ? []
      : [
          {
            pointer: "/delegate/policies/0/value/ExceptionList",
            form: "EndpointPolicy",
            exceptions,
          },
        ],
  ...(readError ? { readError } : {}),
});

describe("assessObserved on Windows snapshots", () => {
  const c = cfg(["10.0.0.0/8"], { masqLinkLocal: true });

  it("in sync, and nothing to heal", () => {
    expect(assessObserved(c, DEFAULT_FLAGS, win(["10.0.0.0/8"]))).toMatchObject({
      report: { status: "in-sync", summary: "in sync" },
      healable: false,
    });
  });

  it("a missing or extra CIDR is drift an apply heals", () => {
    const r = assessObserved(c, DEFAULT_FLAGS, win(["10.0.0.0/8", "203.0.113.0/24"]));
    expect(r.report).toMatchObject({ status: "drifted", summary: "extra 203.0.113.0/24" });
    expect(r.report.differences[0]).toMatchObject({ scope: "windows", kind: "unexpected-cidr" });
    expect(r.healable).toBe(true);
  });

  it("an unreadable file is critical drift that no apply can heal", () => {
    const r = assessObserved(c, DEFAULT_FLAGS, win(null, "cannot parse x: not valid JSON"));
    expect(r.report.status).toBe("drifted");
    expect(r.report.differences).toEqual([
      expect.objectContaining({
        kind: "unreadable",
        severity: "critical",
        scope: "windows",
        message: "could not read the CNI config: cannot parse x: not valid JSON",
      }),
    ]);
    expect(r.healable).toBe(false);
  });

  it("a list mixing IPv4 and IPv6 is a warning a rewrite cannot heal (it keeps IPv6 entries)", () => {
    const r = assessObserved(c, DEFAULT_FLAGS, win(["10.0.0.0/8", "fd00::/8"]));
    expect(r.report.differences.map((d) => [d.kind, d.severity])).toEqual([
      ["mixed-families", "warning"],
    ]);
    expect(r.healable).toBe(false);
  });

  it("a file without an OutBoundNAT list cannot be healed by a rewrite", () => {
    const r = assessObserved(c, DEFAULT_FLAGS, win(null));
    expect(r.report.differences.map((d) => d.kind)).toEqual(["policy-missing"]);
    expect(r.healable).toBe(false);
  });
});

describe("assessObserved on Linux snapshots", () => {
  it("judges the chain as before", () => {
    const r = assessObserved(defaultConfig(), DEFAULT_FLAGS, [
      snapshotOf({ family: "ipv4", chain: null, postrouting: ["-P POSTROUTING ACCEPT"] }),
    ]);
    expect(r.report.status).toBe("drifted");
    expect(r.healable).toBe(true);
  });
  it("the agent chain in the other backend is reported, not healed by a write", () => {
    const d = desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4");
    const legacy = snapshotOf({
      family: "ipv4",
      chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
      postrouting: ["-P POSTROUTING ACCEPT", jumpRuleLine(d.chain)],
      backend: "legacy",
    });
    const r = assessObserved(defaultConfig(), DEFAULT_FLAGS, [
      legacy,
      { ...legacy, backend: "nf_tables" },
    ]);
    expect(r.report.differences.map((d) => d.kind)).toEqual(["backend-conflict"]);
    expect(r.healable).toBe(false);
  });
});
