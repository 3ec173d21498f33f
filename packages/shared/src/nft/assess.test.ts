import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "../config.js";
import type { NftSnapshot } from "../protocol.js";
import { analyzeNftSnapshot, assessNft } from "./assess.js";

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
