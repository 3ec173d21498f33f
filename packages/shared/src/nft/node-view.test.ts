import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "../config.js";
import type { NftSnapshot } from "../protocol.js";
import { assessNft } from "./assess.js";
import { hookPlacement, nftNodeView } from "./node-view.js";

type Entry = { chain?: { table: string; name: string; prio?: number } };

/** The dump, with the priority of each base chain named in `prio` ("table chain") changed. */
function snap(dump: string, prio: Record<string, number> = {}): NftSnapshot {
  const ruleset = (nftDump(dump) as { nftables: NftSnapshot["ruleset"] }).nftables;
  for (const e of ruleset as Entry[]) {
    const p = e.chain && prio[`${e.chain.table} ${e.chain.name}`];
    if (p !== undefined && e.chain) e.chain.prio = p;
  }
  return { backend: "nftables", ruleset };
}

function view(dump: string, prio: Record<string, number> = {}) {
  const s = snap(dump, prio);
  const v = nftNodeView(
    assessNft(defaultConfig(), DEFAULT_FLAGS, s),
    defaultConfig(),
    DEFAULT_FLAGS,
    s,
  );
  const f = v.families[0]!;
  return {
    summary: v.report.summary,
    hooks: f.nftables?.hooks.map((h) => `${h.ref} ${h.priority} ${h.component.id}`),
    jump: f.jump.state,
    rows: f.rows.map(
      (r) =>
        `${r.state}: ${(r.actual ?? r.desired)?.text.split(' comment "')[0]} — ${(r.desired ?? r.actual)?.title}`,
    ),
    path: f.path.chains.map(
      (c) => `${c.name}: ${c.decisions.map((d) => `${d.index + 1} ${d.does}`).join(", ")}`,
    ),
    numbers: f.rows.map((r) => (r.actual ?? r.desired)?.index ?? "-").join(" "),
    placed: f.path.chains.flatMap((c) =>
      c.decisions.map((d) => `${c.name} ${d.index + 1} ${d.agent}`),
    ),
    effects: f.path.effects.length,
    /** The role of each rule (not set element) the agent's table does not want. */
    extraRoles: f.rows
      .filter((r) => r.state === "unexpected" && r.actual?.index !== undefined)
      .map((r) => r.actual?.role),
  };
}

/** The first family's rows of the default config's view of `s`: state and text, no comment. */
function rowTexts(s: NftSnapshot): string[] {
  const v = nftNodeView(
    assessNft(defaultConfig(), DEFAULT_FLAGS, s),
    defaultConfig(),
    DEFAULT_FLAGS,
    s,
  );
  return v.families[0]!.rows.map(
    (r) => `${r.state} ${(r.desired ?? r.actual)?.text.split(" comment")[0]}`,
  );
}

