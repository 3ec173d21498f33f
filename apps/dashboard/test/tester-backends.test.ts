// The tester (POST /api/nodes/:name/evaluate) on real nodes: a native nftables node (kube-proxy
// in nftables mode, the reporter managing the agent's table) and an iptables-nft node, each with
// a rule added in iptables-legacy. The node's answer reads every backend holding rules and names
// them; the desired answer is the agent's rules in the node's own backend; the unmarked group is
// the branches mark 0 takes; the node view's set row counts the node's own set.
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { inNetns } from "@masq/testkit/netns";
import { until } from "@masq/testkit/wait";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NetnsFleet, startNetnsFleet } from "./helpers/netns-fleet.js";

let fleet: NetnsFleet;
const NFT = "node-nft";
const IPT = "node-ipt";

beforeAll(async () => {
  fleet = await startNetnsFleet([
    { tag: "nft", before: (ns) => void inNetns(ns, ["nft", "-f", "-"], kubeProxyNftScript(2)) },
    { tag: "ipt" },
  ]);
  for (const n of [NFT, IPT])
    await until(async () => (await fleet.status(n)) === "in-sync", 20_000, 50, `${n} in sync`);
}, 40_000);
afterAll(() => fleet?.close());

const netns = (name: string) => fleet.nodes.find((n) => n.name === name)!.netns;

async function ask(node: string, body: Record<string, unknown>) {
  const r = await fleet.server.api(`/api/nodes/${node}/evaluate`, { method: "POST", body });
  expect(r.status).toBe(200);
  const { desired, actual, view, backends } = r.body;
  const ref = (v: { decidedBy?: { chain: string; index: number } }) =>
    v.decidedBy ? `${v.decidedBy.chain} rule ${v.decidedBy.index + 1}` : undefined;
  return {
    desired: [view.desired.answer, ref(desired)],
    actual: [view.actual.answer, ref(actual)],
    compared: view.actual.compared,
    groups: view.actual.groups.map(
      (g: { title: string; answer: string }) => `${g.title}: ${g.answer}`,
    ),
    backends,
  };
}

const UNMARKED = "Unmarked packets (pod traffic as it usually is)";
const KUBE_MARKED = "Packets with mark bit 0x4000 set (kube-proxy marks service traffic it SNATs)";
const AGENT_SET = "inet ip_masq_agent postrouting rule 3";

describe("the tester on real nodes", () => {
  it("nftables node in sync: desired in nft, the unmarked group keeps the pod IP, no difference", async () => {
    const cases = [
      {
        desc: "10.1.2.3 alone",
        input: { ip: "10.1.2.3" },
        want: {
          desired: ["not-masqueraded", AGENT_SET],
          actual: ["depends", undefined],
          compared: "not-masqueraded",
          groups: [`${UNMARKED}: not-masqueraded`, `${KUBE_MARKED}: masqueraded`],
          backends: ["nftables"],
        },
      },
      {
        desc: "10.1.2.3, mark 0",
        input: { ip: "10.1.2.3", mark: 0 },
        want: {
          desired: ["not-masqueraded", AGENT_SET],
          // No chain NATs it. kube-proxy's chain and the agent's are both priority 100 (srcnat):
          // which runs last is not in the rules, and each return is needed, so no one rule is
          // named as deciding (both are, as passedBy).
          actual: ["not-masqueraded", undefined],
          compared: "not-masqueraded",
          groups: [],
          backends: ["nftables"],
        },
      },
    ];
    for (const c of cases) expect([c.desc, await ask(NFT, c.input)]).toEqual([c.desc, c.want]);
  }, 20_000);

  it("nftables node: the set row's node side counts the node's set after an element is deleted", async () => {
    inNetns(netns(NFT), [
      "nft",
      "delete",
      "element",
      "inet",
      "ip_masq_agent",
      "nonmasq_v4",
      "{ 192.168.0.0/16 }",
    ]);
    const titles = await until(
      async () => {
        const view = (await fleet.server.api(`/api/nodes/${NFT}`)).body.view;
        const row = view?.families[0].rows.find((r: { desired?: { text: string } }) =>
          r.desired?.text.startsWith("ip daddr @nonmasq_v4"),
        );
        const t = [row?.desired?.title, row?.actual?.title];
        return t[1]?.includes("(3 ranges)") ? t : undefined;
      },
      20_000,
      100,
      "the node's set read",
    );
    expect(titles).toEqual([
      "@nonmasq_v4 (4 ranges) keeps pod IP",
      "@nonmasq_v4 (3 ranges) keeps pod IP",
    ]);
  }, 25_000);

  it("a legacy rule masquerading 10.0.0.0/8: both nodes' answers read it and name the backends", async () => {
    const legacy = "iptables-legacy -w -t nat -A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE".split(
      " ",
    );
    for (const n of [NFT, IPT]) inNetns(netns(n), legacy);
    const cases = [
      { desc: "nftables node", input: NFT, want: ["nftables", "legacy"] },
      { desc: "iptables-nft node", input: IPT, want: ["nf_tables", "legacy"] },
    ];
    for (const c of cases) {
      const got = await until(
        async () => {
          const r = await ask(c.input, { ip: "10.1.2.3", mark: 0 });
          return r.backends.includes("legacy") ? r : undefined;
        },
        // A reporter looks for legacy tables again at most once per detection interval.
        45_000,
        200,
        `${c.desc}: legacy read`,
      );
      expect([c.desc, got?.actual, got?.backends]).toEqual([
        c.desc,
        ["masqueraded", "POSTROUTING rule 1"],
        c.want,
      ]);
    }
  }, 100_000);
});
