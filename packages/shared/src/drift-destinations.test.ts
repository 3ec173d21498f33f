import { EXC_MASQ, excMasq, masq, postroutingS, ret } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { analyzeFamily } from "./analysis/ruleset.js";
import { assessLinux } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { computeDrift, driftReport } from "./drift.js";
import { linuxNodeView } from "./node-view.js";
import { desiredChain } from "./rules.js";
import { snapshotOf } from "./snapshot.js";

const cfg = (over: Partial<MasqConfig>): MasqConfig => ({ ...defaultConfig(), ...over });
const EXAMPLE = cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.100.10.0/24"] });
const NESTED = cfg({
  nonMasqueradeCIDRs: ["10.0.0.0/8", "10.100.10.0/24"],
  masqueradeCIDRs: ["10.100.0.0/16"],
});
const chain = (...rules: string[]) => ["-N IP-MASQ-AGENT", ...rules];

function drift(config: MasqConfig, rules: string[]): string[] {
  const observed = analyzeFamily({
    family: "ipv4",
    chain: "IP-MASQ-AGENT",
    chainText: rules.join("\n"),
    postroutingText: postroutingS().join("\n"),
  });
  return computeDrift(desiredChain(config, DEFAULT_FLAGS, "ipv4"), observed).map(
    (d) => `${d.severity} ${d.kind}: ${d.message}`,
  );
}

const tests: { desc: string; input: { config: MasqConfig; rules: string[] }; want: string[] }[] = [
  {
    desc: "as rendered: in sync",
    input: {
      config: EXAMPLE,
      rules: chain(excMasq("10.100.10.0/24"), ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()),
    },
    want: [],
  },
  {
    desc: "three levels as rendered: in sync",
    input: {
      config: NESTED,
      rules: chain(
        ret("10.100.10.0/24"),
        excMasq("10.100.0.0/16"),
        ret("169.254.0.0/16"),
        ret("10.0.0.0/8"),
        masq(),
      ),
    },
    want: [],
  },
  {
    desc: "the exception behind its containing RETURN is dead: never in sync",
    input: {
      config: EXAMPLE,
      rules: chain(ret("169.254.0.0/16"), ret("10.0.0.0/8"), excMasq("10.100.10.0/24"), masq()),
    },
    want: [
      "critical exception-shadowed: the MASQUERADE for masqueradeCIDRs 10.100.10.0/24 (rule 3) comes after the RETURN for 10.0.0.0/8 (rule 2), so it never applies",
    ],
  },
  {
    desc: "the exception missing (an upstream agent ignoring the key writes this)",
    input: { config: EXAMPLE, rules: chain(ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()) },
    want: [
      "critical exception-missing: masqueradeCIDRs 10.100.10.0/24 has no MASQUERADE rule in IP-MASQ-AGENT",
    ],
  },
  {
    desc: "three levels: the innermost RETURN missing",
    input: {
      config: NESTED,
      rules: chain(excMasq("10.100.0.0/16"), ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()),
    },
    want: ["critical missing-cidr: 10.100.10.0/24 is missing"],
  },
  {
    desc: "three levels: the innermost RETURN behind the exception",
    input: {
      config: NESTED,
      rules: chain(
        excMasq("10.100.0.0/16"),
        ret("10.100.10.0/24"),
        ret("169.254.0.0/16"),
        ret("10.0.0.0/8"),
        masq(),
      ),
    },
    want: ["critical missing-cidr: 10.100.10.0/24 is missing"],
  },
  {
    desc: "an exception the config does not have carves a hole in a RETURN",
    input: {
      config: cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"] }),
      rules: chain(excMasq("10.1.0.0/16"), ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()),
    },
    want: [
      "critical missing-cidr: 10.0.0.0/8 is missing in part (10.1.0.0/16)",
      "warning stale-rule: rule 1 of IP-MASQ-AGENT is the agent's MASQUERADE for masqueradeCIDRs 10.1.0.0/16, which the desired config does not list (written for another config)",
    ],
  },
  {
    desc: "the exception without --random-fully",
    input: {
      config: EXAMPLE,
      rules: chain(excMasq("10.100.10.0/24", ""), ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()),
    },
    want: [
      "warning masquerade-options: MASQUERADE options of masqueradeCIDRs 10.100.10.0/24 differ (want MASQUERADE --random-fully)",
    ],
  },
];

describe("drift with masqueradeCIDRs: first match decides on both sides", () => {
  it.each(tests)("$desc", ({ input, want }) => {
    expect(drift(input.config, input.rules)).toEqual(want);
  });

  it("a dead exception makes the node drifted with a summary naming it", () => {
    const observed = analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: chain(ret("10.0.0.0/8"), excMasq("10.100.10.0/24"), masq()).join("\n"),
      postroutingText: postroutingS().join("\n"),
    });
    const r = driftReport(computeDrift(desiredChain(EXAMPLE, DEFAULT_FLAGS, "ipv4"), observed));
    expect(r.status).toBe("drifted");
    expect(r.summary).toContain("masqueradeCIDRs rule behind a RETURN");
  });
});

