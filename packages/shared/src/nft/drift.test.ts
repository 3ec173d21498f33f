import { nftDump, RANGES_CONFIG, RANGES_FLAGS } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "../config.js";
import { driftReport } from "../drift.js";
import { nftTableDrift, planNftApply } from "./drift.js";
import { NFT_LOCAL_COMMENT } from "./names.js";
import { parseNftJson } from "./parse.js";

const V6_PORTS: { config: MasqConfig; flags: AgentFlags } = {
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "192.168.0.0/16", "fd00::/8"] },
  flags: {
    ...DEFAULT_FLAGS,
    enableIPv6: true,
    randomFully: false,
    toPorts: "1024-29999,32768-65535",
  },
};
const DEFAULTS = { config: defaultConfig(), flags: DEFAULT_FLAGS };

/** The fixture's JSON with the agent's chain edited (a hand edit nft would also allow). */
function edited(
  dump: string,
  edit: (objects: Record<string, unknown>[]) => Record<string, unknown>[],
) {
  const j = nftDump(dump) as { nftables: Record<string, unknown>[] };
  return { nftables: edit(j.nftables) };
}
const isRule = (o: Record<string, unknown>, handle?: number) =>
  "rule" in o && (handle === undefined || (o.rule as { handle: number }).handle === handle);

