import { chainS, JUMP, masq, NON_MASQ, postroutingS } from "@masq/testkit/iptables-text";
import {
  bridgePodsNode,
  ISSUE_ITEM1_NODE,
  ISSUE_ITEM5_LEGACY_NODE,
  KUBELET_OLD_RULE,
  natSave,
} from "@masq/testkit/node-dumps";
import { describe, expect, it } from "vitest";
import { assessLinux, assessWindows } from "./assess.js";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { linuxNodeView, MAX_PATH_CHAINS, markExceptions, windowsNodeView } from "./node-view.js";
import type { ExceptionListSnapshot, FamilySnapshot } from "./protocol.js";
import { align } from "./rule-rows.js";
import { snapshotOf } from "./snapshot.js";
import { saveSnapshot } from "./test-fixtures/save-snapshot.js";

const config = defaultConfig();
const KUBE =
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING';
/** The upstream agent before v2.x: its own comment and addrtype on every rule. */
const LEGACY_NON_MASQ =
  '-m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL';

function view(chain: string[] | null, postrouting = postroutingS(), readError?: string) {
  const snap: FamilySnapshot = snapshotOf({
    family: "ipv4",
    chain,
    postrouting,
    ...(readError ? { readError } : {}),
  });
  const v = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, [snap]));
  return v.families[0]!;
}

const states = (f: ReturnType<typeof view>) => f.rows.map((r) => r.state);

describe("align", () => {
  it("pairs equal keys in order", () => {
    expect(align(["a", "b", "c"], ["a", "c", "d"])).toEqual([
      [0, 0],
      [1, null],
      [2, 1],
      [null, 2],
    ]);
  });
});

