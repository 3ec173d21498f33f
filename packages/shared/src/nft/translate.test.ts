import { describe, expect, it } from "vitest";
import type { Family } from "../cidr.js";
import { describeRef } from "../path/describe.js";
import type { NftTable } from "./parse.js";
import { exprText } from "./text.js";
import { translateRule } from "./translate.js";

const table: NftTable = {
  family: "inet",
  name: "t",
  chains: new Map(),
  sets: new Map([
    [
      "v4",
      {
        name: "v4",
        kind: "set",
        type: ["ipv4_addr"],
        flags: ["interval"],
        elem: [
          { prefix: { addr: "10.0.0.0", len: 8 } },
          { range: ["192.0.2.0", "192.0.2.9"] },
          "198.51.100.7",
        ],
      },
    ],
  ]),
  other: [],
};
const payload = (protocol: string, field: string) => ({ payload: { protocol, field } });
const match = (left: unknown, right: unknown, op = "==") => ({ match: { op, left, right } });
const mark = { meta: { key: "mark" } };

/** A translated rule in a few words: its target and each test as `kind[!]:text`. */
function summary(expr: unknown[], family: Family = "ipv4") {
  return translateRule(table, "c", { handle: 9, expr }, family).map((r) => ({
    target: r.unreadable ? `unknown: ${r.unreadable}` : (r.target ?? "continue"),
    tests: (r.compiled?.tests ?? []).map(
      (t) => `${t.test.kind}${t.negated ? "!" : ""}:${t.test.text.replace(/ #\d+$/, "")}`,
    ),
    ...(r.compiled?.matchesNothing ? { nothing: r.compiled.matchesNothing } : {}),
    ...(r.targetArgs.length
      ? { args: r.targetArgs.map((a) => `${a.flag} ${a.args.join(" ")}`.trim()) }
      : {}),
  }));
}

