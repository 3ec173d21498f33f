import { DEFAULT_FLAGS, defaultConfig, type NftSnapshot, snapshotOf } from "@masq/shared";
import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { assessNftObserved } from "./nft-assess.js";
import type { NftObserved } from "./types.js";

/** A fixture of real `nft -j list ruleset` output as the reporter's read. */
function observed(name: string, linux: NftObserved["linux"] = [], readError?: string): NftObserved {
  const all = (nftDump(name) as { nftables: object[] }).nftables;
  const ruleset = all.filter((o) => !("metainfo" in o)) as NftSnapshot["ruleset"];
  return { nftables: { backend: "nftables", ruleset, ...(readError ? { readError } : {}) }, linux };
}

const upstreamChain = snapshotOf({
  family: "ipv4",
  postrouting: [
    "-P POSTROUTING ACCEPT",
    "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
  ],
  chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -j MASQUERADE"],
});

describe("assessNftObserved", () => {
  it.each<{ desc: string; input: NftObserved; want: { status: string; healable: boolean } }>([
    {
      desc: "the agent's table as the config says",
      input: observed("agent-default"),
      want: { status: "in-sync", healable: false },
    },
    {
      desc: "kube-proxy's table beside it (its marked traffic is by design)",
      input: observed("kube-proxy-agent"),
      want: { status: "in-sync", healable: false },
    },
    {
      desc: "hand edits of the agent's table: an apply heals them",
      input: observed("agent-hand-edit"),
      want: { status: "drifted", healable: true },
    },
    {
      desc: "the agent's iptables chain left beside the table: the next apply retires it",
      input: observed("agent-default", [upstreamChain]),
      want: { status: "drifted", healable: true },
    },
    {
      desc: "an unread ruleset is never in sync, and not written blind",
      input: observed("agent-default", [], "nft list chains failed"),
      want: { status: "drifted", healable: false },
    },
  ])("$desc", ({ input, want }) => {
    const a = assessNftObserved(defaultConfig(), DEFAULT_FLAGS, input);
    expect({ status: a.report.status, healable: a.healable }).toEqual(want);
  });
});