describe("linuxNodeView rows", () => {
  const cases: {
    desc: string;
    input: { chain: string[] | null; postrouting?: string[] };
    want: {
      states: string[];
      row?: { state: string; title?: string; explanation: string | RegExp; kind?: string };
    };
  }[] = [
    {
      desc: "a node in sync (kube-proxy's rule first) has only same rows",
      input: { chain: chainS() },
      want: { states: ["same", "same", "same", "same", "same"] },
    },
    {
      desc: "iptables -S prints the comment after -d: still the same rule",
      input: {
        chain: chainS().map((l) =>
          l.replace(/^(-A \S+) (-m comment --comment "[^"]*") (-d \S+)/, "$1 $3 $2"),
        ),
      },
      want: { states: ["same", "same", "same", "same", "same"] },
    },
    {
      desc: "a deleted RETURN is missing, explained with drift's impact",
      input: { chain: chainS(["169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]) },
      want: {
        states: ["same", "missing", "same", "same", "same"],
        row: {
          state: "missing",
          title: "10.0.0.0/8 keeps pod IP",
          explanation: "traffic to 10.0.0.0/8 is masqueraded but should keep the pod address",
          kind: "missing-cidr",
        },
      },
    },
    {
      desc: "an added RETURN is unexpected",
      input: {
        chain: chainS([
          "169.254.0.0/16",
          "10.0.0.0/8",
          "198.51.100.0/24",
          "172.16.0.0/12",
          "192.168.0.0/16",
        ]),
      },
      want: {
        states: ["same", "same", "unexpected", "same", "same", "same"],
        row: {
          state: "unexpected",
          title: "198.51.100.0/24 keeps pod IP",
          explanation:
            "traffic to 198.51.100.0/24 leaves with the pod address but should be masqueraded",
          kind: "unexpected-cidr",
        },
      },
    },
    {
      desc: "a RETURN inside a configured CIDR has no effect: covered",
      input: {
        chain: chainS([
          "169.254.0.0/16",
          "10.0.0.0/8",
          "10.1.0.0/16",
          "172.16.0.0/12",
          "192.168.0.0/16",
        ]),
      },
      want: {
        states: ["same", "same", "covered", "same", "same", "same"],
        row: { state: "covered", explanation: /already covered by configured CIDRs/ },
      },
    },
    {
      desc: "an older agent's rules are the same behaviour with other text",
      input: {
        chain: [
          "-N IP-MASQ-AGENT",
          ...["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"].map(
            (c) => `-A IP-MASQ-AGENT -d ${c} ${LEGACY_NON_MASQ} -j RETURN`,
          ),
          masq(),
        ],
      },
      want: {
        states: ["cosmetic", "cosmetic", "cosmetic", "cosmetic", "same"],
        row: {
          state: "cosmetic",
          title: "169.254.0.0/16 (link-local) keeps pod IP",
          explanation: /Same behaviour/,
        },
      },
    },
    {
      desc: "a rule after MASQUERADE is never reached",
      input: { chain: [...chainS(), `-A IP-MASQ-AGENT -d 203.0.113.0/24 ${NON_MASQ} -j RETURN`] },
      want: {
        states: ["same", "same", "same", "same", "same", "unreachable"],
        row: {
          state: "unreachable",
          explanation: /no packet ever reaches it/,
          kind: "masquerade-not-last",
        },
      },
    },
    {
      desc: "MASQUERADE without --random-fully: the options differ",
      input: { chain: chainS(undefined, [masq("")]) },
      want: {
        states: ["same", "same", "same", "same", "missing", "unexpected"],
        row: {
          state: "unexpected",
          title: "everything else is masqueraded",
          explanation: /source ports/,
          kind: "masquerade-options",
        },
      },
    },
    {
      desc: "a missing chain: every desired rule is missing, explained by chain-missing",
      input: { chain: null, postrouting: postroutingS([KUBE]) },
      want: {
        states: ["missing", "missing", "missing", "missing", "missing"],
        row: {
          state: "missing",
          explanation: /not masqueraded by the agent to any destination/,
          kind: "chain-missing",
        },
      },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const f = view(c.input.chain, c.input.postrouting);
      expect(states(f)).toEqual(c.want.states);
      if (!c.want.row) return;
      const row = f.rows.find((r) => r.state === c.want.row!.state)!;
      if (c.want.row.title) expect((row.actual ?? row.desired)?.title).toBe(c.want.row.title);
      if (typeof c.want.row.explanation === "string")
        expect(row.explanation).toBe(c.want.row.explanation);
      else expect(row.explanation).toMatch(c.want.row.explanation);
      expect(row.difference?.kind).toBe(c.want.row.kind);
    });

  it("describes each rule in words", () => {
    expect(view(chainS()).rows.map((r) => r.desired?.title)).toEqual([
      "169.254.0.0/16 (link-local) keeps pod IP",
      "10.0.0.0/8 keeps pod IP",
      "172.16.0.0/12 keeps pod IP",
      "192.168.0.0/16 keeps pod IP",
      "everything else is masqueraded (random-fully)",
    ]);
  });
});

describe("linuxNodeView: what a resync does not heal", () => {
  const cases: { desc: string; input: { chain: string[]; post: string[] }; want: string[] }[] = [
    {
      desc: "a missing CIDR is the agent's own: a resync heals it",
      input: {
        chain: chainS(["169.254.0.0/16", "10.0.0.0/8", "172.16.0.0/12"]),
        post: postroutingS(),
      },
      want: [],
    },
    {
      desc: "another rule masquerading before the jump: no resync removes it (a new user's find)",
      input: {
        chain: chainS(),
        post: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -d 10.99.0.0/16 -j MASQUERADE", JUMP],
      },
      want: ["jump-shadowed"],
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const snap = snapshotOf({ family: "ipv4", chain: c.input.chain, postrouting: c.input.post });
      const v = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, [snap]));
      expect(v.notHealedByResync.map((d) => d.kind)).toEqual(c.want);
    });
});

describe("linuxNodeView jump, the chain reached through another chain", () => {
  it("says what drift says (reached through X), not that POSTROUTING never jumps", () => {
    const snap: FamilySnapshot = {
      family: "ipv4",
      backend: "nf_tables",
      chains: [
        { name: "POSTROUTING", lines: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j X"] },
        { name: "X", lines: ["-N X", `-A X -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT`] },
        { name: "IP-MASQ-AGENT", lines: chainS() },
      ],
    };
    const jump = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, [snap])).families[0]!.jump;
    expect(jump.state).toBe("modified");
    expect(jump.message).toMatch(/reaches IP-MASQ-AGENT through X/);
  });
});

describe("linuxNodeView jump", () => {
  const cases: {
    desc: string;
    input: { chain: string[] | null; postrouting: string[] };
    want: {
      state: string;
      severity: string;
      message: string;
      kinds: string[];
      marks: (string | undefined)[];
    };
  }[] = [
    {
      desc: "kube-proxy's rule then the agent's jump: present",
      input: { chain: chainS(), postrouting: postroutingS() },
      want: {
        state: "present",
        severity: "ok",
        message: "POSTROUTING jumps to IP-MASQ-AGENT for non-local destinations",
        kinds: [],
        marks: [undefined, "jump"],
      },
    },
    {
      desc: "the jump deleted: drift's critical jump-missing, nothing masqueraded by the agent",
      input: { chain: chainS(), postrouting: postroutingS([KUBE]) },
      want: {
        state: "missing",
        severity: "critical",
        message: "POSTROUTING does not jump to IP-MASQ-AGENT",
        kinds: ["jump-missing"],
        marks: [undefined],
      },
    },
    {
      desc: "two agents added the jump twice: a warning",
      input: { chain: chainS(), postrouting: postroutingS([KUBE, JUMP, JUMP]) },
      want: {
        state: "duplicate",
        severity: "warning",
        message: "POSTROUTING jumps to IP-MASQ-AGENT 2 times",
        kinds: ["jump-duplicate"],
        marks: [undefined, "jump", "duplicate"],
      },
    },
    {
      desc: "a MASQUERADE for everything before the jump shadows it",
      input: { chain: chainS(), postrouting: postroutingS(["-A POSTROUTING -j MASQUERADE", JUMP]) },
      want: {
        state: "shadowed",
        severity: "critical",
        message: "POSTROUTING rule 1 masquerades traffic before IP-MASQ-AGENT is reached",
        kinds: ["jump-shadowed"],
        marks: ["shadow", "jump"],
      },
    },
    {
      desc: "no chain and no jump: one chain-missing, no second jump difference",
      input: { chain: null, postrouting: postroutingS([KUBE]) },
      want: {
        state: "missing",
        severity: "critical",
        message: "POSTROUTING does not jump to IP-MASQ-AGENT (nor does the chain exist)",
        kinds: [],
        marks: [undefined],
      },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const j = view(c.input.chain, c.input.postrouting).jump;
      expect({
        state: j.state,
        severity: j.severity,
        message: j.message,
        kinds: j.differences.map((d) => d.kind),
        marks: j.rules.map((r) => r.mark),
      }).toEqual(c.want);
    });

  it("says why the chain is missing and that a read failed, with drift's differences", () => {
    const missing = view(null, postroutingS([KUBE]));
    expect(missing.chainExists).toBe(false);
    expect(missing.chainMissing?.message).toBe("IP-MASQ-AGENT does not exist");
    const unreadable = view(null, [], "iptables: Permission denied (you must be root)");
    expect(unreadable.unreadable?.message).toBe(
      "could not read rules: iptables: Permission denied (you must be root)",
    );
  });

  it("keeps drift's report for the differences list", () => {
    const snap = snapshotOf({ family: "ipv4", chain: chainS(), postrouting: postroutingS([KUBE]) });
    const a = assessLinux(config, DEFAULT_FLAGS, [snap]);
    expect(linuxNodeView(a).report).toBe(a.report);
  });
});

describe("markExceptions", () => {
  const list = (exceptions: string[], pointer = "/policies/0/value/ExceptionList") =>
    ({ pointer, form: "EndpointPolicy", exceptions }) satisfies ExceptionListSnapshot;
  const two = { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "172.16.0.0/12"] };
  const marks = (c: MasqConfig, lists: ExceptionListSnapshot[]) => {
    const { differences } = assessWindows(c, { path: "C:/k/10.conf", lists });
    return lists.map((l) => markExceptions(l, differences));
  };
  const cases: {
    desc: string;
    input: { config: MasqConfig; lists: ExceptionListSnapshot[] };
    want: unknown;
  }[] = [
    {
      desc: "marks extra entries and appends the missing CIDRs",
      input: { config: two, lists: [list(["10.0.0.0/8", "1.2.3.0/24", "169.254.0.0/16"])] },
      want: [
        [
          { cidr: "10.0.0.0/8", state: "same" },
          { cidr: "1.2.3.0/24", state: "unexpected" },
          { cidr: "169.254.0.0/16", state: "same" },
          { cidr: "172.16.0.0/12", state: "missing" },
        ],
      ],
    },
    {
      desc: "judges by behaviour: plain IPs and covered blocks are not drift",
      input: {
        config: { ...two, nonMasqueradeCIDRs: ["10.1.2.3/32", "10.0.0.0/8"], masqLinkLocal: true },
        lists: [list(["10.1.2.3", "10.0.0.0/9", "10.128.0.0/9"])],
      },
      want: [
        [
          { cidr: "10.1.2.3", state: "same" },
          { cidr: "10.0.0.0/9", state: "same" },
          { cidr: "10.128.0.0/9", state: "same" },
        ],
      ],
    },
    {
      desc: "unreadable entries, and each list only with its own differences (IPv6 lists left alone)",
      input: {
        config: { ...two, masqLinkLocal: true },
        lists: [
          list(["10.0.0.0/8", "172.16.0.0/12", "%SERVICE_CIDR%"], "/a"),
          list(["10.0.0.0/8"], "/b"),
          list(["fd00::/8", "%X%"], "/c"),
        ],
      },
      want: [
        [
          { cidr: "10.0.0.0/8", state: "same" },
          { cidr: "172.16.0.0/12", state: "same" },
          { cidr: "%SERVICE_CIDR%", state: "unreadable" },
        ],
        [
          { cidr: "10.0.0.0/8", state: "same" },
          { cidr: "172.16.0.0/12", state: "missing" },
        ],
        [
          { cidr: "fd00::/8", state: "same" },
          { cidr: "%X%", state: "same" },
        ],
      ],
    },
  ];
  for (const c of cases)
    it(c.desc, () => expect(marks(c.input.config, c.input.lists)).toEqual(c.want));
});

