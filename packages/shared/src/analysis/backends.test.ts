import { JUMP, masq, ret } from "@masq/testkit/iptables-text";
import { ISSUE_ITEM5_LEGACY_NODE, natSave } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { parseIptables } from "../parser.js";
import type { RuleRef } from "../path/types.js";
import type { IptablesBackend } from "../protocol.js";
import { evaluateAcrossBackends } from "./backends.js";
import { outcomeSummary, type PacketFields } from "./evaluate.js";
import { analyzeRuleset } from "./ruleset.js";
import type { FamilyAnalysis } from "./types.js";

const backend = (text: string, b: IptablesBackend): FamilyAnalysis =>
  analyzeRuleset(parseIptables(text).ruleset, "ipv4", "IP-MASQ-AGENT", { backend: b });

/** What `ipmasq apply` wrote into nf_tables for nonMasqueradeCIDRs [10.0.0.0/8, 192.168.0.0/16]. */
const NFT_AGENT = natSave(
  ["IP-MASQ-AGENT"],
  [JUMP, ret("169.254.0.0/16"), ret("10.0.0.0/8"), ret("192.168.0.0/16"), masq()],
);
const legacy = backend(ISSUE_ITEM5_LEGACY_NODE, "legacy");
const nft = backend(NFT_AGENT, "nf_tables");

const cases: {
  desc: string;
  input: FamilyAnalysis[];
  ip: string;
  fields?: PacketFields;
  want: {
    masqueraded: boolean | null;
    by?: string;
    /** No one deciding rule: these (chain#rule), one per backend, each let it pass. */
    passedBy?: string[];
    backend?: string;
    orderMatters?: boolean;
  };
}[] = [
  {
    desc: "item 5: the legacy chain masquerades 192.168.50.2 though nf_tables keeps it",
    input: [legacy, nft],
    ip: "192.168.50.2",
    fields: { mark: 0 },
    want: { masqueraded: true, by: "IP-MASQ-AGENT#3", backend: "legacy", orderMatters: false },
  },
  {
    desc: "item 5: in either order",
    input: [nft, legacy],
    ip: "192.168.50.2",
    fields: { mark: 0 },
    want: { masqueraded: true, by: "IP-MASQ-AGENT#3", backend: "legacy" },
  },
  {
    // Each backend's RETURN is needed (either alone would leave the other's MASQUERADE), and
    // which hook runs last is not in the rules: both named, neither as deciding.
    desc: "both keep 10.1.2.3, each by its own RETURN",
    input: [legacy, nft],
    ip: "10.1.2.3",
    fields: { mark: 0 },
    want: {
      masqueraded: false,
      by: "undefined#-1",
      passedBy: ["IP-MASQ-AGENT#2", "IP-MASQ-AGENT#2"],
    },
  },
  {
    desc: "both masquerade 8.8.8.8 the same way: the order does not matter",
    input: [legacy, nft],
    ip: "8.8.8.8",
    fields: { mark: 0 },
    want: { masqueraded: true, orderMatters: false },
  },
  {
    desc: "kube-proxy's mark is still a condition",
    input: [legacy, nft],
    ip: "10.1.2.3",
    want: { masqueraded: null },
  },
  {
    desc: "SNAT in one backend and MASQUERADE in the other: the hook order decides the address",
    input: [
      backend(
        natSave(["IP-MASQ-AGENT"], ["-A POSTROUTING -j SNAT --to-source 192.0.2.10", JUMP, masq()]),
        "legacy",
      ),
      nft,
    ],
    ip: "8.8.8.8",
    want: { masqueraded: true, orderMatters: true },
  },
];