describe("nftTableDrift on real nft -j output", () => {
  const cases: {
    desc: string;
    input: { json: unknown; want?: typeof DEFAULTS; readError?: string };
    want: { status: string; kinds: string[]; says?: string[] };
  }[] = [
    {
      desc: "the agent's own table: in sync",
      input: { json: nftDump("agent-default") },
      want: { status: "in-sync", kinds: [] },
    },
    {
      desc: "IPv6, --to-ports, no --random-fully: in sync (nft prints what render writes)",
      input: { json: nftDump("agent-ipv6-ports"), want: V6_PORTS },
      want: { status: "in-sync", kinds: [] },
    },
    {
      desc: "ranges, single addresses, IPv6 ranges and one port read back as rendered: in sync",
      input: {
        json: nftDump("agent-ranges"),
        want: { config: RANGES_CONFIG, flags: RANGES_FLAGS },
      },
      want: { status: "in-sync", kinds: [] },
    },
    {
      desc: "hand edits: deleted and added elements named, the inserted rule is foreign",
      input: { json: nftDump("agent-hand-edit") },
      want: {
        status: "drifted",
        kinds: ["missing-cidr", "unexpected-cidr", "foreign-rule"],
        says: ["10.0.0.0/8 is missing", "198.51.100.0/24 is in", "ip saddr 10.100.64.0/18 accept"],
      },
    },
    {
      desc: "a hand-added rule with the agent's comment is still foreign: no form the agent writes",
      input: {
        json: edited("agent-hand-edit", (os) =>
          os.map((o) =>
            isRule(o) && JSON.stringify(o).includes("accept")
              ? { rule: { ...(o.rule as object), comment: NFT_LOCAL_COMMENT } }
              : o,
          ),
        ),
      },
      want: {
        status: "drifted",
        kinds: ["missing-cidr", "unexpected-cidr", "foreign-rule"],
        says: ['"ip saddr 10.100.64.0/18 accept" is not one of the agent\'s rules'],
      },
    },
    {
      desc: "a rule nothing understands: never in sync",
      input: { json: nftDump("agent-not-understood") },
      want: { status: "drifted", kinds: ["unreadable"], says: ["not understood"] },
    },
    {
      desc: "the config changed: the table is behind",
      input: { json: nftDump("agent-default"), want: V6_PORTS },
      want: {
        status: "drifted",
        kinds: [
          "unexpected-cidr",
          "chain-missing",
          "chain-missing",
          "masquerade-missing",
          "masquerade-missing",
          "masquerade-options",
          "stale-rule",
        ],
        says: [
          "172.16.0.0/12 is in @nonmasq_v4",
          "set @nonmasq_v6 is missing",
          '"masquerade fully-random" where the agent writes "masquerade"',
          // Written by the agent under the old flags (its comment): not "added by hand".
          '"meta nfproto ipv6 return" is the agent\'s rule for other flags or another config',
        ],
      },
    },
    {
      desc: "no agent table (kube-proxy only)",
      input: {
        json: edited("kube-proxy-agent", (os) =>
          os.filter((o) => !JSON.stringify(o).includes("ip_masq_agent")),
        ),
      },
      want: {
        status: "drifted",
        kinds: ["chain-missing"],
        says: ["table inet ip_masq_agent is missing"],
      },
    },
    {
      desc: "the masquerade rule deleted by hand",
      input: {
        json: edited("agent-default", (os) =>
          os.filter((o) => !(isRule(o) && JSON.stringify(o).includes("masquerade"))),
        ),
      },
      want: { status: "drifted", kinds: ["masquerade-missing"] },
    },
    {
      desc: "rules moved: masquerade before the set lookup",
      input: {
        json: edited("agent-default", (os) => {
          const rules = os.filter((o) => isRule(o));
          const rest = os.filter((o) => !isRule(o));
          return [...rest, rules[3]!, ...rules.slice(0, 3)];
        }),
      },
      want: { status: "drifted", kinds: ["masquerade-not-last"] },
    },
    {
      desc: "a comment changed: cosmetic",
      input: {
        json: edited("agent-default", (os) =>
          os.map((o) =>
            isRule(o) && JSON.stringify(o).includes("masquerade")
              ? { rule: { ...(o.rule as object), comment: "edited" } }
              : o,
          ),
        ),
      },
      want: { status: "in-sync", kinds: ["cosmetic"] },
    },
    {
      desc: "not nft -j output",
      input: { json: { nftables: [{ bogus: 1 }] } },
      want: { status: "drifted", kinds: ["unreadable", "chain-missing"] },
    },
    {
      desc: "the read failed",
      input: { json: { nftables: [] }, readError: "nft: No such file or directory" },
      want: { status: "drifted", kinds: ["unreadable"], says: ["could not be read"] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const w = input.want ?? DEFAULTS;
      const diffs = nftTableDrift(w.config, w.flags, parseNftJson(input.json), input.readError);
      const report = driftReport(diffs);
      expect({ status: report.status, kinds: diffs.map((d) => d.kind) }).toEqual({
        status: want.status,
        kinds: want.kinds,
      });
      for (const s of want.says ?? []) expect(diffs.map((d) => d.message).join("\n")).toContain(s);
    });
});

describe("planNftApply", () => {
  const cases: { desc: string; input: unknown; want: ReturnType<typeof planNftApply> }[] = [
    {
      desc: "no table yet",
      input: { nftables: [] },
      want: { recreate: false, deleteChains: [], deleteSets: [], deleteMaps: [] },
    },
    {
      desc: "the agent's table",
      input: nftDump("agent-default"),
      want: { recreate: false, deleteChains: [], deleteSets: [], deleteMaps: [] },
    },
    {
      desc: "a stale IPv6 set after --enable-ipv6 was turned off",
      input: nftDump("agent-ipv6-ports"),
      want: { recreate: false, deleteChains: [], deleteSets: ["nonmasq_v6"], deleteMaps: [] },
    },
    {
      desc: "a set of another type: re-create",
      input: edited("agent-default", (os) =>
        os.map((o) =>
          "set" in o ? { set: { ...(o.set as object), type: "ipv6_addr", elem: [] } } : o,
        ),
      ),
      want: { recreate: true, deleteChains: [], deleteSets: [], deleteMaps: [] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () =>
      expect(planNftApply(defaultConfig(), DEFAULT_FLAGS, parseNftJson(input))).toEqual(want),
    );
});
