import { describe, expect, it } from "vitest";
import { analyzeFamily, evaluate, type FamilyAnalysis, type Verdict } from "./analysis.js";
import { chainS, JUMP, masq, postroutingS } from "./test-fixtures/iptables.js";

const analyze = (
  chain: string[] | null,
  post = postroutingS(),
  family: "ipv4" | "ipv6" = "ipv4",
): FamilyAnalysis =>
  analyzeFamily({
    family,
    chain: "IP-MASQ-AGENT",
    chainText: chain?.join("\n") ?? null,
    postroutingText: post.join("\n"),
  });

const verdict = (a: FamilyAnalysis, ip: string): Verdict => {
  const v = evaluate(a, ip);
  if ("error" in v) throw new Error(v.error);
  return v;
};

describe("analyzeFamily", () => {
  it("reads the upstream chain: returns in order, final MASQUERADE, one exact jump", () => {
    const a = analyze(chainS());
    expect(a.returns.map((c) => c.canonical)).toEqual([
      "169.254.0.0/16",
      "10.0.0.0/8",
      "172.16.0.0/12",
      "192.168.0.0/16",
    ]);
    expect(a.finalMasquerade).toBe(4);
    expect(a.unreachable).toEqual([]);
    expect(a.jumps).toHaveLength(1);
    expect(a.jumps[0]).toMatchObject({ exact: true, canonical: true, conditions: [] });
    expect(a.shadows.map((s) => s.effect)).toEqual(["unknown"]);
  });

  it("treats older agents' per-rule addrtype as no extra condition", () => {
    const old = [
      "-N IP-MASQ-AGENT",
      '-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL -j RETURN',
      '-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -m addrtype ! --dst-type LOCAL -j MASQUERADE',
    ];
    const a = analyze(old);
    expect(a.returns.map((c) => c.canonical)).toEqual(["10.0.0.0/8"]);
    expect(a.finalMasquerade).toBe(1);
    expect(a.entries.every((e) => e.legacy)).toBe(true);
  });

  it("finds rules after MASQUERADE unreachable", () => {
    const a = analyze(["-N IP-MASQ-AGENT", masq(), "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN"]);
    expect(a.returns).toEqual([]);
    expect(a.unreachable).toEqual([1]);
  });

  it("notes a missing chain", () => {
    expect(analyze(null).chainExists).toBe(false);
  });
});

describe("evaluate", () => {
  const cases: {
    desc: string;
    chain: string[] | null;
    post?: string[];
    ip: string;
    want: { masqueraded: boolean; certain?: boolean; by?: string; reason?: RegExp };
  }[] = [
    {
      desc: "RFC 1918 destination returns",
      chain: chainS(),
      ip: "10.1.2.3",
      want: { masqueraded: false, certain: true, by: "IP-MASQ-AGENT#2", reason: /10\.0\.0\.0\/8/ },
    },
    {
      desc: "link-local returns",
      chain: chainS(),
      ip: "169.254.169.254",
      want: { masqueraded: false, by: "IP-MASQ-AGENT#1" },
    },
    {
      desc: "public destination is masqueraded",
      chain: chainS(),
      ip: "8.8.8.8",
      want: { masqueraded: true, certain: true, by: "IP-MASQ-AGENT#5" },
    },
    {
      desc: "no jump: the chain is never used",
      chain: chainS(),
      post: postroutingS([]),
      ip: "8.8.8.8",
      want: { masqueraded: false, reason: /never jumps/ },
    },
    {
      desc: "an earlier MASQUERADE shadows the jump",
      chain: chainS(),
      post: postroutingS(["-A POSTROUTING -j MASQUERADE", JUMP]),
      ip: "10.1.2.3",
      want: { masqueraded: true, by: "POSTROUTING#1" },
    },
    {
      desc: "an earlier ACCEPT keeps traffic unmasqueraded",
      chain: chainS(),
      post: postroutingS(["-A POSTROUTING -d 8.8.0.0/16 -j ACCEPT", JUMP]),
      ip: "8.8.8.8",
      want: { masqueraded: false, by: "POSTROUTING#1" },
    },
    {
      desc: "a partial ACCEPT elsewhere does not apply",
      chain: chainS(),
      post: postroutingS(["-A POSTROUTING -d 9.9.0.0/16 -j ACCEPT", JUMP]),
      ip: "8.8.8.8",
      want: { masqueraded: true },
    },
    {
      desc: "a conditional earlier MASQUERADE makes the answer uncertain",
      chain: chainS(),
      post: postroutingS(["-A POSTROUTING -s 10.9.0.0/16 -j MASQUERADE", JUMP]),
      ip: "10.1.2.3",
      want: { masqueraded: false, certain: false },
    },
    {
      desc: "to-ports rules before the catch-all keep the answer certain",
      chain: [
        "-N IP-MASQ-AGENT",
        "-A IP-MASQ-AGENT -p tcp -m statistic --mode random --probability 0.5 -j MASQUERADE --to-ports 1024-29999",
        masq(),
      ],
      ip: "8.8.8.8",
      want: { masqueraded: true, certain: true, by: "IP-MASQ-AGENT#2" },
    },
    {
      desc: "chain without MASQUERADE returns",
      chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN"],
      ip: "8.8.8.8",
      want: { masqueraded: false, reason: /no final MASQUERADE/ },
    },
    {
      desc: "negated RETURN",
      chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT ! -d 10.0.0.0/8 -j RETURN", masq()],
      ip: "8.8.8.8",
      want: { masqueraded: false, by: "IP-MASQ-AGENT#1" },
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const v = verdict(analyze(c.chain, c.post), c.ip);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      if (c.want.certain !== undefined) expect(v.certain).toBe(c.want.certain);
      if (c.want.by)
        expect(v.decidedBy && `${v.decidedBy.chain}#${v.decidedBy.index + 1}`).toBe(c.want.by);
      if (c.want.reason) expect(v.reason).toMatch(c.want.reason);
    });
  }

  it("mentions kube-proxy's chain as not inspected without losing certainty", () => {
    const v = verdict(analyze(chainS()), "8.8.8.8");
    expect(v.caveats[0]).toMatch(/KUBE-POSTROUTING \(not inspected\)/);
    expect(v.certain).toBe(true);
  });

  it("rejects bad input and family mismatches", () => {
    expect(evaluate(analyze(chainS()), "nope")).toEqual({ error: '"nope" is not an IP address' });
    expect(evaluate(analyze(chainS()), "fd00::1")).toHaveProperty("error");
  });

  it("evaluates IPv6", () => {
    const a = analyze(
      ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -d fe80::/10 -j RETURN", masq()],
      postroutingS([JUMP]),
      "ipv6",
    );
    expect(verdict(a, "fe80::1").masqueraded).toBe(false);
    expect(verdict(a, "2001:db8::1").masqueraded).toBe(true);
  });
});
