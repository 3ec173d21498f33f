import { describe, expect, it } from "vitest";
import { chainsOf, natPostroutingTables, referencesOf } from "./nft-read.js";

// Rule expressions as `nft -j` (1.0.6) lists them: kube-proxy's nftables mode, flannel, Docker.
const JUMP = [{ jump: { target: "masquerading" } }];
const MARK_RETURN = [
  { match: { op: "==", left: { "&": [{ meta: { key: "mark" } }, 16384] }, right: 0 } },
  { return: null },
];
const SET_LOOKUP = [
  {
    match: {
      op: "==",
      left: { payload: { protocol: "ip", field: "daddr" } },
      right: "@nonmasq_v4",
    },
  },
  { return: null },
];
const VMAP_NAMED = [
  {
    vmap: {
      key: {
        concat: [{ payload: { protocol: "ip", field: "daddr" } }, { meta: { key: "l4proto" } }],
      },
      data: "@service-ips",
    },
  },
];
const VMAP_INLINE = [
  {
    vmap: {
      key: { numgen: { mode: "random", mod: 2, offset: 0 } },
      data: {
        set: [
          [0, { goto: { target: "endpoint-A" } }],
          [1, { goto: { target: "endpoint-B" } }],
        ],
      },
    },
  },
];

describe("referencesOf", () => {
  it.each<{ desc: string; input: unknown; want: ReturnType<typeof referencesOf> }>([
    { desc: "a jump", input: JUMP, want: { chains: ["masquerading"], sets: [], maps: [] } },
    { desc: "a mark test (nothing)", input: MARK_RETURN, want: { chains: [], sets: [], maps: [] } },
    {
      desc: "a named set lookup",
      input: SET_LOOKUP,
      want: { chains: [], sets: ["nonmasq_v4"], maps: [] },
    },
    {
      desc: "a named verdict map",
      input: VMAP_NAMED,
      want: { chains: [], sets: [], maps: ["service-ips"] },
    },
    {
      desc: "an inline verdict map's gotos",
      input: VMAP_INLINE,
      want: { chains: ["endpoint-B", "endpoint-A"], sets: [], maps: [] },
    },
    { desc: "no expressions", input: undefined, want: { chains: [], sets: [], maps: [] } },
  ])("$desc", ({ input, want }) => {
    const got = referencesOf(input);
    expect({ ...got, chains: [...got.chains].sort() }).toEqual({
      ...want,
      chains: [...want.chains].sort(),
    });
  });
});

const chain = (family: string, table: string, name: string, hook?: string, type = "nat") => ({
  chain: {
    family,
    table,
    name,
    handle: 1,
    ...(hook ? { type, hook, prio: 100, policy: "accept" } : {}),
  },
});

describe("natPostroutingTables", () => {
  const listed = [
    chain("ip", "kube-proxy", "nat-postrouting", "postrouting"),
    chain("ip", "kube-proxy", "nat-prerouting", "prerouting"),
    chain("ip", "kube-proxy", "masquerading"),
    chain("inet", "ip_masq_agent", "postrouting", "postrouting"),
    chain("ip", "nat", "POSTROUTING", "postrouting"),
    chain("inet", "filter", "output", "postrouting", "filter"),
    chain("bridge", "br", "post", "postrouting"),
    { table: { family: "ip", name: "kube-proxy" } },
  ];
  it.each<{ desc: string; exclude: string[]; want: Record<string, string[]> }>([
    {
      desc: "nat base chains on postrouting, per table, the agent's excluded",
      exclude: ["inet ip_masq_agent"],
      want: { "ip kube-proxy": ["nat-postrouting"], "ip nat": ["POSTROUTING"] },
    },
    {
      desc: "iptables-nft's nat table read as iptables",
      exclude: ["inet ip_masq_agent", "ip nat"],
      want: { "ip kube-proxy": ["nat-postrouting"] },
    },
  ])("$desc", ({ exclude, want }) => {
    const got = natPostroutingTables(chainsOf(listed), new Set(exclude));
    expect(Object.fromEntries([...got].map(([k, v]) => [k, v.map((c) => c.name)]))).toEqual(want);
  });
});
