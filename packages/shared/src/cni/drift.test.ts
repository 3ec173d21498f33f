import { describe, expect, it } from "vitest";
import { defaultConfig, type MasqConfig } from "../config.js";
import { type Difference, driftReport, RESYNC_CANNOT_HEAL, resyncCannotHeal } from "../drift.js";
import type { ExceptionListSnapshot } from "../protocol.js";
import { config, DEFAULT_WANT, fixture, mustParse } from "../test-fixtures/cni.js";
import { windowsDrift } from "./drift.js";

/** One expected difference: kind and severity always, the rest when given. */
interface WantDifference {
  kind: string;
  severity: string;
  cidr?: string;
  message?: string | RegExp;
  rule?: string;
}

function expectDifference(d: Difference, w: WantDifference) {
  expect(d.kind).toBe(w.kind);
  expect(d.severity).toBe(w.severity);
  if (w.cidr) expect(d.cidr).toBe(w.cidr);
  if (w.rule) expect(d.rule).toBe(w.rule);
  if (typeof w.message === "string") expect(d.message).toBe(w.message);
  else if (w.message) expect(d.message).toMatch(w.message);
}

describe("windowsDrift", () => {
  const one = (
    exceptions: string[],
    pointer = "/policies/0/value/ExceptionList",
  ): ExceptionListSnapshot => ({ pointer, form: "EndpointPolicy", exceptions });
  const cases: {
    desc: string;
    config?: Partial<MasqConfig>;
    input: ExceptionListSnapshot[];
    want: WantDifference[];
    status: "in-sync" | "drifted";
    summary?: string;
  }[] = [
    {
      desc: "in sync",
      input: [one(DEFAULT_WANT)],
      want: [],
      status: "in-sync",
      summary: "in sync",
    },
    {
      desc: "other order is cosmetic",
      input: [one([...DEFAULT_WANT].reverse())],
      want: [
        {
          kind: "cosmetic",
          severity: "info",
          message: "same behaviour, different text (other order)",
        },
      ],
      status: "in-sync",
      summary: "in sync (cosmetic differences)",
    },
    {
      desc: "duplicates are cosmetic",
      input: [one([...DEFAULT_WANT, "10.0.0.0/8"])],
      want: [{ kind: "cosmetic", severity: "info", message: /duplicates/ }],
      status: "in-sync",
    },
    {
      desc: "plain IPs and host bits are read leniently",
      config: { nonMasqueradeCIDRs: ["10.1.2.3/32", "10.8.0.0/16"], masqLinkLocal: true },
      input: [one(["10.1.2.3", "10.8.7.6/16"])],
      want: [
        {
          kind: "cosmetic",
          severity: "info",
          message: "same behaviour, different text (plain IPs, CIDRs with host bits)",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "split or redundant blocks covering the same addresses are cosmetic",
      input: [
        one([
          "10.0.0.0/9",
          "10.128.0.0/9",
          "10.244.0.0/16",
          "172.16.0.0/12",
          "192.168.0.0/16",
          "169.254.0.0/16",
        ]),
      ],
      want: [
        { kind: "cosmetic", severity: "info", message: /other blocks covering the same addresses/ },
      ],
      status: "in-sync",
    },
    {
      desc: "missing CIDR",
      input: [one(["10.0.0.0/8", "172.16.0.0/12", "169.254.0.0/16"])],
      want: [
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "192.168.0.0/16",
          message: "192.168.0.0/16 is missing from the OutBoundNAT exceptions",
          rule: "/policies/0/value/ExceptionList",
        },
      ],
      status: "drifted",
      summary: "missing 192.168.0.0/16",
    },
    {
      desc: "a smaller block is not enough",
      input: [one(["10.244.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"])],
      want: [{ kind: "missing-cidr", severity: "critical", cidr: "10.0.0.0/8" }],
      status: "drifted",
    },
    {
      desc: "unexpected CIDR",
      input: [one([...DEFAULT_WANT, "100.64.0.0/10"])],
      want: [
        {
          kind: "unexpected-cidr",
          severity: "critical",
          cidr: "100.64.0.0/10",
          message: "100.64.0.0/10 is an OutBoundNAT exception but not in the config",
        },
      ],
      status: "drifted",
      summary: "extra 100.64.0.0/10",
    },
    {
      desc: "masqLinkLocal: link-local in the list is unexpected",
      config: { masqLinkLocal: true },
      input: [one(DEFAULT_WANT)],
      want: [{ kind: "unexpected-cidr", severity: "critical", cidr: "169.254.0.0/16" }],
      status: "drifted",
    },
    {
      desc: "unreadable entries",
      input: [one([...DEFAULT_WANT, "%SERVICE_CIDR%"])],
      want: [
        {
          kind: "unreadable",
          severity: "warning",
          message: 'exception "%SERVICE_CIDR%" is not an IP address or CIDR',
        },
      ],
      status: "drifted",
      summary: "unreadable rules",
    },
    {
      desc: "no list at all",
      input: [],
      want: [
        {
          kind: "policy-missing",
          severity: "critical",
          message: "the CNI config has no OutBoundNAT exception list",
        },
      ],
      status: "drifted",
      summary: "OutBoundNAT policy missing",
    },
    {
      desc: "only an IPv6 list",
      input: [one(["fd00::/8"])],
      want: [
        {
          kind: "policy-missing",
          severity: "critical",
          message: "the CNI config has no IPv4 OutBoundNAT exception list",
        },
        { kind: "ipv6-ignored", severity: "info", rule: "/policies/0/value/ExceptionList" },
      ],
      status: "drifted",
    },
    {
      desc: "dual stack: the IPv6 list is left as it is",
      input: [one(DEFAULT_WANT, "/a"), one(["fd00::/120", "fd00::5/128"], "/b")],
      want: [
        {
          kind: "ipv6-ignored",
          severity: "info",
          message: "the IPv6 OutBoundNAT list at /b is left as it is",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "a list mixing IPv4 and IPv6: its IPv6 entries are not compared, the mix is a warning",
      input: [one([...DEFAULT_WANT, "fd00::/8"])],
      want: [
        {
          kind: "mixed-families",
          severity: "warning",
          message:
            "the OutBoundNAT list at /policies/0/value/ExceptionList mixes IPv4 and IPv6 entries (fd00::/8)",
          rule: "/policies/0/value/ExceptionList",
        },
      ],
      status: "drifted",
      summary: "IPv4 and IPv6 in one list",
    },
    {
      desc: "AKS dual stack (one list per family) is no mix",
      input: [one(DEFAULT_WANT, "/a"), one(["fd00::/8"], "/b")],
      want: [{ kind: "ipv6-ignored", severity: "info", rule: "/b" }],
      status: "in-sync",
    },
    {
      desc: "a plain IPv6 address among IPv4 CIDRs is a mix too",
      input: [one([...DEFAULT_WANT, "fd00::1", "fd00::2", "fd00::3", "fd00::4"], "/a")],
      want: [
        {
          kind: "mixed-families",
          severity: "warning",
          message:
            "the OutBoundNAT list at /a mixes IPv4 and IPv6 entries (fd00::1, fd00::2, fd00::3, +1)",
        },
      ],
      status: "drifted",
    },
    {
      desc: "IPv6 CIDRs in the config",
      config: { nonMasqueradeCIDRs: [...DEFAULT_WANT.slice(0, 3), "fd00::/8"] },
      input: [one(DEFAULT_WANT)],
      want: [
        {
          kind: "ipv6-ignored",
          severity: "info",
          message: "fd00::/8 is IPv6: OutBoundNAT exceptions are managed for IPv4 only on Windows",
        },
      ],
      status: "in-sync",
    },
    {
      desc: "several lists: one difference per CIDR, naming the lists",
      input: [
        one(["10.0.0.0/8", "169.254.0.0/16"], "/a"),
        one(["10.0.0.0/8", "172.16.0.0/12", "169.254.0.0/16"], "/b"),
      ],
      want: [
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "172.16.0.0/12",
          message: "172.16.0.0/12 is missing from the OutBoundNAT exceptions (/a)",
          rule: "/a",
        },
        {
          kind: "missing-cidr",
          severity: "critical",
          cidr: "192.168.0.0/16",
          message: "192.168.0.0/16 is missing from the OutBoundNAT exceptions (/a, /b)",
          rule: "/a, /b",
        },
      ],
      status: "drifted",
      summary: "missing 172.16.0.0/12, 192.168.0.0/16",
    },
    {
      desc: "a real file: win-bridge sample against the defaults",
      input: mustParse(fixture("win-bridge-v1.conf")).lists,
      want: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"].map((cidr) => ({
        kind: "missing-cidr",
        severity: "critical",
        cidr,
      })),
      status: "drifted",
      summary: "missing 10.0.0.0/8, 172.16.0.0/12 +2",
    },
  ];
  for (const { desc, config: over, input, want, status, summary } of cases) {
    it(desc, () => {
      const diffs = windowsDrift(config(over), input);
      expect(diffs.every((d) => d.scope === "windows" && d.message.length > 0)).toBe(true);
      expect(diffs.every((d) => d.severity === "info" || (d.impact ?? "").length > 0)).toBe(true);
      expect(diffs).toHaveLength(want.length);
      want.forEach((w, i) => {
        expectDifference(diffs[i]!, w);
      });
      const report = driftReport(diffs);
      expect(report.status).toBe(status);
      if (summary) expect(report.summary).toBe(summary);
    });
  }

  it("the missing-policy impact says what happens to traffic", () => {
    const [d] = windowsDrift(defaultConfig(), []);
    expect(d!.impact).toMatch(/not SNAT'd at all/);
    expect(d!.impact).toMatch(/SNAT'd to every destination/);
  });

  it("a list mixing IPv4 and IPv6 is drift a resync does not heal (its rewrite keeps the mix)", () => {
    const diffs = windowsDrift(defaultConfig(), [one([...DEFAULT_WANT, "fd00::/8"])]);
    expect(driftReport(diffs).status).toBe("drifted");
    expect(resyncCannotHeal(diffs)).toBe(RESYNC_CANNOT_HEAL.mixed);
  });
});

describe("windowsDrift: a CIDR covered in part names the part, never the whole block", () => {
  const list = (exceptions: string[]): ExceptionListSnapshot[] => [
    { pointer: "/policies/0/value/ExceptionList", form: "EndpointPolicy", exceptions },
  ];
  const tests: {
    desc: string;
    input: string[];
    want: { kind: string; message: string; impact: string }[];
  }[] = [
    {
      desc: "10.42.0.0/16 where the config keeps 10.0.0.0/8: the rest of 10.0.0.0/8 is missing",
      input: ["10.42.0.0/16", "169.254.0.0/16"],
      want: [
        {
          kind: "missing-cidr",
          message:
            "10.0.0.0/8 is missing in part from the OutBoundNAT exceptions (10.0.0.0/11, 10.32.0.0/13, 10.40.0.0/15 and 5 more)",
          impact:
            "traffic to 10.0.0.0/11, 10.32.0.0/13, 10.40.0.0/15 and 5 more is SNAT'd to the node address but should keep the pod address",
        },
      ],
    },
    {
      desc: "10.0.0.0/7 where the config keeps 10.0.0.0/8: only 11.0.0.0/8 is extra",
      input: ["10.0.0.0/7", "169.254.0.0/16"],
      want: [
        {
          kind: "unexpected-cidr",
          message: "10.0.0.0/7 is an OutBoundNAT exception partly outside the config (11.0.0.0/8)",
          impact:
            "traffic to 11.0.0.0/8 leaves with the pod address but should be SNAT'd to the node address",
        },
      ],
    },
    {
      desc: "a block missing whole is named whole",
      input: ["169.254.0.0/16"],
      want: [
        {
          kind: "missing-cidr",
          message: "10.0.0.0/8 is missing from the OutBoundNAT exceptions",
          impact:
            "traffic to 10.0.0.0/8 is SNAT'd to the node address but should keep the pod address",
        },
      ],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const d = windowsDrift({ ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] }, list(input));
    expect(
      d
        .filter((x) => x.kind === "missing-cidr" || x.kind === "unexpected-cidr")
        .map((x) => ({ kind: x.kind, message: x.message, impact: x.impact })),
    ).toEqual(want);
  });
});
