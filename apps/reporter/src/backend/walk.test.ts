import { describe, expect, it } from "vitest";
import { fakeIptables } from "../../test/helpers/fake-iptables.js";
import { createLister } from "./list.js";
import { type Walk, type WalkBounds, walkChains } from "./walk.js";

const AGENT = "IP-MASQ-AGENT";
const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";
const chain = (name: string, ...rules: string[]) => [
  name === "POSTROUTING" ? "-P POSTROUTING ACCEPT" : `-N ${name}`,
  ...rules.map((r) => `-A ${name} ${r}`),
];

/** Issue 11 item 1's node (neutral addresses): kube-proxy, the CNI bridge chain, the agent. */
const ITEM1: Record<string, string[]> = {
  POSTROUTING: chain(
    "POSTROUTING",
    '-m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    `-s 10.100.64.64/26 -m comment --comment "name: \\"cbr0\\" id: \\"1111\\"" -j ${CNI}`,
    `-m addrtype ! --dst-type LOCAL -j ${AGENT}`,
  ),
  [CNI]: chain(CNI, "-d 10.100.64.64/26 -j ACCEPT", "! -d 224.0.0.0/4 -j MASQUERADE"),
  [AGENT]: chain(AGENT, "-d 169.254.0.0/16 -j RETURN", "-d 10.0.0.0/8 -j RETURN", "-j MASQUERADE"),
  "KUBE-POSTROUTING": chain("KUBE-POSTROUTING", "-m mark --mark 0x4000/0x4000 -j MASQUERADE"),
  // Reached from PREROUTING/OUTPUT only: never read.
  "KUBE-SERVICES": chain("KUBE-SERVICES", "-d 10.96.0.1/32 -p tcp -j KUBE-SVC-X"),
};

function walk(
  nat: Record<string, string[]>,
  opts: { prefetch?: string[]; bounds?: Partial<WalkBounds> } = {},
) {
  const fake = fakeIptables({ version: "iptables v1.8.9 (nf_tables)", tables: { nat } });
  const list = createLister(
    fake.run,
    { list: "iptables-nft", restore: "iptables-nft-restore" },
    "nat",
  );
  return walkChains({ list, agentChain: AGENT, ...opts }).then((w) => ({ w, calls: fake.calls }));
}

const names = (w: Walk) => w.chains.map((c) => (c.lines === null ? `${c.name}(missing)` : c.name));