describe("nftNodeView", () => {
  const cases: {
    desc: string;
    input: string;
    prio?: Record<string, number>;
    want: Partial<ReturnType<typeof view>>;
  }[] = [
    {
      desc: "kube-proxy and the agent: both chains, in priority order, rules in nft syntax",
      input: "kube-proxy-agent",
      want: {
        summary: "in sync",
        hooks: [
          "ip kube-proxy nat-postrouting 100 kube-proxy",
          "inet ip_masq_agent postrouting 100 ip-masq-agent",
        ],
        jump: "present",
        rows: [
          "same: fib daddr type local return — the node's own addresses keep pod IP",
          "same: meta nfproto ipv6 return — IPv6 keeps pod IP (--enable-ipv6 is off)",
          "same: ip daddr @nonmasq_v4 return — @nonmasq_v4 (4 ranges) keeps pod IP",
          "same: element 10.0.0.0/8 of @nonmasq_v4 — 10.0.0.0/8 keeps pod IP",
          "same: element 169.254.0.0/16 of @nonmasq_v4 — 169.254.0.0/16 keeps pod IP",
          "same: element 172.16.0.0/12 of @nonmasq_v4 — 172.16.0.0/12 keeps pod IP",
          "same: element 192.168.0.0/16 of @nonmasq_v4 — 192.168.0.0/16 keeps pod IP",
          "same: masquerade fully-random — everything else is masqueraded (fully-random)",
        ],
        path: [
          "ip kube-proxy nat-postrouting: ",
          "ip kube-proxy masquerading: 1 returns (no NAT), 3 masquerades",
          "inet ip_masq_agent postrouting: 3 returns (no NAT), 4 masquerades",
        ],
        // A set's elements have no order: they are not numbered as rules are. They sit under the
        // rule that looks the set up, before the masquerade that catches everything else.
        numbers: "0 1 2 - - - - 3",
        // kube-proxy's chain runs at srcnat too: neither before nor after by its priority.
        placed: [
          "ip kube-proxy masquerading 1 same-priority",
          "ip kube-proxy masquerading 3 same-priority",
          "inet ip_masq_agent postrouting 3 inside",
          "inet ip_masq_agent postrouting 4 inside",
        ],
      },
    },
    {
      desc: "a base chain of lower priority runs before the agent's",
      input: "kube-proxy-agent",
      prio: { "kube-proxy nat-postrouting": 50 },
      want: {
        placed: [
          "ip kube-proxy masquerading 1 before",
          "ip kube-proxy masquerading 3 before",
          "inet ip_masq_agent postrouting 3 inside",
          "inet ip_masq_agent postrouting 4 inside",
        ],
      },
    },
    {
      desc: "a base chain of higher priority runs after the agent's",
      input: "kube-proxy-agent",
      prio: { "kube-proxy nat-postrouting": 150 },
      want: {
        placed: [
          "inet ip_masq_agent postrouting 3 inside",
          "inet ip_masq_agent postrouting 4 inside",
          "ip kube-proxy masquerading 1 after",
          "ip kube-proxy masquerading 3 after",
        ],
      },
    },
    {
      desc: "hand edits: the inserted rule and the elements show as rows",
      input: "agent-hand-edit",
      want: {
        rows: [
          "unexpected: ip saddr 10.100.64.0/18 accept — not one of the agent's rules",
          "same: fib daddr type local return — the node's own addresses keep pod IP",
          "same: meta nfproto ipv6 return — IPv6 keeps pod IP (--enable-ipv6 is off)",
          "same: ip daddr @nonmasq_v4 return — @nonmasq_v4 (4 ranges) keeps pod IP",
          "same: element 169.254.0.0/16 of @nonmasq_v4 — 169.254.0.0/16 keeps pod IP",
          "same: element 172.16.0.0/12 of @nonmasq_v4 — 172.16.0.0/12 keeps pod IP",
          "same: element 192.168.0.0/16 of @nonmasq_v4 — 192.168.0.0/16 keeps pod IP",
          "missing: element 10.0.0.0/8 of @nonmasq_v4 — 10.0.0.0/8 keeps pod IP",
          "unexpected: element 198.51.100.0/24 of @nonmasq_v4 — 198.51.100.0/24 keeps pod IP",
          "same: masquerade fully-random — everything else is masqueraded (fully-random)",
        ],
      },
    },
    {
      desc: "rules the agent wrote under other flags are its own, for other flags, not foreign",
      input: "agent-ipv6-ports",
      want: {
        rows: [
          "same: fib daddr type local return — the node's own addresses keep pod IP",
          "missing: meta nfproto ipv6 return — IPv6 keeps pod IP (--enable-ipv6 is off)",
          "same: ip daddr @nonmasq_v4 return — @nonmasq_v4 (4 ranges) keeps pod IP",
          "same: element 10.0.0.0/8 of @nonmasq_v4 — 10.0.0.0/8 keeps pod IP",
          "same: element 169.254.0.0/16 of @nonmasq_v4 — 169.254.0.0/16 keeps pod IP",
          "same: element 192.168.0.0/16 of @nonmasq_v4 — 192.168.0.0/16 keeps pod IP",
          "missing: element 172.16.0.0/12 of @nonmasq_v4 — 172.16.0.0/12 keeps pod IP",
          "missing: masquerade fully-random — everything else is masqueraded (fully-random)",
          "unexpected: ip6 daddr @nonmasq_v6 return — the agent's rule for other flags or another config",
          "unexpected: meta l4proto { tcp, udp, sctp } numgen random mod 61744 < 28976 masquerade to :1024-29999 — the agent's rule for other flags or another config",
          "unexpected: meta l4proto { tcp, udp, sctp } masquerade to :32768-65535 — the agent's rule for other flags or another config",
          "unexpected: masquerade — the agent's masquerade, with other options",
        ],
      },
    },
    {
      desc: "the agent's own rules for other flags keep the pod IP or masquerade: never foreign",
      input: "agent-ipv6-ports",
      want: { extraRoles: ["return", "masquerade", "masquerade", "masquerade"] },
    },
    {
      desc: "a hand-inserted accept neither keeps nor masquerades: foreign",
      input: "agent-hand-edit",
      want: { extraRoles: ["foreign"] },
    },
    {
      desc: "flannel's masquerade of configured destinations is an effect on the path",
      input: "flannel-kube-proxy-agent",
      want: { summary: "masqueraded after the chain", effects: 2 },
    },
  ];
  for (const { desc, input, prio, want } of cases)
    it(desc, () => expect(view(input, prio)).toMatchObject(want));

  it("hookPlacement: by priority, unplaced without the agent's chain", () => {
    expect(
      [
        [50, 100],
        [100, 100],
        [150, 100],
        [100, undefined],
      ].map(([p, a]) => hookPlacement(p!, a)),
    ).toEqual(["before", "same-priority", "after", "no-agent"]);
  });

  it("the set's lookup deleted by hand: its elements stay under that (missing) rule", () => {
    const s = snap("kube-proxy-agent");
    type Rule = { rule?: { chain: string; expr: unknown[] } };
    const lookup = (e: Rule) => JSON.stringify(e.rule?.expr ?? []).includes("@nonmasq_v4");
    const ruleset = (s.ruleset as Rule[]).filter((e) => !lookup(e)) as NftSnapshot["ruleset"];
    expect(rowTexts({ ...s, ruleset }).slice(2, 8)).toEqual([
      "missing ip daddr @nonmasq_v4 return",
      "same element 10.0.0.0/8 of @nonmasq_v4",
      "same element 169.254.0.0/16 of @nonmasq_v4",
      "same element 172.16.0.0/12 of @nonmasq_v4",
      "same element 192.168.0.0/16 of @nonmasq_v4",
      "same masquerade fully-random",
    ]);
  });

  it("a rule added by hand after the masquerade that names the set: the elements stay under the agent's lookup", () => {
    // The last row naming @nonmasq_v4 was taken: a hand-added `ip saddr @nonmasq_v4 counter`
    // after the masquerade put the elements after it again, as if it ran before them.
    const s = snap("kube-proxy-agent");
    type Rule = { rule?: { table: string; handle?: number; expr: unknown[] } };
    const agent = (s.ruleset as Rule[]).filter((e) => e.rule?.table === "ip_masq_agent");
    const saddr = { payload: { protocol: "ip", field: "saddr" } };
    const added: Rule = {
      rule: {
        ...agent.at(-1)!.rule!,
        handle: 999,
        expr: [{ match: { op: "==", left: saddr, right: "@nonmasq_v4" } }, { counter: null }],
      },
    };
    const ruleset = [...(s.ruleset as Rule[]), added] as NftSnapshot["ruleset"];
    expect(rowTexts({ ...s, ruleset }).slice(2)).toEqual([
      "same ip daddr @nonmasq_v4 return",
      "same element 10.0.0.0/8 of @nonmasq_v4",
      "same element 169.254.0.0/16 of @nonmasq_v4",
      "same element 172.16.0.0/12 of @nonmasq_v4",
      "same element 192.168.0.0/16 of @nonmasq_v4",
      "same masquerade fully-random",
      "unexpected ip saddr @nonmasq_v4",
    ]);
  });

  it("no agent table: the chain is missing", () => {
    const s: NftSnapshot = { backend: "nftables", ruleset: [] };
    const v = nftNodeView(
      assessNft(defaultConfig(), DEFAULT_FLAGS, s),
      defaultConfig(),
      DEFAULT_FLAGS,
      s,
    );
    expect([v.families[0]?.jump.state, v.families[0]?.chainMissing?.kind]).toEqual([
      "missing",
      "chain-missing",
    ]);
  });
});