describe("evaluateAcrossBackends", () => {
  for (const c of cases)
    it(c.desc, () => {
      const v = evaluateAcrossBackends(c.input, c.ip, c.fields);
      if ("error" in v) throw new Error(v.error);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      const ref = (r: RuleRef | undefined) => `${r?.chain}#${(r?.index ?? -2) + 1}`;
      if (c.want.by) expect(ref(v.decidedBy)).toBe(c.want.by);
      if (c.want.passedBy) expect(v.outcomes[0]?.passedBy?.map(ref)).toEqual(c.want.passedBy);
      if (c.want.backend) expect(v.backend).toBe(c.want.backend);
      if (c.want.orderMatters !== undefined) expect(v.orderMatters).toBe(c.want.orderMatters);
      expect(v.backends.map((b) => b.backend)).toEqual(c.input.map((a) => a.backend));
    });

  it("both keep it by their own rule: the summary names each with its backend", () => {
    const v = evaluateAcrossBackends([legacy, nft], "10.1.2.3", { mark: 0 });
    if ("error" in v) throw new Error(v.error);
    expect(outcomeSummary(v.outcomes[0]!)).toBe(
      "keeps its address (IP-MASQ-AGENT rule 2 (ip-masq-agent) in iptables-legacy and IP-MASQ-AGENT rule 2 (ip-masq-agent) in iptables-nft (nf_tables) each let it pass)",
    );
  });

  // Found by the kernel-versus-evaluator test (apps/reporter/test/differential-packet.test.ts):
  // with MASQUERADE in one backend and SNAT in the other, why said "decided by" the rule of the
  // backend it listed first, and that rule's translation, while the kernel ran the other (the
  // table loaded last runs first; nothing in the rules shows which that is).
  const natBoth = (first: string, second: string) => [
    backend(natSave([], [`-A POSTROUTING -j ${first}`]), "nf_tables"),
    backend(natSave([], [`-A POSTROUTING -j ${second}`]), "legacy"),
  ];
  const orderCases: {
    desc: string;
    input: FamilyAnalysis[];
    /** named: a deciding rule and its backend are named (in either order of the backends). */
    want: { named: boolean; results: string[]; natBy?: string[] };
  }[] = [
    {
      desc: "MASQUERADE and SNAT: no rule, backend or address named as the one that applies",
      input: natBoth("MASQUERADE", "SNAT --to-source 192.0.2.1"),
      want: { named: false, results: ["snat:-"] },
    },
    {
      desc: "SNAT to two addresses: neither address named",
      input: natBoth("SNAT --to-source 192.0.2.7", "SNAT --to-source 192.0.2.1"),
      want: { named: false, results: ["snat:-"] },
    },
    {
      // The translation is known, not which backend's rule makes it: naming the first listed
      // credited a rule the kernel may not have run.
      desc: "the same translation in both: both rules named, neither as deciding",
      input: natBoth("MASQUERADE --random-fully", "MASQUERADE"),
      want: { named: false, results: ["masquerade:-"], natBy: ["legacy", "nf_tables"] },
    },
    {
      // The other backend's chain is not in the input: it may NAT it otherwise, and its hook
      // may run first. Naming the SNAT rule and its address claimed what the rules do not say.
      desc: "SNAT in one, a chain not in the input in the other: no rule or address named where it may NAT first",
      input: natBoth("SNAT --to-source 192.0.2.1", "NOT-HERE"),
      want: { named: false, results: ["snat:-", "snat:192.0.2.1"] },
    },
  ];
  for (const { desc, input, want } of orderCases)
    it(desc, () => {
      for (const order of [input, [...input].reverse()]) {
        const v = evaluateAcrossBackends(order, "198.51.100.2", { source: "10.244.1.2", mark: 0 });
        if ("error" in v) throw new Error(v.error);
        expect([v.masqueraded, v.certain]).toEqual([true, true]);
        expect([v.decidedBy !== undefined, v.backend !== undefined]).toEqual([
          want.named,
          want.named,
        ]);
        expect(v.outcomes.map((o) => `${o.result}:${o.toSource ?? "-"}`)).toEqual(want.results);
        const natBy = v.outcomes[0]?.natBy?.map((r) => r.backend).sort();
        expect(natBy).toEqual(want.natBy);
      }
    });

  it("says the order decides when the translations differ", () => {
    const v = evaluateAcrossBackends(cases[5]!.input, "8.8.8.8");
    if ("error" in v) throw new Error(v.error);
    expect(v.reason).toMatch(/order of the two backends' nat hooks/);
  });

  it("passes errors through", () => {
    expect(evaluateAcrossBackends([legacy], "nope")).toEqual({
      error: '"nope" is not an IP address',
    });
    expect(evaluateAcrossBackends([], "8.8.8.8")).toEqual({ error: "no rules to evaluate" });
  });
});

// A new user's find: with a legacy rule for another address beside the agent's chain in
// nf_tables, `why 10.1.2.3` named neither the agent's RETURN that keeps it nor its config
// entry: the combined answer took the legacy side, which has no rule for it.
describe("neither backend NATs it and one rule keeps it: that rule, backend and entry", () => {
  const nft = backend(NFT_AGENT, "nf_tables");
  const legacyOther = backend(
    natSave([], ["-A POSTROUTING -d 10.1.2.5/32 -j MASQUERADE"]),
    "legacy",
  );
  it.each([
    { desc: "nf_tables listed first", input: [nft, legacyOther] },
    { desc: "legacy listed first", input: [legacyOther, nft] },
  ])("$desc", ({ input }) => {
    const v = evaluateAcrossBackends(input, "10.1.2.3", { mark: 0 });
    if ("error" in v) throw new Error(v.error);
    const [o] = v.outcomes;
    expect([
      v.masqueraded,
      o?.decidedBy?.chain,
      o?.decidedBy?.index,
      o?.backend,
      o?.entry?.text,
    ]).toEqual([false, "IP-MASQ-AGENT", 1, "nf_tables", "nonMasqueradeCIDRs 10.0.0.0/8"]);
  });
});
