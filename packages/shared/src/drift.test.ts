import { describe, expect, it } from "vitest";
import { analyzeFamily } from "./analysis.js";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { computeDrift, type DriftKind, driftReport } from "./drift.js";
import { desiredChain } from "./rules.js";
import { chainS, JUMP, MASQ, masq, postroutingS, ret } from "./test-fixtures/iptables.js";

const config = defaultConfig();

function kinds(
  chain: string[] | null,
  post = postroutingS(),
  cfg: MasqConfig = config,
  flags: AgentFlags = DEFAULT_FLAGS,
): DriftKind[] {
  const observed = analyzeFamily({
    family: "ipv4",
    chain: "IP-MASQ-AGENT",
    chainText: chain?.join("\n") ?? null,
    postroutingText: post.join("\n"),
  });
  return computeDrift(desiredChain(cfg, flags, "ipv4"), observed).map((d) => d.kind);
}

const legacyRet = (cidr: string) =>
  `-A IP-MASQ-AGENT -d ${cidr} -m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL -j RETURN`;

const cases: {
  desc: string;
  chain: string[] | null;
  post?: string[];
  cfg?: MasqConfig;
  flags?: AgentFlags;
  want: DriftKind[];
}[] = [
  { desc: "in sync", chain: chainS(), want: [] },
  {
    desc: "missing CIDR",
    chain: chainS(["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12"]),
    want: ["missing-cidr"],
  },
  {
    desc: "unexpected CIDR",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
      "100.64.0.0/10",
    ]),
    want: ["unexpected-cidr"],
  },
  { desc: "missing jump", chain: chainS(), post: postroutingS([]), want: ["jump-missing"] },
  {
    desc: "duplicate jump",
    chain: chainS(),
    post: postroutingS([JUMP, JUMP]),
    want: ["jump-duplicate"],
  },
  {
    desc: "jump with other conditions",
    chain: chainS(),
    post: postroutingS(["-A POSTROUTING -o eth0 -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT"]),
    want: ["jump-modified"],
  },
  {
    desc: "jump shadowed by an earlier MASQUERADE",
    chain: chainS(),
    post: postroutingS(["-A POSTROUTING -j MASQUERADE", JUMP]),
    want: ["jump-shadowed"],
  },
  { desc: "MASQUERADE missing", chain: chainS(undefined, []), want: ["masquerade-missing"] },
  {
    desc: "MASQUERADE not last",
    chain: chainS(
      ["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12"],
      [masq(), ret("192.168.0.0/16")],
    ),
    want: ["missing-cidr", "masquerade-not-last"],
  },
  {
    desc: "MASQUERADE without --random-fully",
    chain: chainS(undefined, [masq("")]),
    want: ["masquerade-options"],
  },
  {
    desc: "foreign rule",
    chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -s 10.9.0.0/16 -j ACCEPT", ...chainS().slice(1)],
    want: ["foreign-rule"],
  },
  { desc: "chain missing", chain: null, post: postroutingS([]), want: ["chain-missing"] },
  {
    desc: "older agent rules are cosmetic",
    chain: [
      "-N IP-MASQ-AGENT",
      ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(legacyRet),
      masq(),
    ],
    want: ["cosmetic"],
  },
  {
    desc: "another order is cosmetic",
    chain: chainS(["10.0.0.0/8", "169.254.0.0/16", "192.168.0.0/16", "172.16.0.0/12"]),
    want: ["cosmetic"],
  },
  {
    desc: "a redundant RETURN inside another is cosmetic",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "10.1.0.0/16",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "split blocks covering the desired one are cosmetic",
    chain: chainS([
      "169.254.0.0/16",
      "10.0.0.0/9",
      "10.128.0.0/9",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "a jump without upstream's quotes is cosmetic",
    chain: chainS(),
    post: postroutingS([
      '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
    ]),
    want: ["cosmetic"],
  },
  {
    desc: "unreadable line",
    chain: [...chainS(), '-A IP-MASQ-AGENT -m comment --comment "oops'],
    want: ["unreadable"],
  },
  {
    desc: "to-ports rules as iptables prints them are in sync",
    chain: [
      "-N IP-MASQ-AGENT",
      ret("169.254.0.0/16"),
      ...["tcp", "udp", "sctp"].flatMap((p) => [
        `-A IP-MASQ-AGENT -p ${p} ${MASQ} -m statistic --mode random --probability 0.46929256349 -j MASQUERADE --to-ports 1024-29999 --random-fully`,
        `-A IP-MASQ-AGENT -p ${p} ${MASQ} -j MASQUERADE --to-ports 32768-65535 --random-fully`,
      ]),
      masq(),
    ],
    cfg: { ...config, nonMasqueradeCIDRs: [] },
    flags: { ...DEFAULT_FLAGS, toPorts: "1024-29999,32768-65535" },
    want: [],
  },
];

describe("computeDrift", () => {
  for (const c of cases)
    it(c.desc, () => expect(kinds(c.chain, c.post, c.cfg, c.flags)).toEqual(c.want));

  it("explains what a difference means for traffic", () => {
    const observed = analyzeFamily({
      family: "ipv4",
      chain: "IP-MASQ-AGENT",
      chainText: chainS(["169.254.0.0/16"]).join("\n"),
      postroutingText: postroutingS().join("\n"),
    });
    const diffs = computeDrift(desiredChain(config, DEFAULT_FLAGS, "ipv4"), observed);
    expect(diffs[0]).toMatchObject({
      kind: "missing-cidr",
      severity: "critical",
      cidr: "10.0.0.0/8",
      impact: "traffic to 10.0.0.0/8 is masqueraded but should keep the pod address",
    });
  });
});

describe("driftReport", () => {
  it("is in sync with only cosmetic differences", () => {
    const r = driftReport([{ kind: "cosmetic", severity: "info", scope: "ipv4", message: "x" }]);
    expect(r).toMatchObject({
      status: "in-sync",
      cosmetic: true,
      summary: "in sync (cosmetic differences)",
    });
  });
  it("summarises drift in a few words", () => {
    const r = driftReport([
      {
        kind: "missing-cidr",
        severity: "critical",
        scope: "ipv4",
        message: "",
        cidr: "10.0.0.0/8",
      },
      { kind: "jump-missing", severity: "critical", scope: "ipv4", message: "" },
      { kind: "cosmetic", severity: "info", scope: "ipv4", message: "" },
    ]);
    expect(r.status).toBe("drifted");
    expect(r.summary).toBe("missing 10.0.0.0/8, jump missing");
  });
});
