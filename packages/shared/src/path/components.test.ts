import { describe, expect, it } from "vitest";
import { getChain, parseIptables } from "../parser.js";
import { chainComponent, ruleComponent } from "./components.js";

const AGENT = "IP-MASQ-AGENT";

describe("chainComponent", () => {
  const cases: { desc: string; input: string; want: string }[] = [
    { desc: "the configured agent chain", input: AGENT, want: "ip-masq-agent" },
    { desc: "GKE's stale chain", input: "IP-MASQ", want: "ip-masq-agent-old" },
    { desc: "kube-proxy", input: "KUBE-POSTROUTING", want: "kube-proxy" },
    { desc: "kube-proxy's mark chain", input: "KUBE-MARK-MASQ", want: "kube-proxy" },
    {
      desc: "CNI bridge per-container chain",
      input: "CNI-0a1b2c3d4e5f60718293a4b5",
      want: "cni-bridge",
    },
    { desc: "CNI portmap", input: "CNI-HOSTPORT-MASQ", want: "cni-portmap" },
    {
      desc: "CNI portmap per-container DNAT",
      input: "CNI-DN-0a1b2c3d4e5f60718293a",
      want: "cni-portmap",
    },
    { desc: "another CNI chain", input: "CNI-FORWARD", want: "cni" },
    { desc: "Calico", input: "cali-nat-outgoing", want: "calico" },
    { desc: "AWS VPC CNI", input: "AWS-SNAT-CHAIN-0", want: "aws-vpc-cni" },
    { desc: "AWS VPC CNI second chain", input: "AWS-SNAT-CHAIN-1", want: "aws-vpc-cni" },
    { desc: "flannel", input: "FLANNEL-POSTRTG", want: "flannel" },
    { desc: "Cilium", input: "CILIUM_POST_nat", want: "cilium" },
    { desc: "Docker", input: "DOCKER", want: "docker" },
    { desc: "OVN-Kubernetes", input: "OVN-KUBE-SNAT-MGMTPORT", want: "ovn-kubernetes" },
    { desc: "Antrea", input: "ANTREA-POSTROUTING", want: "antrea" },
    { desc: "Weave", input: "WEAVE", want: "weave" },
    { desc: "unknown", input: "MY-CHAIN", want: "unknown" },
  ];
  for (const c of cases) it(c.desc, () => expect(chainComponent(c.input, AGENT).id).toBe(c.want));

  it("another configured chain name is still the agent's", () => {
    expect(chainComponent("MASQ-TEST", "MASQ-TEST")).toMatchObject({
      id: "ip-masq-agent",
      by: "chain",
    });
  });
});

describe("ruleComponent", () => {
  const rule = (line: string) => {
    const chain = line.split(" ")[1]!;
    return getChain(parseIptables(line).ruleset, "nat", chain)!.rules[0]!;
  };
  const cases: { desc: string; input: string; want: string; by?: string }[] = [
    {
      desc: "kube-proxy's hook by comment",
      input:
        '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
      want: "kube-proxy",
      by: "comment",
    },
    {
      desc: "CNI bridge hook by comment",
      input:
        '-A POSTROUTING -s 10.100.64.64/26 -m comment --comment "name: \\"cbr0\\" id: \\"1111\\"" -j CNI-0a1b2c3d4e5f60718293a4b5',
      want: "cni-bridge",
      by: "comment",
    },
    {
      desc: "the agent's jump",
      input:
        '-A POSTROUTING -m comment --comment "\\"ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain\\"" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT',
      want: "ip-masq-agent",
    },
    {
      desc: "GKE's jump",
      input:
        '-A POSTROUTING -m comment --comment "ip-masq: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ',
      want: "ip-masq-agent-old",
    },
    {
      desc: "a hook without comment, by its target",
      input: "-A POSTROUTING -o ovn-k8s-mp0 -j OVN-KUBE-SNAT-MGMTPORT",
      want: "ovn-kubernetes",
      by: "target",
    },
    {
      desc: "Docker's bridge rule by shape",
      input: "-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
      want: "docker",
      by: "shape",
    },
    {
      desc: "a user-defined Docker network",
      input: "-A POSTROUTING -s 172.18.0.0/16 ! -o br-3cdb1cb92a36 -j MASQUERADE",
      want: "docker",
      by: "shape",
    },
    {
      desc: "old flannel by shape",
      input: "-A POSTROUTING -s 10.244.0.0/16 ! -d 224.0.0.0/4 -j MASQUERADE",
      want: "flannel",
      by: "shape",
    },
    {
      desc: "kubelet's old rule by comment",
      input:
        '-A POSTROUTING ! -d 0.0.0.0/0 -m comment --comment "kubenet: SNAT for outbound traffic from cluster" -m addrtype ! --dst-type LOCAL -j MASQUERADE',
      want: "kubelet",
      by: "comment",
    },
    {
      desc: "kubelet's old rule without comment",
      input: "-A POSTROUTING ! -d 10.0.0.0/8 -m addrtype ! --dst-type LOCAL -j MASQUERADE",
      want: "kubelet",
      by: "shape",
    },
    {
      desc: "an agent rule",
      input:
        '-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN',
      want: "ip-masq-agent",
    },
    {
      desc: "an older agent's rule",
      input:
        '-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE" -m addrtype ! --dst-type LOCAL -j RETURN',
      want: "ip-masq-agent-old",
    },
    {
      desc: "AWS by its comment outside its chain",
      input: '-A POSTROUTING -m comment --comment "AWS SNAT CHAIN" -j AWS-SNAT-CHAIN-0',
      want: "aws-vpc-cni",
      by: "comment",
    },
    {
      desc: "nothing to go by",
      input: "-A POSTROUTING -s 192.0.2.0/24 -j MASQUERADE",
      want: "unknown",
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const r = ruleComponent(rule(c.input), AGENT);
      expect(r.id).toBe(c.want);
      if (c.by) expect(r.by).toBe(c.by);
    });
});