describe("walkChains", () => {
  const cases: {
    desc: string;
    input: { nat: Record<string, string[]>; bounds?: Partial<WalkBounds> };
    want: { chains: string[]; unread?: string[]; notes?: RegExp[]; problem?: RegExp };
  }[] = [
    {
      desc: "issue 11 item 1: POSTROUTING, then every chain it jumps to, breadth-first",
      input: { nat: ITEM1 },
      want: { chains: ["POSTROUTING", "KUBE-POSTROUTING", CNI, AGENT] },
    },
    {
      desc: "gotos are followed and a cycle is read once",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j cali-POSTROUTING"),
          "cali-POSTROUTING": chain("cali-POSTROUTING", "-g cali-nat-outgoing"),
          "cali-nat-outgoing": chain("cali-nat-outgoing", "-j cali-POSTROUTING", "-j MASQUERADE"),
          [AGENT]: chain(AGENT),
        },
      },
      want: { chains: ["POSTROUTING", "cali-POSTROUTING", "cali-nat-outgoing", AGENT] },
    },
    {
      desc: "a missing agent chain is a chain that does not exist, not an error",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j KUBE-POSTROUTING"),
          "KUBE-POSTROUTING": chain("KUBE-POSTROUTING"),
        },
      },
      want: { chains: ["POSTROUTING", "KUBE-POSTROUTING", `${AGENT}(missing)`] },
    },
    {
      desc: "the agent chain is read even when nothing jumps to it, and comes last",
      input: {
        nat: { POSTROUTING: chain("POSTROUTING", "-j A"), A: chain("A"), [AGENT]: chain(AGENT) },
      },
      want: { chains: ["POSTROUTING", "A", AGENT] },
    },
    {
      desc: "more reachable chains than the bound: the rest is unread, the agent keeps its place",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j A", "-j B", "-j C", `-j ${AGENT}`),
          A: chain("A"),
          B: chain("B"),
          C: chain("C"),
          [AGENT]: chain(AGENT),
        },
        bounds: { maxChains: 3 },
      },
      want: {
        chains: ["POSTROUTING", "A", AGENT],
        unread: ["B", "C"],
        notes: [/more than 3 chains are reachable from POSTROUTING/],
      },
    },
    {
      desc: "chains deeper than the bound are unread",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j D1"),
          D1: chain("D1", "-j D2"),
          D2: chain("D2", "-j D3"),
          D3: chain("D3"),
          [AGENT]: chain(AGENT),
        },
        bounds: { maxDepth: 2 },
      },
      want: {
        chains: ["POSTROUTING", "D1", "D2", AGENT],
        unread: ["D3"],
        notes: [/more than 2 jumps from POSTROUTING/],
      },
    },
    {
      desc: "a chain that is jumped to but cannot be listed is unread, with iptables' reason",
      input: { nat: { POSTROUTING: chain("POSTROUTING", "-j NFT-ONLY"), [AGENT]: chain(AGENT) } },
      want: {
        chains: ["POSTROUTING", AGENT],
        unread: ["NFT-ONLY"],
        notes: [/NFT-ONLY: iptables cannot list it: .*incompatible/],
      },
    },
    {
      desc: "a chain longer than the bound is unread; the agent chain too long is a problem",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j BIG"),
          BIG: chain("BIG", "-j RETURN", "-j RETURN", "-j RETURN"),
          [AGENT]: chain(AGENT, "-j RETURN", "-j RETURN", "-j RETURN"),
        },
        bounds: { maxChainLines: 3 },
      },
      want: {
        chains: ["POSTROUTING"],
        unread: ["BIG"],
        notes: [/BIG: more than 3 lines/],
        problem: /IP-MASQ-AGENT: more than 3 lines/,
      },
    },
    {
      desc: "chains that would not fit in one frame are unread; the agent chain keeps its room",
      input: {
        nat: {
          POSTROUTING: chain("POSTROUTING", "-j A", "-j B", `-j ${AGENT}`),
          A: chain("A", "-d 192.0.2.0/24 -j ACCEPT"),
          B: chain("B", "-d 198.51.100.0/24 -j ACCEPT"),
          [AGENT]: chain(AGENT, "-d 10.0.0.0/8 -j RETURN", "-j MASQUERADE"),
        },
        // POSTROUTING (106 bytes), A (42) and the agent (97) fit; B (45) does not.
        bounds: { maxTotalBytes: 250 },
      },
      want: {
        chains: ["POSTROUTING", "A", AGENT],
        unread: ["B"],
        notes: [/B: its rules do not fit in the snapshot \(250 bytes\)/],
      },
    },
  ];
  for (const c of cases) {
    it(c.desc, async () => {
      const { w } = await walk(c.input.nat, { bounds: c.input.bounds });
      expect(names(w)).toEqual(c.want.chains);
      expect(w.unread).toEqual(c.want.unread ?? []);
      expect(w.notes).toEqual((c.want.notes ?? []).map((n) => expect.stringMatching(n)));
      if (c.want.problem) expect(w.problem).toMatch(c.want.problem);
      else expect(w.problem).toBeUndefined();
    });
  }

  it("keeps the lines exactly as iptables printed them", async () => {
    const { w } = await walk(ITEM1);
    expect(w.chains.find((c) => c.name === CNI)?.lines).toEqual(ITEM1[CNI]);
  });

  it("never lists target extensions or chains off the path", async () => {
    const { calls } = await walk(ITEM1);
    const listed = calls.flat();
    expect(listed.join(" ")).not.toMatch(/MASQUERADE|KUBE-SERVICES|ACCEPT/);
  });

  it("reads level by level in one process each, and a steady node in one process", async () => {
    const first = await walk(ITEM1);
    expect(first.calls.map((c) => c[0])).toEqual(["iptables-nft-restore", "iptables-nft-restore"]);
    const again = await walk(ITEM1, { prefetch: first.w.chains.map((c) => c.name) });
    expect(again.calls.map((c) => c[0])).toEqual(["iptables-nft-restore"]);
    expect(again.w.chains).toEqual(first.w.chains);
  });

  it("drops prefetched chains the path no longer reaches", async () => {
    const { w } = await walk(ITEM1, { prefetch: ["KUBE-SERVICES", "GONE"] });
    expect(names(w)).toEqual(["POSTROUTING", "KUBE-POSTROUTING", CNI, AGENT]);
    expect(w.unread).toEqual([]);
  });

  it("a POSTROUTING that cannot be read is a problem, not an empty chain", async () => {
    const fake = fakeIptables({ version: "x", tables: { nat: {} } });
    const list = async (n: readonly string[]) =>
      new Map(
        n.map((x) => [
          x,
          { kind: "error" as const, message: "Permission denied (you must be root)" },
        ]),
      );
    const w = await walkChains({ list, agentChain: AGENT });
    expect(w.problem).toMatch(/^POSTROUTING: Permission denied/);
    expect(w.chains).toEqual([]);
    expect(fake.calls).toEqual([]);
  });
});