describe("nftNodeView: the hooked agent chain's priority as the node has it", () => {
  const cases: { desc: string; input: Record<string, number>; want: RegExp }[] = [
    { desc: "at srcnat", input: {}, want: /\(priority srcnat\)$/ },
    {
      desc: "moved to 50 by hand: not claimed to be srcnat",
      input: { "ip_masq_agent postrouting": 50 },
      want: /\(priority 50, not srcnat\)$/,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const s = snap("kube-proxy-agent", input);
      const v = nftNodeView(
        assessNft(defaultConfig(), DEFAULT_FLAGS, s),
        defaultConfig(),
        DEFAULT_FLAGS,
        s,
      );
      expect(v.families[0]!.jump.message).toMatch(want);
    });
});

describe("nftNodeView: a set lookup's two sides count their own set", () => {
  const prefix = (cidr: string) => {
    const [addr, len] = cidr.split("/");
    return { prefix: { addr, len: Number(len) } };
  };
  /** kube-proxy-agent with the agent set's elements replaced (undefined: the set deleted). */
  function withElements(elem: unknown[] | undefined): NftSnapshot {
    const s = snap("kube-proxy-agent");
    const ruleset = (s.ruleset as { set?: { name: string; elem?: unknown[] } }[]).flatMap((e) => {
      if (e.set?.name !== "nonmasq_v4") return [e];
      return elem ? [{ set: { ...e.set, elem } }] : [];
    });
    return { ...s, ruleset: ruleset as NftSnapshot["ruleset"] };
  }
  const cases: { desc: string; input: unknown[] | undefined; want: [string, string] }[] = [
    {
      desc: "in sync: both sides 4 ranges",
      input: ["10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"].map(prefix),
      want: ["@nonmasq_v4 (4 ranges) keeps pod IP", "@nonmasq_v4 (4 ranges) keeps pod IP"],
    },
    {
      desc: "an element deleted on the node: the node's side has 3",
      input: ["169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"].map(prefix),
      want: ["@nonmasq_v4 (4 ranges) keeps pod IP", "@nonmasq_v4 (3 ranges) keeps pod IP"],
    },
    {
      desc: "two intervals on the node (a prefix and a range)",
      input: [prefix("10.0.0.0/8"), { range: ["192.168.0.0", "192.168.255.255"] }],
      want: ["@nonmasq_v4 (4 ranges) keeps pod IP", "@nonmasq_v4 (2 ranges) keeps pod IP"],
    },
    {
      desc: "one element, counted as one range",
      input: [prefix("10.0.0.0/8")],
      want: ["@nonmasq_v4 (4 ranges) keeps pod IP", "@nonmasq_v4 (1 range) keeps pod IP"],
    },
    {
      desc: "an empty set",
      input: [],
      want: ["@nonmasq_v4 (4 ranges) keeps pod IP", "@nonmasq_v4 (0 ranges) keeps pod IP"],
    },
    {
      desc: "the set deleted: not counted as the desired one",
      input: undefined,
      want: [
        "@nonmasq_v4 (4 ranges) keeps pod IP",
        "@nonmasq_v4 (not on the node, or not addresses) keeps pod IP",
      ],
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const s = withElements(input);
      const v = nftNodeView(
        assessNft(defaultConfig(), DEFAULT_FLAGS, s),
        defaultConfig(),
        DEFAULT_FLAGS,
        s,
      );
      const row = v.families[0]!.rows.find((r) => r.desired?.text.startsWith("ip daddr @"));
      expect([row?.desired?.title, row?.actual?.title]).toEqual(want);
    });
});
