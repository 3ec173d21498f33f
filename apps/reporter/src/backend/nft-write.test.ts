import { NFT_TABLE, snapshotOf } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ExecResult } from "../exec.js";
import { listCommand, nftError } from "./nft-exec.js";
import { iptablesChains, removeChainPayload, restoreTableJson } from "./nft-write.js";

// The agent's table as `nft -j list table inet ip_masq_agent` printed it, with a foreign table.
const LISTED = [
  { table: { family: "inet", name: NFT_TABLE, handle: 4 } },
  {
    set: {
      family: "inet",
      name: "nonmasq_v4",
      table: NFT_TABLE,
      type: "ipv4_addr",
      handle: 2,
      flags: ["interval"],
      elem: [{ prefix: { addr: "10.0.0.0", len: 8 } }],
    },
  },
  {
    chain: {
      family: "inet",
      table: NFT_TABLE,
      name: "postrouting",
      handle: 1,
      type: "nat",
      hook: "postrouting",
      prio: 100,
      policy: "accept",
    },
  },
  {
    rule: {
      family: "inet",
      table: NFT_TABLE,
      chain: "postrouting",
      handle: 5,
      expr: [{ masquerade: { flags: "fully-random" } }],
    },
  },
  { chain: { family: "ip", table: "kube-proxy", name: "masquerading", handle: 3 } },
];
const TABLE = { family: "inet", name: NFT_TABLE };

describe("restoreTableJson", () => {
  it.each<{ desc: string; input: unknown[]; want: unknown[] }>([
    {
      desc: "the table as it was, handles dropped, other tables left alone",
      input: LISTED,
      want: [
        { add: { table: TABLE } },
        { delete: { table: TABLE } },
        { add: { table: TABLE } },
        {
          add: {
            set: {
              family: "inet",
              name: "nonmasq_v4",
              table: NFT_TABLE,
              type: "ipv4_addr",
              flags: ["interval"],
              elem: [{ prefix: { addr: "10.0.0.0", len: 8 } }],
            },
          },
        },
        {
          add: {
            chain: {
              family: "inet",
              table: NFT_TABLE,
              name: "postrouting",
              type: "nat",
              hook: "postrouting",
              prio: 100,
              policy: "accept",
            },
          },
        },
        {
          add: {
            rule: {
              family: "inet",
              table: NFT_TABLE,
              chain: "postrouting",
              expr: [{ masquerade: { flags: "fully-random" } }],
            },
          },
        },
      ],
    },
    {
      desc: "no table before: the transaction removes it (present or not)",
      input: [LISTED[4]],
      want: [{ add: { table: TABLE } }, { delete: { table: TABLE } }],
    },
  ])("$desc", ({ input, want }) => {
    expect(JSON.parse(restoreTableJson(input)).nftables).toEqual(want);
  });
});

describe("removeChainPayload", () => {
  it("deletes every jump to the chain, then flushes and deletes the chain, in one transaction", () => {
    const snap = snapshotOf({
      family: "ipv4",
      postrouting: [
        "-P POSTROUTING ACCEPT",
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
        "-A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
      ],
      chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -j MASQUERADE"],
    });
    expect(
      iptablesChains(
        { nftables: { backend: "nftables", ruleset: [] }, linux: [snap] },
        "IP-MASQ-AGENT",
      ),
    ).toEqual([snap]);
    expect(removeChainPayload(snap, "IP-MASQ-AGENT")).toBe(
      "*nat\n-D POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT\n-F IP-MASQ-AGENT\n-X IP-MASQ-AGENT\nCOMMIT\n",
    );
  });
});

const result = (r: Partial<ExecResult>): ExecResult => ({
  code: 1,
  stdout: "",
  stderr: "",
  timedOut: false,
  ...r,
});

describe("nft-exec", () => {
  it("lists by JSON command: a name is data, never command text", () => {
    expect(
      JSON.parse(listCommand("chain", { family: "ip", table: "t", name: "x; flush ruleset" })),
    ).toEqual({
      nftables: [{ list: { chain: { family: "ip", table: "t", name: "x; flush ruleset" } } }],
    });
  });
  it.each<{ desc: string; input: ExecResult; want: RegExp }>([
    {
      desc: "not installed",
      input: result({ code: 127, stderr: "spawn nft ENOENT" }),
      want: /^nft is not installed or cannot run/,
    },
    {
      desc: "not installed, inside a namespace",
      input: result({ stderr: 'exec of "nft" failed: No such file or directory' }),
      want: /^nft is not installed/,
    },
    { desc: "a timeout", input: result({ code: 124, timedOut: true }), want: /timed out$/ },
    {
      desc: "too much output",
      input: result({ code: 137, truncated: true }),
      want: /printed more than the reporter reads$/,
    },
    {
      desc: "the kernel's refusal, first lines",
      input: result({
        stderr: "Error: Could not process rule: No such file or directory\nadd rule …\n ^^^\n",
      }),
      want: /^nft -f failed: Error: Could not process rule/,
    },
  ])("names the failure: $desc", ({ input, want }) => {
    expect(nftError(input, "nft -f", "nft")).toMatch(want);
  });
});