describe("translateRule", () => {
  const cases: {
    desc: string;
    input: { expr: unknown[]; family?: Family };
    want: ReturnType<typeof summary>;
  }[] = [
    {
      desc: "named interval set lookup → address set, return",
      input: { expr: [match(payload("ip", "daddr"), "@v4"), { return: null }] },
      want: [{ target: "RETURN", tests: ["address-set:@v4"] }],
    },
    {
      desc: "an ip match in an inet chain never holds for IPv6",
      input: { expr: [match(payload("ip", "daddr"), "@v4"), { return: null }], family: "ipv6" },
      want: [{ target: "RETURN", tests: [], nothing: "ip daddr matches IPv4 packets only" }],
    },
    {
      desc: "negated prefix, then masquerade with flags and ports",
      input: {
        expr: [
          match(payload("ip", "saddr"), { prefix: { addr: "10.9.0.0", len: 16 } }, "!="),
          { masquerade: { port: { range: [1024, 2047] }, flags: ["fully-random"] } },
        ],
      },
      want: [
        {
          target: "MASQUERADE",
          tests: ["address-set!:10.9.0.0/16"],
          args: ["--to-ports 1024-2047", "--random-fully"],
        },
      ],
    },
    {
      desc: "fib daddr type local → the non-local test",
      input: {
        expr: [match({ fib: { result: "type", flags: ["daddr"] } }, "local"), { return: null }],
      },
      want: [{ target: "RETURN", tests: ["non-local:fib daddr type local"] }],
    },
    {
      desc: "kube-proxy: mark and 0x4000 == 0 return",
      input: { expr: [match({ "&": [mark, 16384] }, 0), { return: null }] },
      want: [{ target: "RETURN", tests: ["mark:0x0/0x4000"] }],
    },
    {
      desc: "kube-proxy: mark set mark xor 0x4000",
      input: { expr: [{ mangle: { key: mark, value: { "^": [mark, 16384] } } }] },
      want: [{ target: "MARK", tests: [], args: ["--set-xmark 0x4000/0x0"] }],
    },
    {
      desc: "mark set mark or 0x4000",
      input: { expr: [{ mangle: { key: mark, value: { "|": [mark, 16384] } } }] },
      want: [{ target: "MARK", tests: [], args: ["--set-xmark 0x4000/0x4000"] }],
    },
    {
      desc: "tcp dport implies the protocol; ct state is a condition",
      input: {
        expr: [
          match(payload("tcp", "dport"), 80),
          match({ ct: { key: "state" } }, "established", "in"),
          { accept: null },
        ],
      },
      want: [
        {
          target: "ACCEPT",
          tests: ["protocol:tcp", "port:dport 80", "opaque:ct state established"],
        },
      ],
    },
    {
      desc: "meta nfproto ipv6 return, asked for IPv4: matches nothing",
      input: { expr: [match({ meta: { key: "nfproto" } }, "ipv6"), { return: null }] },
      want: [{ target: "RETURN", tests: [], nothing: "meta nfproto ipv6 never holds for ipv4" }],
    },
    {
      desc: "jump and goto name chains of the same table",
      input: { expr: [{ goto: { target: "x" } }] },
      want: [{ target: "inet t x", tests: [] }],
    },
    {
      desc: "snat keeps its address",
      input: { expr: [{ snat: { family: "ip", addr: "192.0.2.1" } }] },
      want: [{ target: "SNAT", tests: [], args: ["--to-source 192.0.2.1"] }],
    },
    {
      desc: "an address-keyed verdict map becomes one rule per element",
      input: {
        expr: [
          {
            vmap: {
              key: payload("ip", "daddr"),
              data: {
                set: [
                  [{ prefix: { addr: "10.0.0.0", len: 8 } }, { return: null }],
                  ["192.0.2.1", { jump: { target: "m" } }],
                ],
              },
            },
          },
        ],
      },
      want: [
        { target: "RETURN", tests: ["address-set:10.0.0.0/8"] },
        { target: "inet t m", tests: ["address-set:192.0.2.1"] },
      ],
    },
    {
      desc: "a numgen vmap: one rule per element, each draw a condition of its own rule",
      input: {
        expr: [
          {
            vmap: {
              key: { numgen: { mode: "random", mod: 2, offset: 0 } },
              data: {
                set: [
                  [0, { goto: { target: "a" } }],
                  [1, { goto: { target: "b" } }],
                ],
              },
            },
          },
        ],
      },
      want: [
        { target: "inet t a", tests: ["opaque:numgen random mod 2 0"] },
        { target: "inet t b", tests: ["opaque:numgen random mod 2 1"] },
      ],
    },
    {
      desc: "Docker's interface-keyed vmap: a condition per interface",
      input: {
        expr: [
          {
            vmap: {
              key: { meta: { key: "iifname" } },
              data: { set: [["docker0", { jump: { target: "nat-postrouting-out__docker0" } }]] },
            },
          },
        ],
      },
      want: [
        { target: "inet t nat-postrouting-out__docker0", tests: ["opaque:meta iifname docker0"] },
      ],
    },
    {
      desc: "a vmap over a map that was not read",
      input: { expr: [{ vmap: { key: { meta: { key: "iifname" } }, data: "@missing" } }] },
      want: [{ target: "unknown: @missing is a verdict map that was not read", tests: [] }],
    },
    {
      desc: "an expression kind never seen: not understood, kept",
      input: { expr: [{ tproxy: { addr: "192.0.2.1" } }, { accept: null }] },
      want: [{ target: 'unknown: <tproxy {"addr":"192.0.2.1"}> is not modelled', tests: [] }],
    },
    {
      desc: "a mark set and a verdict in one rule: not modelled",
      input: { expr: [{ mangle: { key: mark, value: 1 } }, { accept: null }] },
      want: [{ target: "unknown: accept after the rule's effect", tests: [] }],
    },
    {
      desc: "iptables-nft: xt comment dropped, other xt matches hidden, MASQUERADE kept",
      input: {
        expr: [
          { xt: { type: "match", name: "comment" } },
          { xt: { type: "match", name: "addrtype" } },
          { xt: { type: "target", name: "MASQUERADE" } },
        ],
      },
      want: [
        {
          target: "MASQUERADE",
          tests: ["opaque:xt match addrtype (arguments not shown by nft -j)"],
        },
      ],
    },
    {
      desc: "limit is a condition of its own rule",
      input: { expr: [{ limit: { rate: 10, per: "second" } }, { accept: null }] },
      want: [{ target: "ACCEPT", tests: ["opaque:limit rate 10/second"] }],
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => expect(summary(input.expr, input.family)).toEqual(want));

  it("names the element that holds an address in `why`", () => {
    const [rule] = translateRule(
      table,
      "c",
      { expr: [match(payload("ip", "daddr"), "@v4"), { return: null }] },
      "ipv4",
    );
    expect(rule?.text).toBe("ip daddr @v4 return");
    expect(exprText({ range: ["192.0.2.0", "192.0.2.9"] })).toBe("192.0.2.0-192.0.2.9");
    expect(
      describeRef({
        chain: "inet t c",
        index: 0,
        text: "",
        component: { id: "unknown", name: "unknown", by: "none" },
      }),
    ).toBe("inet t c rule 1");
  });
});
