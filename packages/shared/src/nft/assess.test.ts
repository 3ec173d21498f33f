import { nftDump } from "@masq/testkit/nft-dumps";
import { AWS_VPC_CNI_NODE, natSave } from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "../config.js";
import { healedByResync, resyncCannotHeal } from "../drift.js";
import type { NftSnapshot } from "../protocol.js";
import { saveSnapshot } from "../test-fixtures/save-snapshot.js";
import { analyzeNftSnapshot, assessNft } from "./assess.js";
import { evaluateNft } from "./evaluate.js";

const snap = (dump: string, extra: Partial<NftSnapshot> = {}): NftSnapshot => ({
  backend: "nftables",
  ruleset: (nftDump(dump) as { nftables: NftSnapshot["ruleset"] }).nftables,
  ...extra,
});

describe("assessNft", () => {
  const cases: {
    desc: string;
    input: NftSnapshot | undefined;
    want: { summary: string; kinds: string[]; says?: string[] };
  }[] = [
    {
      desc: "the agent alone",
      input: snap("agent-default"),
      want: { summary: "in sync", kinds: [] },
    },
    {
      desc: "kube-proxy's own marked traffic is by design, not drift",
      input: snap("kube-proxy-agent"),
      want: { summary: "in sync", kinds: [] },
    },
    {
      desc: "flannel with --ip-masq masquerades what the config leaves alone",
      input: snap("flannel-kube-proxy-agent"),
      want: {
        summary: "masqueraded after the chain",
        kinds: ["masqueraded-after"],
        says: ["ip flannel-ipv4 postrtg rule 3 (flannel) masquerades pod traffic to 10.0.0.0/8"],
      },
    },
    {
      desc: "Calico (nftables mode, natOutgoing) masquerades what the config leaves alone",
      input: snap("calico-agent"),
      want: {
        summary: "masqueraded after the chain",
        kinds: ["masqueraded-after"],
        says: [
          "ip calico nat-cali-nat-outgoing rule 1 (Calico) masquerades pod traffic to several ranges when source in 10.244.0.0/16 and destination not in 10.244.0.0/16",
        ],
      },
    },
    {
      desc: "Cilium (kube-proxy replacement): its 127.0.0.1 SNAT is the host's, not pod traffic",
      input: snap("cilium-kpr-agent"),
      want: { summary: "in sync", kinds: [] },
    },
    {
      desc: "nothing reported: the table is missing",
      input: undefined,
      want: { summary: "chain missing", kinds: ["chain-missing"] },
    },
    {
      desc: "a read error is never in sync",
      input: snap("agent-default", { readError: "nft exited 1" }),
      want: { summary: "unreadable rules", kinds: ["unreadable"] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const a = assessNft(defaultConfig(), DEFAULT_FLAGS, input);
      expect({
        summary: a.report.summary,
        kinds: [...new Set(a.differences.map((d) => d.kind))],
      }).toEqual({
        summary: want.summary,
        kinds: want.kinds,
      });
      for (const s of want.says ?? [])
        expect(a.differences.map((d) => d.message).join("\n")).toContain(s);
    });

  it("unread chains reached on the path make the answer unknown there", () => {
    const fa = analyzeNftSnapshot(
      {
        ...snap("kube-proxy-agent"),
        // The chain and its rules left out, as a reporter that hit a bound sends it.
        ruleset: snap("kube-proxy-agent").ruleset.filter((o) => {
          const body = Object.values(o)[0] as { name?: string; chain?: string };
          return body.name !== "masquerading" && body.chain !== "masquerading";
        }),
        unread: [{ family: "ip", table: "kube-proxy", chain: "masquerading" }],
      },
      "ipv4",
    );
    const kp = fa.hooks.find((h) => h.ref === "ip kube-proxy nat-postrouting");
    expect(kp?.analysis.unknowns.map((u) => u.kind)).toEqual(["unread-chain"]);
  });
});

describe("assessNft with the node's iptables side", () => {
  const agent = snap("agent-default");
  const cases: {
    desc: string;
    input: string;
    want: { kinds: string[]; hooks: string[]; says: string[] };
  }[] = [
    {
      desc: "the AWS VPC CNI's SNAT in iptables-nft and upstream's chain left beside the table",
      input: AWS_VPC_CNI_NODE,
      want: {
        kinds: ["backend-conflict", "masqueraded-after"],
        hooks: ["iptables-nft (nf_tables) nat POSTROUTING", "inet ip_masq_agent postrouting"],
        says: [
          "IP-MASQ-AGENT still exists in iptables-nft (nf_tables) (ipv4)",
          "AWS-SNAT-CHAIN-0 rule 2 (AWS VPC CNI) translates pod traffic to",
        ],
      },
    },
    {
      desc: "an empty iptables nat table adds no chain",
      input: natSave([], []),
      want: { kinds: [], hooks: ["inet ip_masq_agent postrouting"], says: [] },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const a = assessNft(defaultConfig(), DEFAULT_FLAGS, agent, [saveSnapshot(input)]);
      const kinds = [...new Set(a.differences.map((d) => d.kind))];
      expect({ kinds, hooks: a.families[0]!.hooks.map((h) => h.ref).sort() }).toEqual({
        kinds: want.kinds,
        hooks: [...want.hooks].sort(),
      });
      for (const s of want.says)
        expect(a.differences.map((d) => d.message).join("\n")).toContain(s);
    });

  it("the agent's own iptables chain left beside the table is healed by a resync", () => {
    // The next apply retires it (reporter nft-write.ts): "Resync all drifted" must not skip
    // the node as one whose only difference is the other backend's rules.
    const a = assessNft(defaultConfig(), DEFAULT_FLAGS, agent, [
      saveSnapshot(natSave(["IP-MASQ-AGENT"], [])),
    ]);
    expect(a.report.status).toBe("drifted");
    expect(a.differences.map((d) => [d.kind, healedByResync(d)])).toEqual([
      ["backend-conflict", true],
    ]);
    expect(resyncCannotHeal(a.differences)).toBeNull();
  });

  it("why folds iptables' POSTROUTING in: the AWS SNAT decides what the agent would masquerade", () => {
    const a = assessNft(defaultConfig(), DEFAULT_FLAGS, agent, [saveSnapshot(AWS_VPC_CNI_NODE)]);
    const v = evaluateNft(a.families[0]!, "203.0.113.9", { mark: 0 });
    expect("error" in v ? v.error : [v.masqueraded, v.orderMatters, v.reason]).toEqual([
      true,
      true,
      expect.stringContaining(
        "SNAT'd to 10.0.3.17 by AWS-SNAT-CHAIN-0 rule 2 (AWS VPC CNI) if iptables-nft (nf_tables) nat POSTROUTING runs first",
      ),
    ]);
  });
});