describe("windowsNodeView", () => {
  it("carries the file, the desired list and each list marked", () => {
    const snap = {
      path: "C:/k/cni/config/10-flannel.conflist",
      lists: [
        {
          pointer: "/plugins/0/policies/0/value/Settings/Exceptions",
          form: "OutBoundNAT" as const,
          exceptions: ["10.0.0.0/8"],
        },
      ],
    };
    const v = windowsNodeView(assessWindows(config, snap), snap);
    expect(v).toMatchObject({
      os: "windows",
      path: snap.path,
      desired: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"],
    });
    expect(v.lists[0]!.entries.map((e) => `${e.state} ${e.cidr}`)).toEqual([
      "same 10.0.0.0/8",
      "missing 172.16.0.0/12",
      "missing 192.168.0.0/16",
      "missing 169.254.0.0/16",
    ]);
    expect(v.report.status).toBe("drifted");
  });
});

describe("linuxNodeView path", () => {
  const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";
  const brief = (snaps: FamilySnapshot[]) => {
    const p = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, snaps), snaps).families[0]!.path;
    return {
      chains: p.chains.map(
        (c) =>
          `${c.name} (${c.component.name})${c.read ? "" : " unread"}: ${c.decisions
            .map((d) => `${d.index + 1} ${d.does} ${d.agent}`)
            .join(", ")}`,
      ),
      effects: p.effects.map((d) => `${d.severity} ${d.kind}: ${d.message}`),
      inert: p.inert.map((r) => `${r.chain} ${r.index + 1}: ${r.why}`),
      unknowns: p.unknowns.map((u) => u.kind),
      backends: p.backends,
      conflicts: p.conflicts.map((d) => `${d.severity} ${d.kind}`),
    };
  };
  const agentChain = (rules: string[]) => natSave(["IP-MASQ-AGENT"], rules);
  const cases: {
    desc: string;
    input: FamilySnapshot[];
    want: Partial<ReturnType<typeof brief>>;
  }[] = [
    {
      desc: "issue item 1: kube-proxy, the CNI bridge chain and the agent, each with what it decides",
      input: [saveSnapshot(ISSUE_ITEM1_NODE)],
      want: {
        chains: [
          "POSTROUTING (unknown): ",
          "KUBE-POSTROUTING (kube-proxy): 1 masquerades before",
          `${CNI} (CNI bridge plugin (ipMasq)): 1 accepts (no NAT) before, 2 masquerades before`,
          "IP-MASQ-AGENT (ip-masq-agent): 1 returns (no NAT) inside, 2 returns (no NAT) inside, 3 masquerades inside",
        ],
        effects: [
          `warning jump-shadowed: ${CNI} rule 2 (CNI bridge plugin (ipMasq)) masquerades traffic before IP-MASQ-AGENT is reached`,
        ],
        inert: [],
        unknowns: [],
        backends: ["nf_tables"],
        conflicts: [],
      },
    },
    {
      desc: "kubelet's old rule matches no packet and is listed as such",
      input: [
        saveSnapshot(natSave(["IP-MASQ-AGENT"], [KUBELET_OLD_RULE, JUMP, ...chainS().slice(1)])),
      ],
      want: { inert: [expect.stringMatching(/^POSTROUTING 1: /) as unknown as string] },
    },
    {
      desc: "a chain POSTROUTING reaches that was not read is unread and unknown",
      input: [
        {
          ...saveSnapshot(
            natSave(
              ["IP-MASQ-AGENT"],
              ["-A POSTROUTING -j FLANNEL-POSTRTG", JUMP, ...chainS().slice(1)],
            ),
          ),
          unread: ["FLANNEL-POSTRTG"],
        },
      ],
      want: {
        chains: [
          "POSTROUTING (unknown): ",
          "FLANNEL-POSTRTG (flannel) unread: ",
          "IP-MASQ-AGENT (ip-masq-agent): 1 returns (no NAT) inside, 2 returns (no NAT) inside, 3 returns (no NAT) inside, 4 returns (no NAT) inside, 5 masquerades inside",
        ],
        unknowns: ["unread-chain"],
      },
    },
    {
      desc: "issue item 5: the agent chain in both backends, jumped to in both, is a critical conflict",
      input: [
        saveSnapshot(agentChain([JUMP, ...chainS().slice(1)])),
        saveSnapshot(ISSUE_ITEM5_LEGACY_NODE, "ipv4", "legacy"),
      ],
      want: { backends: ["nf_tables", "legacy"], conflicts: ["critical backend-conflict"] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(brief(input)).toMatchObject(want);
  });

  it("lists at most MAX_PATH_CHAINS chains and counts the rest", () => {
    const lines = bridgePodsNode(60).split("\n");
    const snap = saveSnapshot(
      [
        "*nat",
        ...lines.map((l) =>
          l.replace(/^-N (\S+)$/, ":$1 - [0:0]").replace(/^-P (\S+) (\S+)$/, ":$1 $2 [0:0]"),
        ),
        "COMMIT",
      ].join("\n"),
    );
    const p = linuxNodeView(assessLinux(config, DEFAULT_FLAGS, [snap]), [snap]).families[0]!.path;
    expect(p.chains).toHaveLength(MAX_PATH_CHAINS);
    expect(p.moreChains).toBe(60 + 3 - MAX_PATH_CHAINS);
  });
});
