// Packet-level proof on a native nftables node: kube-proxy in nftables mode (its masquerading
// chain on the same hook) and the agent's table applied by `ipmasq apply --backend nftables`;
// a peer sees exactly the source address `ipmasq why --netns … --backend nftables` predicts,
// before and after a config change, and during a migration from the iptables chain.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Verdict } from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { inNetns, netnsPool } from "@masq/testkit/netns";
import { afterEach, expect, it } from "vitest";
import { cli } from "./helpers/run-cli.js";
import { seenSource, startServer, wire } from "./helpers/topology.js";

const pool = netnsPool();
const servers: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  pool.cleanup();
});

function configFile(cidrs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "imr-nftpkt-"));
  dirs.push(dir);
  const path = join(dir, "config.yaml");
  writeFileSync(path, `nonMasqueradeCIDRs:\n${cidrs.map((c) => `  - ${c}\n`).join("")}`);
  return path;
}

/** pod → node → peers A (10.10.0.2) and B (198.51.100.2), with the servers started. */
async function topology() {
  const t = wire({
    pod: pool.add("pod"),
    node: pool.add("node"),
    peerA: pool.add("pa"),
    peerB: pool.add("pb"),
  });
  for (const p of t.peers) servers.push(await startServer(p.ns));
  return t;
}

/** `ipmasq apply` of these CIDRs with `--backend`; the exit code. */
async function apply(node: string, cidrs: string[], backend: string): Promise<number> {
  return (
    await cli(["apply", "--config", configFile(cidrs), "--netns", node, "--backend", backend])
  ).code;
}

async function predicted(
  node: string,
  peer: { address: string; nodeAddress: string },
  pod: string,
) {
  const r = await cli([
    "why",
    peer.address,
    "--source",
    pod,
    "--mark",
    "0",
    "--netns",
    node,
    "--backend",
    "nftables",
    "--json",
  ]);
  expect(r.stderr).toBe("");
  const v = JSON.parse(r.stdout) as Verdict;
  expect(v.certain).toBe(true);
  expect(r.code).toBe(v.masqueraded ? 0 : 10);
  return v.masqueraded ? peer.nodeAddress : pod;
}

it("peers see the addresses why predicts on an nftables node, before and after a change", async () => {
  const t = await topology();
  inNetns(t.node, ["nft", "-f", "-"], kubeProxyNftScript(5));
  const check = async () => {
    const want = await Promise.all(t.peers.map((p) => predicted(t.node, p, t.podAddress)));
    expect(t.peers.map((p) => seenSource(t.pod, p.address))).toEqual(want);
    return want;
  };
  const first = await cli([
    "apply",
    "--config",
    configFile(["10.0.0.0/8"]),
    "--netns",
    t.node,
    "--backend",
    "nftables",
  ]);
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/applied and verified \(nftables table written\)/);
  expect(await check()).toEqual([t.podAddress, "198.51.100.1"]);
  expect(await apply(t.node, ["198.51.100.0/24"], "nftables")).toBe(0);
  expect(await check()).toEqual(["10.10.0.1", t.podAddress]);
});

it("a migration from the iptables chain keeps every peer's view right", async () => {
  const t = await topology();
  const seen = () => t.peers.map((p) => seenSource(t.pod, p.address));
  expect(await apply(t.node, ["10.0.0.0/8"], "iptables")).toBe(0);
  expect(seen()).toEqual([t.podAddress, "198.51.100.1"]);
  expect(await apply(t.node, ["10.0.0.0/8"], "nftables")).toBe(0);
  expect(seen()).toEqual([t.podAddress, "198.51.100.1"]);
  const postrouting = inNetns(t.node, ["iptables", "-w", "-t", "nat", "-S", "POSTROUTING"]);
  expect(postrouting).not.toMatch(/IP-MASQ-AGENT/);
  expect(await apply(t.node, ["10.0.0.0/8"], "iptables")).toBe(0);
  expect(seen()).toEqual([t.podAddress, "198.51.100.1"]);
  expect(inNetns(t.node, ["nft", "list", "tables"])).not.toMatch(/ip_masq_agent/);
});

it("an iptables rule beside the agent's table is on the path too, and why says so", async () => {
  const t = await topology();
  expect(await apply(t.node, ["10.0.0.0/8"], "nftables")).toBe(0);
  // Another component (iptables-nft) masquerades the pod to peer A, which the agent returns.
  const rule = ["-s", `${t.podAddress}/32`, "-d", "10.10.0.2/32", "-j", "MASQUERADE"];
  inNetns(t.node, ["iptables", "-w", "-t", "nat", "-A", "POSTROUTING", ...rule]);
  const [a, b] = t.peers as [(typeof t.peers)[0], (typeof t.peers)[0]];
  expect(await predicted(t.node, a, t.podAddress)).toBe(a.nodeAddress);
  expect(seenSource(t.pod, a.address)).toBe(a.nodeAddress);
  expect(await predicted(t.node, b, t.podAddress)).toBe(b.nodeAddress);
});