describe("node page rows with masqueradeCIDRs", () => {
  const rows = (config: MasqConfig, rules: string[]) => {
    const snap = snapshotOf({
      family: "ipv4",
      chain: rules,
      postrouting: postroutingS(),
    });
    const f = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, [snap])).families[0]!;
    return f.rows.map(
      (r) =>
        `${r.state} ${(r.desired ?? r.actual)!.title}${r.difference ? ` [${r.difference.kind}]` : ""}`,
    );
  };
  const tests: { desc: string; input: string[]; want: string[] }[] = [
    {
      desc: "in sync",
      input: chain(excMasq("10.100.10.0/24"), ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()),
      want: [
        "same 10.100.10.0/24 is masqueraded (masqueradeCIDRs) (random-fully)",
        "same 169.254.0.0/16 (link-local) keeps pod IP",
        "same 10.0.0.0/8 keeps pod IP",
        "same everything else is masqueraded (random-fully)",
      ],
    },
    {
      desc: "the exception after its RETURN: moved, and the row says it never applies",
      input: chain(ret("169.254.0.0/16"), ret("10.0.0.0/8"), excMasq("10.100.10.0/24"), masq()),
      want: [
        "moved 10.100.10.0/24 is masqueraded (masqueradeCIDRs) (random-fully) [exception-shadowed]",
        "same 169.254.0.0/16 (link-local) keeps pod IP",
        "same 10.0.0.0/8 keeps pod IP",
        "moved 10.100.10.0/24 is masqueraded (masqueradeCIDRs) (random-fully) [exception-shadowed]",
        "same everything else is masqueraded (random-fully)",
      ],
    },
    {
      desc: "an older config's exception: the row names it as the agent's, for another config",
      input: chain(
        excMasq("10.100.10.0/24"),
        excMasq("192.0.2.0/24"),
        ret("169.254.0.0/16"),
        ret("10.0.0.0/8"),
        masq(),
      ),
      want: [
        "same 10.100.10.0/24 is masqueraded (masqueradeCIDRs) (random-fully)",
        "unexpected 192.0.2.0/24 is masqueraded (masqueradeCIDRs) (random-fully) [stale-rule]",
        "same 169.254.0.0/16 (link-local) keeps pod IP",
        "same 10.0.0.0/8 keeps pod IP",
        "same everything else is masqueraded (random-fully)",
      ],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(rows(EXAMPLE, input)).toEqual(want);
  });
});

describe("a RETURN only partly outside the config names the part in its impact", () => {
  const observed = (rules: string[]) =>
    analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: rules.join("\n"),
      postroutingText: postroutingS().join("\n"),
    });
  const tests: { desc: string; input: string; want: { message: string; impact: string } }[] = [
    {
      desc: "10.0.0.0/7 where the config keeps 10.0.0.0/8: only 11.0.0.0/8 is wrong",
      input: "10.0.0.0/7",
      want: {
        message: "10.0.0.0/7 is partly outside the config (11.0.0.0/8)",
        impact: "traffic to 11.0.0.0/8 leaves with the pod address but should be masqueraded",
      },
    },
    {
      desc: "a block wholly outside the config is named whole",
      input: "11.0.0.0/8",
      want: {
        message: "11.0.0.0/8 is not in the config",
        impact: "traffic to 11.0.0.0/8 leaves with the pod address but should be masqueraded",
      },
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    const config = cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"] });
    const rules = chain(ret("169.254.0.0/16"), ret(input), masq());
    const d = computeDrift(desiredChain(config, DEFAULT_FLAGS, "ipv4"), observed(rules)).filter(
      (x) => x.kind === "unexpected-cidr",
    );
    expect(d.map((x) => ({ message: x.message, impact: x.impact }))).toEqual([want]);
  });
});

describe("whose rule it is: the agent's rule for another config's block, or a foreign one", () => {
  const config = cfg({ nonMasqueradeCIDRs: ["10.0.0.0/8"] });
  const tail = [ret("169.254.0.0/16"), ret("10.0.0.0/8"), masq()];
  const tests: { desc: string; input: string; want: string[] }[] = [
    {
      desc: "the agent's exception for a block an older config listed",
      input: excMasq("192.0.2.0/24"),
      want: [
        "warning stale-rule: rule 1 of IP-MASQ-AGENT is the agent's MASQUERADE for masqueradeCIDRs 192.0.2.0/24, which the desired config does not list (written for another config)",
      ],
    },
    {
      desc: "the agent's per-protocol exception written under another --to-ports",
      input: `-A IP-MASQ-AGENT -d 192.0.2.0/24 ${EXC_MASQ} -p tcp -j MASQUERADE --to-ports 1024-2047`,
      want: [
        "warning stale-rule: rule 1 of IP-MASQ-AGENT is the agent's MASQUERADE for masqueradeCIDRs 192.0.2.0/24, which the desired config does not list (written for another config)",
      ],
    },
    {
      desc: "a MASQUERADE with a destination and no comment was added by someone else",
      input: "-A IP-MASQ-AGENT -d 192.0.2.0/24 -j MASQUERADE",
      want: [
        "warning foreign-rule: rule 1 of IP-MASQ-AGENT was not written by the agent (MASQUERADE)",
      ],
    },
    {
      desc: "the agent's comment on a rule with a condition the agent never writes",
      input: `-A IP-MASQ-AGENT -s 10.1.0.0/16 -d 192.0.2.0/24 ${EXC_MASQ} -j MASQUERADE`,
      want: [
        "warning foreign-rule: rule 1 of IP-MASQ-AGENT was not written by the agent (MASQUERADE)",
      ],
    },
    {
      desc: "the agent's comment on a negated destination, which the agent never writes",
      input: `-A IP-MASQ-AGENT ! -d 192.0.2.0/24 ${EXC_MASQ} -j MASQUERADE`,
      want: [
        "warning foreign-rule: rule 1 of IP-MASQ-AGENT was not written by the agent (MASQUERADE)",
      ],
    },
  ];
  it.each(tests)("$desc", ({ input, want }) => {
    expect(drift(config, chain(input, ...tail)).filter((l) => !l.startsWith("critical"))).toEqual(
      want,
    );
  });
});
