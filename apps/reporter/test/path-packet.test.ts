// Packet-level proof of the path evaluator on real kernels: `ipmasq why` reads a node's real
// `iptables-save -t nat`, and a peer sees exactly the source address it predicts.
// (a) issue 11 item 1: a CNI bridge chain masquerades pods in its range before IP-MASQ-AGENT
//     is reached; pods elsewhere keep their address to destinations the agent returns.
// (b) issue 11 item 3: nonMasqueradeCIDRs [0.0.0.0/0] applies, verifies, is in sync, and no
//     peer sees anything but the pod address.
// (c) the tester's item 1: a comment iptables prints without quotes (`--comment -j`) is read;
//     a line why cannot read makes the answer unknown, while the kernel's rule still acts.
// (d) the tester's item 3: a MARK target that changes bits a failed mark test read: the later
//     test is decided anew.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Verdict } from "@masq/shared";
import { inNetns, netnsPool, sh } from "@masq/testkit/netns";
import { afterEach, describe, expect, it } from "vitest";
import { cli } from "./helpers/run-cli.js";
import { link, seenSource, startServer, wire } from "./helpers/topology.js";

const pool = netnsPool();
const servers: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  pool.cleanup();
});

function tempFile(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "imr-path-"));
  dirs.push(dir);
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

const CNI_CHAIN = "CNI-0a1b2c3d4e5f60718293a4b5";
/** The item-1 node with its pod range moved to this test's first pod subnet. */
const ITEM1_NODE = `*nat
:POSTROUTING ACCEPT [0:0]
:${CNI_CHAIN} - [0:0]
:IP-MASQ-AGENT - [0:0]
:KUBE-POSTROUTING - [0:0]
-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A POSTROUTING -s 10.244.0.0/26 -m comment --comment "name: \\"cbr0\\" id: \\"1111\\"" -j ${CNI_CHAIN}
-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT
-A ${CNI_CHAIN} -d 10.244.0.0/26 -j ACCEPT
-A ${CNI_CHAIN} ! -d 224.0.0.0/4 -j MASQUERADE
-A IP-MASQ-AGENT -d 169.254.0.0/16 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN
-A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE" -j RETURN
-A IP-MASQ-AGENT -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE
-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE
COMMIT
`;

