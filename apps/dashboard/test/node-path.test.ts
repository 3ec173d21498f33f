// Issue 11 items 1 and 8 through the HTTP API, with a real reporter on real iptables: a node
// whose nat table has the issue's item-1 shape (kube-proxy's KUBE-POSTROUTING, a CNI bridge
// chain masquerading its pod range before IP-MASQ-AGENT). The node view serves the path with
// components; POST /api/nodes/:name/evaluate takes the packet fields `ipmasq why` takes.
import { inNetns } from "@masq/testkit/netns";
import { ISSUE_ITEM1_NODE } from "@masq/testkit/node-dumps";
import { until } from "@masq/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";

const CNI = "CNI-0a1b2c3d4e5f60718293a4b5";
let fleet: NetnsFleet;
let node: string;

beforeAll(async () => {
  fleet = await startNetnsFleet([
    { tag: "path", before: (ns) => void inNetns(ns, ["iptables-restore"], ISSUE_ITEM1_NODE) },
  ]);
  node = fleet.nodes[0]!.name;
  // The reporter rewrites its own chain to the config; the CNI chain stays and shadows it.
  await until(async () => (await fleet.status(node)) === "drifted", 20_000, 50, "first report");
}, 30_000);
afterAll(() => fleet?.close());

const evaluate = (body: unknown) =>
  fleet.server.api(`/api/nodes/${node}/evaluate`, { method: "POST", body });

describe("node path and evaluate on a real node", () => {
  it("the node view names the chains on the path, their components and the CNI chain's NAT", async () => {
    const view = (await fleet.server.api(`/api/nodes/${node}`)).body.view;
    const path = view.families[0].path;
    expect(
      path.chains.map((c: { name: string; component: { id: string } }) => [c.name, c.component.id]),
    ).toEqual([
      ["POSTROUTING", "unknown"],
      ["KUBE-POSTROUTING", "kube-proxy"],
      [CNI, "cni-bridge"],
      ["IP-MASQ-AGENT", "ip-masq-agent"],
    ]);
    expect(path.effects).toEqual([
      expect.objectContaining({ kind: "jump-shadowed", severity: "warning" }),
    ]);
    expect(path.backends).toHaveLength(1);
  });

  const cases: {
    desc: string;
    input: Record<string, unknown>;
    want: { masqueraded: boolean | null; certain: boolean; answer: string; rule?: string };
  }[] = [
    {
      desc: "the destination alone depends on kube-proxy's mark and the CNI chain",
      input: { ip: "10.20.30.40" },
      want: { masqueraded: null, certain: false, answer: "depends" },
    },
    {
      desc: "a source outside the CNI range and mark 0: not masqueraded by IP-MASQ-AGENT rule 2",
      input: { ip: "10.20.30.40", source: "10.100.65.70", mark: 0 },
      want: {
        masqueraded: false,
        certain: true,
        answer: "not-masqueraded",
        rule: "IP-MASQ-AGENT#1",
      },
    },
    {
      desc: "a pod in the CNI range, unmarked: masqueraded by the CNI chain",
      input: { ip: "10.20.30.40", source: "10.100.64.70", mark: "0x0" },
      want: { masqueraded: true, certain: true, answer: "masqueraded", rule: `${CNI}#1` },
    },
    {
      desc: "kube-proxy's mark as text: masqueraded by KUBE-POSTROUTING",
      input: { ip: "10.20.30.40", mark: "0x4000", protocol: "tcp", dport: 443 },
      want: { masqueraded: true, certain: true, answer: "masqueraded", rule: "KUBE-POSTROUTING#0" },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const r = await evaluate(input);
    expect(r.status).toBe(200);
    const a = r.body.actual;
    expect({
      masqueraded: a.masqueraded,
      certain: a.certain,
      answer: r.body.view.actual.answer,
      ...(a.decidedBy ? { rule: `${a.decidedBy.chain}#${a.decidedBy.index}` } : {}),
    }).toEqual(want);
    expect(r.body.backends).toHaveLength(1);
  });

  it("the unmarked answer comes first, the CNI condition in it, kube-proxy's mark after", async () => {
    const v = (await evaluate({ ip: "10.20.30.40" })).body.view.actual;
    expect(v.groups.map((g: { title: string; answer: string }) => [g.title, g.answer])).toEqual([
      ["Unmarked packets (pod traffic as it usually is)", "depends"],
      [
        "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs)",
        "masqueraded",
      ],
    ]);
    expect(v.groups[0].branches[0].when).toEqual(["source in 10.100.64.64/26"]);
  });

  const bad: { desc: string; input: unknown; want: RegExp }[] = [
    { desc: "not an IP", input: { ip: "10.20.30" }, want: /"10\.20\.30" is not an IP address/ },
    { desc: "a port out of range", input: { ip: "1.1.1.1", dport: 70000 }, want: /^dport: / },
    {
      desc: "a mark that is not a number",
      input: { ip: "1.1.1.1", mark: "zz" },
      want: /mark: a mark is a number from 0 to 0xffffffff/,
    },
    {
      desc: "an unknown protocol",
      input: { ip: "1.1.1.1", protocol: "bogus" },
      want: /protocol "bogus" is not known/,
    },
    {
      desc: "a source of the other family",
      input: { ip: "1.1.1.1", source: "fd00::1" },
      want: /source fd00::1 is ipv6/,
    },
    {
      desc: "a port with a protocol without ports",
      input: { ip: "1.1.1.1", protocol: "icmp", dport: 53 },
      want: /icmp has no ports/,
    },
    {
      desc: "an IPv6 address on a node without --enable-ipv6: not known, and why",
      input: { ip: "fe80::1" },
      want: /^fe80::1 is ipv6, which node .* does not manage \(agent flag --enable-ipv6 is off\): its reporter reads no ipv6 rules, so what the node does with this address is not known here$/,
    },
    {
      desc: "an unknown field",
      input: { ip: "1.1.1.1", iface: "eth0" },
      want: /unknown field "iface"/,
    },
  ];
  it.each(bad)("400 for $desc", async ({ input, want }) => {
    const r = await evaluate(input);
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(want);
  });
});

describe("resync of a node drifted only by other components' rules", () => {
  it("is left out of 'Resync all drifted', counted apart with why, and its row says so", async () => {
    const list = (await fleet.server.api("/api/nodes")).body;
    // Its only difference is the CNI chain masquerading before the agent's: a resync rewrites
    // the agent's chain and jump only, so it would stay drifted.
    expect(list.summary.driftedResync).toEqual({
      resyncable: 0,
      skipped: [],
      cannotHeal: [
        {
          reason: expect.stringMatching(/^what differs is only other components' rules/),
          count: 1,
        },
      ],
    });
    const row = list.nodes.find((n: { name: string }) => n.name === node);
    expect(row.resyncCannotHeal).toBe(list.summary.driftedResync.cannotHeal[0].reason);
    expect((await fleet.server.api(`/api/nodes/${node}`)).body.node.resyncCannotHeal).toBe(
      row.resyncCannotHeal,
    );
    const bulk = await fleet.server.api("/api/resync", { body: { status: "drifted" } });
    expect(bulk.status).toBe(202);
    expect(bulk.body).toEqual({ nodes: [], skipped: [] });
  });
});
