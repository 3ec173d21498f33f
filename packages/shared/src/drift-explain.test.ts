// Explanations that must be true: drift derives what a missing final MASQUERADE means from the
// path, a jump that never takes remote traffic is as bad as none, a chain reached through
// another chain is not "jump missing"; evaluate refuses inputs that are not one node's table.

import { JUMP, MASQ, ret } from "@masq/testkit/iptables-text";
import { natSave } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { evaluate } from "./analysis/evaluate.js";
import { analyzeRuleset } from "./analysis/ruleset.js";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import { computeDrift } from "./drift.js";
import { parseIptables } from "./parser.js";
import { desiredChain } from "./rules.js";

const AGENT = "IP-MASQ-AGENT";
const RETURNS = [ret("169.254.0.0/16"), ret("10.0.0.0/8")];
const analysis = (chains: string[], rules: string[]) =>
  analyzeRuleset(parseIptables(natSave(chains, rules)).ruleset, "ipv4", AGENT);

function drift(chains: string[], rules: string[]) {
  const cfg = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] };
  return computeDrift(desiredChain(cfg, DEFAULT_FLAGS, "ipv4"), analysis(chains, rules)).map(
    (d) => `${d.severity} ${d.kind}: ${d.message} => ${d.impact ?? ""}`,
  );
}

describe("drift explanations", () => {
  const cases: { desc: string; chains: string[]; rules: string[]; want: RegExp[]; not?: RegExp }[] =
    [
      {
        desc: "a TCP-only MASQUERADE: only TCP is translated, the rest keeps pod addresses",
        chains: [AGENT],
        rules: [JUMP, ...RETURNS, `-A ${AGENT} -p tcp ${MASQ} -j MASQUERADE`],
        want: [
          /critical masquerade-missing: .* => only some pod traffic is translated \(.*-p tcp: masqueraded by IP-MASQ-AGENT rule 3 \(ip-masq-agent\)\); the rest leaves with pod addresses/,
        ],
        not: /to every destination/,
      },
      {
        desc: "SNAT --to-source instead of MASQUERADE: SNAT'd, not left with pod addresses",
        chains: [AGENT],
        rules: [JUMP, ...RETURNS, `-A ${AGENT} ${MASQ} -j SNAT --to-source 10.10.0.1`],
        want: [
          /=> only some pod traffic is translated \(.*SNAT'd to 10\.10\.0\.1 by IP-MASQ-AGENT rule 3/,
        ],
        not: /to every destination/,
      },
      {
        desc: "a jump with --dst-type LOCAL never takes pod traffic to remote addresses: critical",
        chains: [AGENT],
        rules: [
          `-A POSTROUTING -m addrtype --dst-type LOCAL -j ${AGENT}`,
          ...RETURNS,
          `-A ${AGENT} ${MASQ} -j MASQUERADE`,
        ],
        want: [
          /critical jump-missing: POSTROUTING's jump to IP-MASQ-AGENT never takes pod traffic/,
        ],
      },
      {
        desc: "the agent chain reached through X is not 'jump missing'",
        chains: ["X", AGENT],
        rules: [
          "-A POSTROUTING -j X",
          `-A X -m addrtype ! --dst-type LOCAL -j ${AGENT}`,
          ...RETURNS,
          `-A ${AGENT} ${MASQ} -j MASQUERADE`,
        ],
        want: [/warning jump-modified: POSTROUTING reaches IP-MASQ-AGENT through X/],
        not: /jump-missing/,
      },
    ];
  for (const c of cases)
    it(c.desc, () => {
      const got = drift(c.chains, c.rules);
      for (const w of c.want)
        expect(
          got.some((g) => w.test(g)),
          got.join("\n"),
        ).toBe(true);
      if (c.not) expect(got.filter((g) => c.not!.test(g))).toEqual([]);
    });
});

describe("inputs that are not one node's table", () => {
  const V6 = natSave(
    [AGENT],
    [
      "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
      "-A IP-MASQ-AGENT -d fe80::/10 -j RETURN",
      "-A IP-MASQ-AGENT -j MASQUERADE",
    ],
  );
  const LEGACY_THEN_NFT = `${natSave([AGENT], [JUMP, ret("10.0.0.0/8")])}${natSave([AGENT], [JUMP, `-A ${AGENT} -j MASQUERADE`])}`;
  const cases: { desc: string; input: string; want: RegExp }[] = [
    {
      desc: "an IPv4 question against an ip6tables dump is an error",
      input: V6,
      want: /198\.51\.100\.2 is ipv4, but these rules' addresses are ipv6/,
    },
    {
      desc: "two *nat sections (legacy-save then nft-save) are an error, never merged",
      input: LEGACY_THEN_NFT,
      want: /table nat appears twice/,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const { ruleset, errors } = parseIptables(c.input);
      const a = analyzeRuleset(ruleset, "ipv4", AGENT);
      a.errors = errors;
      const v = evaluate(a, "198.51.100.2");
      expect("error" in v ? v.error : "no error").toMatch(c.want);
    });
});
