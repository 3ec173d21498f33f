// `ipmasq why`'s "because" line explains the answer; it must never merely repeat it ("X is
// masqueraded / because masqueraded (rules in …)", a new user's find). Checked for every
// fixture node in packages/testkit: iptables dumps alone, each beside an agent-only ruleset in
// the other backend, and the nftables dumps, for a table of packets.
import {
  analyzeRuleset,
  evaluate,
  evaluateAcrossBackends,
  type IptablesBackend,
  type PacketFields,
  parseIptables,
  type Verdict,
} from "@masq/shared";
import { NFT_DUMP_SPECS, nftDumpText } from "@masq/testkit/nft-dumps";
import * as dumps from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { formatVerdict } from "./format-path.js";
import { nftFromText, nftWhy } from "./nft-source.js";

const C = "IP-MASQ-AGENT";
const IPS = ["10.1.2.3", "169.254.1.1", "8.8.8.8", "10.5.1.1", "172.16.0.1", "192.168.1.1"];
const PACKETS: PacketFields[] = [
  {},
  { mark: 0 },
  { mark: 0x4000 },
  { mark: 0, source: "10.244.0.2" },
];

/** Every iptables fixture node (iptables-save text of the nat table). */
const IPTABLES: [string, string][] = [
  ...Object.entries(dumps).filter(
    (e): e is [string, string] => typeof e[1] === "string" && e[1].includes("*nat"),
  ),
  ["bridgePodsNode(3)", dumps.bridgePodsNode(3)],
];
/** The agent's chain alone, as the agent writes it: the other backend of each pair. */
const AGENT_ONLY = dumps.natSave(
  [C],
  [
    `-A POSTROUTING -m addrtype ! --dst-type LOCAL -j ${C}`,
    dumps.agentReturn("10.0.0.0/8"),
    dumps.AGENT_MASQ,
  ],
);

const analysis = (text: string, backend?: IptablesBackend) =>
  analyzeRuleset(parseIptables(text, "nat").ruleset, "ipv4", C, backend ? { backend } : {});

/** Each fixture's verdicts for the table of packets (errors left out). */
function verdicts(): { name: string; v: Verdict }[] {
  const out: { name: string; v: Verdict }[] = [];
  const add = (name: string, v: Verdict | { error: string }) => {
    if (!("error" in v)) out.push({ name, v });
  };
  for (const ip of IPS)
    for (const fields of PACKETS) {
      const at = `${ip} ${JSON.stringify(fields)}`;
      for (const [name, text] of IPTABLES) {
        add(`${name} ${at}`, evaluate(analysis(text), ip, fields));
        add(
          `${name} (legacy) beside the agent (nf_tables) ${at}`,
          evaluateAcrossBackends(
            [analysis(AGENT_ONLY, "nf_tables"), analysis(text, "legacy")],
            ip,
            fields,
          ),
        );
      }
      for (const { name } of NFT_DUMP_SPECS)
        add(`nft ${name} ${at}`, nftWhy(nftFromText(nftDumpText(name)), "ipv4", ip, fields, C));
    }
  return out;
}

/** The claim of a headline ("10.1.2.3 is masqueraded" → "masqueraded"). */
const CLAIMS = /^(?:not )?masqueraded\b|^it depends\b|^these rules cannot say\b/;

describe("ipmasq why's because line", () => {
  const all = verdicts();
  const lines = all.flatMap(({ name, v }) => {
    const line = formatVerdict(v, C)
      .split("\n")
      .find((l) => l.startsWith("  because "));
    return line ? [{ name, head: formatVerdict(v, C).split("\n")[0], clause: line.slice(10) }] : [];
  });

  it("is written for the fixtures of each kind (else the table proves nothing)", () => {
    expect(lines.filter((l) => l.name.includes("beside the agent")).length).toBeGreaterThan(10);
    expect(lines.filter((l) => l.name.startsWith("nft ")).length).toBeGreaterThan(10);
    expect(
      lines.filter((l) => !l.name.includes("beside") && !l.name.startsWith("nft ")).length,
    ).toBeGreaterThan(10);
  });

  it("never merely repeats the answer it explains", () => {
    const circular = lines.filter((l) => CLAIMS.test(l.clause));
    expect(circular.slice(0, 3)).toEqual([]);
  });
});