/** Two pods on the node (one in the CNI chain's /26, one in the next /26) and two peers. */
function twoPods() {
  const node = pool.add("node");
  const pods = [
    { ns: pool.add("pin"), address: "10.244.0.2", gw: "10.244.0.1" },
    { ns: pool.add("pout"), address: "10.244.0.66", gw: "10.244.0.65" },
  ];
  const peers = [
    { ns: pool.add("pa"), address: "10.10.0.2", nodeAddress: "10.10.0.1" },
    { ns: pool.add("pb"), address: "198.51.100.2", nodeAddress: "198.51.100.1" },
  ];
  pods.forEach((p, i) => {
    link(node, `to-pod${i}`, `${p.gw}/26`, p.ns, "eth0", `${p.address}/26`);
    sh(["ip", "-n", p.ns, "route", "add", "default", "via", p.gw]);
  });
  peers.forEach((p, i) => {
    link(node, `to-peer${i}`, `${p.nodeAddress}/24`, p.ns, "eth0", `${p.address}/24`);
    sh(["ip", "-n", p.ns, "route", "add", "10.244.0.0/24", "via", p.nodeAddress]);
  });
  inNetns(node, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
  return { node, pods, peers };
}

async function why(args: string[], warns = false): Promise<{ code: number; verdict: Verdict }> {
  const r = await cli(["why", ...args, "--json"]);
  if (!warns) expect(r.stderr).toBe("");
  return { code: r.code, verdict: JSON.parse(r.stdout) as Verdict };
}

describe("issue 11 item 1 on a real node", () => {
  it("the peer sees the source address why predicts, for pods in and outside the CNI range", async () => {
    const t = twoPods();
    inNetns(t.node, ["iptables-restore", "-w"], ITEM1_NODE);
    for (const p of t.peers) servers.push(await startServer(p.ns));
    const save = tempFile("node.save", inNetns(t.node, ["iptables-save", "-t", "nat"]));

    const seen: string[] = [];
    const predicted: string[] = [];
    for (const pod of t.pods)
      for (const peer of t.peers) {
        // Nothing in this node marks packets: the answer for mark 0 is certain.
        const { code, verdict } = await why([
          peer.address,
          "--source",
          pod.address,
          "--mark",
          "0",
          "--from",
          save,
        ]);
        expect(verdict.certain).toBe(true);
        expect(code).toBe(verdict.masqueraded ? 0 : 10);
        predicted.push(verdict.masqueraded ? peer.nodeAddress : pod.address);
        seen.push(seenSource(pod.ns, peer.address));
      }
    expect(seen).toEqual(predicted);
    // In the CNI range, both peers see the node; outside it, 10.10.0.2 (in 10.0.0.0/8) sees the pod.
    expect(seen).toEqual(["10.10.0.1", "198.51.100.1", "10.244.0.66", "198.51.100.1"]);
  });

  it("without the source and mark, why names the branches, and the one that holds predicts", async () => {
    const t = twoPods();
    inNetns(t.node, ["iptables-restore", "-w"], ITEM1_NODE);
    servers.push(await startServer(t.peers[0]!.ns));
    const save = tempFile("node.save", inNetns(t.node, ["iptables-save", "-t", "nat"]));
    const { code, verdict } = await why(["10.10.0.2", "--from", save]);
    expect(code).toBe(11);
    expect(verdict.masqueraded).toBeNull();
    const decided = verdict.outcomes.map((o) => [
      o.when.join(" and "),
      o.masqueraded,
      o.decidedBy?.chain,
    ]);
    expect(decided).toEqual([
      ["mark bit 0x4000 set", true, "KUBE-POSTROUTING"],
      ["source in 10.244.0.0/26 and mark bit 0x4000 clear", true, CNI_CHAIN],
      ["source not in 10.244.0.0/26 and mark bit 0x4000 clear", false, "IP-MASQ-AGENT"],
    ]);
    expect(seenSource(t.pods[0]!.ns, "10.10.0.2")).toBe("10.10.0.1");
    expect(seenSource(t.pods[1]!.ns, "10.10.0.2")).toBe("10.244.0.66");
  });
});

describe("issue 11 item 3 on a real node", () => {
  it("nonMasqueradeCIDRs [0.0.0.0/0] applies, verifies, is in sync, and no peer sees the node", async () => {
    const t = wire({
      pod: pool.add("pod"),
      node: pool.add("node"),
      peerA: pool.add("pa"),
      peerB: pool.add("pb"),
    });
    for (const p of t.peers) servers.push(await startServer(p.ns));
    const config = tempFile("all.yaml", "nonMasqueradeCIDRs:\n  - 0.0.0.0/0\n");

    const applied = await cli(["apply", "--config", config, "--netns", t.node]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/verified/);
    const drift = await cli(["drift", "--config", config, "--netns", t.node]);
    expect({ code: drift.code, stdout: drift.stdout }).toEqual({ code: 0, stdout: "in sync\n" });

    for (const peer of t.peers) {
      const { code, verdict } = await why([peer.address, "--netns", t.node]);
      expect({ code, masqueraded: verdict.masqueraded }).toEqual({ code: 10, masqueraded: false });
      expect(seenSource(t.pod, peer.address)).toBe(t.podAddress);
    }
  });
});

function node() {
  const t = wire({
    pod: pool.add("pod"),
    node: pool.add("node"),
    peerA: pool.add("pa"),
    peerB: pool.add("pb"),
  });
  return { ...t, peer: t.peers.find((p) => p.address === "198.51.100.2")! };
}

const JUMP =
  '-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom IP-MASQ-AGENT chain" -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT';
const nat = (rules: string[]) =>
  ["*nat", ":POSTROUTING ACCEPT [0:0]", ":IP-MASQ-AGENT - [0:0]", ...rules, "COMMIT", ""].join(
    "\n",
  );
const AGENT_RETURN_PEER = nat([
  JUMP,
  "-A IP-MASQ-AGENT -d 10.0.0.0/8 -j RETURN",
  '-A IP-MASQ-AGENT -d 198.51.100.2/32 -m comment --comment "-j" -j RETURN',
  "-A IP-MASQ-AGENT -j MASQUERADE",
]);

describe("issue 11 tester item 1 on a real node", () => {
  it("a RETURN with an unquoted comment (-j) is read: the peer sees the pod, as why says", async () => {
    const t = node();
    inNetns(t.node, ["iptables-restore", "-w"], AGENT_RETURN_PEER);
    servers.push(await startServer(t.peer.ns));
    const save = tempFile("node.save", inNetns(t.node, ["iptables-save", "-t", "nat"]));
    const { code, verdict } = await why([t.peer.address, "--from", save]);
    expect({ code, masqueraded: verdict.masqueraded, certain: verdict.certain }).toEqual({
      code: 10,
      masqueraded: false,
      certain: true,
    });
    expect(seenSource(t.pod, t.peer.address)).toBe(t.podAddress);
  });

  it("a line why cannot read makes the answer unknown; the kernel's rule still acts", async () => {
    const t = node();
    inNetns(t.node, ["iptables-restore", "-w"], AGENT_RETURN_PEER);
    servers.push(await startServer(t.peer.ns));
    const real = inNetns(t.node, ["iptables-save", "-t", "nat"]);
    // The same dump with that rule's line damaged (an unterminated quote).
    const damaged = real.replace(/^(-A IP-MASQ-AGENT -d 198\.51\.100\.2\/32.*)$/m, '$1 "');
    expect(damaged).not.toBe(real);
    const { code, verdict } = await why(
      [t.peer.address, "--from", tempFile("d.save", damaged)],
      true,
    );
    expect(code).toBe(11);
    expect(verdict.masqueraded).toBeNull();
    expect(verdict.unknowns.map((u) => u.message).join("\n")).toMatch(
      /IP-MASQ-AGENT rule 2 \(input line \d+\) could not be read/,
    );
    expect(seenSource(t.pod, t.peer.address)).toBe(t.podAddress);
  });
});

describe("issue 11 tester item 3 on a real node", () => {
  it("after a MARK clears bit 1, the mark test fails before and matches after: masqueraded", async () => {
    const t = node();
    // mangle POSTROUTING runs before nat POSTROUTING: the pod's packets carry mark 0x3.
    inNetns(
      t.node,
      ["iptables-restore", "-w"],
      [
        "*mangle",
        ":POSTROUTING ACCEPT [0:0]",
        `-A POSTROUTING -s ${t.podAddress}/32 -j MARK --set-xmark 0x3/0xffffffff`,
        "COMMIT",
        "*nat",
        ":POSTROUTING ACCEPT [0:0]",
        "-A POSTROUTING -s 10.244.0.0/24 -m mark --mark 0x1/0x3 -j RETURN",
        "-A POSTROUTING -j MARK --set-xmark 0x0/0x2",
        "-A POSTROUTING -s 10.244.0.0/24 -m mark --mark 0x1/0x3 -j MASQUERADE",
        "COMMIT",
        "",
      ].join("\n"),
    );
    servers.push(await startServer(t.peer.ns));
    const save = tempFile("node.save", inNetns(t.node, ["iptables-save", "-t", "nat"]));

    // Knowing nothing of the packet, the answer depends (it used to be "not masqueraded").
    const open = await why([t.peer.address, "--from", save]);
    expect({ code: open.code, masqueraded: open.verdict.masqueraded }).toEqual({
      code: 11,
      masqueraded: null,
    });
    expect(open.verdict.outcomes.some((o) => o.result === "masquerade")).toBe(true);
    // With the pod's source and its mark, certain: masqueraded, and the peer sees the node.
    const known = await why([
      t.peer.address,
      "--source",
      t.podAddress,
      "--mark",
      "3",
      "--from",
      save,
    ]);
    expect({ code: known.code, masqueraded: known.verdict.masqueraded }).toEqual({
      code: 0,
      masqueraded: true,
    });
    expect(seenSource(t.pod, t.peer.address)).toBe(t.peer.nodeAddress);
  });
});
