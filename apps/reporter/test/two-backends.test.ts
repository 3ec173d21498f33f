// Issue 11, item 5, at packet level: a node whose kube-proxy and agent rules live in
// iptables-legacy (the issue's dump, its 192.168.0.0/16 adapted to this topology's peer range
// 198.51.100.0/24; the shape kept). `--iptables auto` must follow legacy: `ipmasq apply` writes
// there (no nf_tables chain appears), the peer in the newly non-masqueraded range sees the pod
// address and `ipmasq why` agrees. With the agent's chain in both backends, drift reports a
// critical backend-conflict and `why` predicts what the peer sees: both chains act on packets.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "@masq/shared";
import { inNetns, jumpCount, natRules, netnsPool } from "@masq/testkit/netns";
import { afterEach, describe, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { cli } from "./helpers/run-cli.js";
import { seenSource, startServer, type Topology, wire } from "./helpers/topology.js";

const pool = netnsPool();
const servers: ChildProcess[] = [];
let dir: string | undefined;
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
  pool.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

const C = "IP-MASQ-AGENT";
const LOCAL = '-m comment --comment "ip-masq-agent: local traffic is not subject to MASQUERADE"';
/** The issue's legacy dump (kube-proxy + the upstream agent), in this test's ranges. */
const LEGACY_DUMP = [
  "*nat",
  ":POSTROUTING ACCEPT [0:0]",
  `:${C} - [0:0]`,
  ":KUBE-POSTROUTING - [0:0]",
  '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
  `-A POSTROUTING -m comment --comment "ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom ${C} chain" -m addrtype ! --dst-type LOCAL -j ${C}`,
  `-A ${C} -d 169.254.0.0/16 ${LOCAL} -j RETURN`,
  `-A ${C} -d 10.0.0.0/8 ${LOCAL} -j RETURN`,
  `-A ${C} -m comment --comment "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)" -j MASQUERADE --random-fully`,
  "-A KUBE-POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE --random-fully",
  "COMMIT",
  "",
].join("\n");
/** The issue's config: 10.0.0.0/8 and (here) the peer range, which the dump masquerades. */
const CONFIG = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";

async function legacyNode(): Promise<{ t: Topology; config: string }> {
  const t = wire({
    pod: pool.add("pod"),
    node: pool.add("node"),
    peerA: pool.add("pa"),
    peerB: pool.add("pb"),
  });
  for (const p of t.peers) servers.push(await startServer(p.ns));
  inNetns(t.node, ["iptables-legacy-restore", "-w"], LEGACY_DUMP);
  dir = mkdtempSync(join(tmpdir(), "imr-2b-"));
  const config = join(dir, "config.yaml");
  writeFileSync(config, CONFIG);
  return { t, config };
}

const peers = (t: Topology) => t.peers as [Topology["peers"][0], Topology["peers"][0]];
const nftChainExists = (ns: string) => natRules(ns, C, "iptables-nft").length > 0;

/**
 * `ipmasq why` for the test pod's packets: they carry no mark (kube-proxy's KUBE-POSTROUTING
 * masquerades only what it marked 0x4000), so `--mark 0` lets the answer be certain.
 */
async function why(ns: string, ip: string) {
  const r = await cli(["why", ip, "--netns", ns, "--mark", "0", "--json"]);
  const v = JSON.parse(r.stdout) as { masqueraded: boolean; certain: boolean; reason: string };
  expect(r.code).toBe(v.masqueraded ? 0 : 10);
  return v;
}

describe("a node whose rules are in iptables-legacy (issue 11, item 5)", () => {
  it("apply --iptables auto writes to legacy, never to nf_tables; the peer sees the pod; why agrees", async () => {
    const { t, config } = await legacyNode();
    const [a, b] = peers(t);
    // Before: the legacy chain acts on packets, and the reporter sees it.
    expect(
      await createIptablesBackend({ netns: t.node, flags: DEFAULT_FLAGS }).info(),
    ).toMatchObject({
      backend: "legacy",
      ruleBackends: ["legacy"],
      backendReason: "the agent's own chain is in iptables-legacy",
    });
    expect(seenSource(t.pod, b.address)).toBe(b.nodeAddress);
    expect(await why(t.node, b.address)).toMatchObject({ masqueraded: true, certain: true });
    const inspect = await cli(["inspect", "--netns", t.node]);
    expect(inspect.stdout).not.toMatch(/does not exist/);

    const applied = await cli(["apply", "--config", config, "--netns", t.node]);
    expect(applied).toMatchObject({ code: 0, stderr: "" });
    expect(nftChainExists(t.node)).toBe(false);
    expect(natRules(t.node, C, "iptables-legacy").filter((l) => l.endsWith("-j RETURN"))).toEqual([
      `-A ${C} -d 169.254.0.0/16 ${LOCAL} -j RETURN`,
      `-A ${C} -d 10.0.0.0/8 ${LOCAL} -j RETURN`,
      `-A ${C} -d 198.51.100.0/24 ${LOCAL} -j RETURN`,
    ]);
    expect(jumpCount(t.node, C, "iptables-legacy")).toBe(1);

    expect(seenSource(t.pod, b.address)).toBe(t.podAddress);
    expect(seenSource(t.pod, a.address)).toBe(t.podAddress);
    expect(await why(t.node, b.address)).toMatchObject({ masqueraded: false, certain: true });
    const drift = await cli(["drift", "--config", config, "--netns", t.node]);
    expect(drift.code).toBe(0);
  });

  it("with the agent's chain in both backends: a critical backend-conflict, and why predicts the peer", async () => {
    const { t, config } = await legacyNode();
    const [a, b] = peers(t);
    // Someone applied the new config through iptables-nft as well: nf_tables returns the
    // peer range, the legacy chain still masquerades it.
    const nft = await cli(["apply", "--config", config, "--netns", t.node, "--iptables", "nft"]);
    expect(nft.code).toBe(1);
    expect(nft.stderr).toMatch(
      /IP-MASQ-AGENT exists in iptables-legacy .* writing would create a second chain/,
    );
    expect(nftChainExists(t.node)).toBe(false);
    inNetns(t.node, ["iptables-nft-restore", "--noflush", "-w"], nftCopy());
    expect(nftChainExists(t.node)).toBe(true);
    const info = await createIptablesBackend({ netns: t.node, flags: DEFAULT_FLAGS }).info();
    expect(info).toMatchObject({ backend: "legacy", ruleBackends: ["nf_tables", "legacy"] });
    expect(info.warnings).toEqual([
      expect.stringMatching(/^nat rules in both .* both act on packets/),
    ]);

    const drift = await cli(["drift", "--config", config, "--netns", t.node, "--json"]);
    expect(drift.code).toBe(3);
    expect(JSON.parse(drift.stdout).differences).toContainEqual(
      expect.objectContaining({
        kind: "backend-conflict",
        severity: "critical",
        impact: expect.stringMatching(/^both chains act on packets/),
      }),
    );
    const predicted = await why(t.node, b.address);
    expect(predicted).toMatchObject({ masqueraded: true, certain: true });
    expect(predicted.reason).toMatch(/legacy: IP-MASQ-AGENT rule \d+ masquerades it/);
    expect(seenSource(t.pod, b.address)).toBe(b.nodeAddress);
    expect(await why(t.node, a.address)).toMatchObject({ masqueraded: false });
    expect(seenSource(t.pod, a.address)).toBe(t.podAddress);

    // auto writes legacy (it holds the node's rules), then says the chain acts in both.
    const applied = await cli(["apply", "--config", config, "--netns", t.node]);
    expect(applied.code).toBe(1);
    expect(applied.stderr).toMatch(
      /also exists in iptables-nft \(nf_tables\) \(ipv4\): both chains act on packets/,
    );
    expect(natRules(t.node, C, "iptables-legacy").some((l) => l.includes("198.51.100.0/24"))).toBe(
      true,
    );
    expect(await why(t.node, b.address)).toMatchObject({ masqueraded: false, certain: true });
    expect(seenSource(t.pod, b.address)).toBe(t.podAddress);
  });
});

describe("legacy rules appearing on an nf_tables node", () => {
  it("are noticed through iptables-nft's warning and read from then on", async () => {
    const ns = pool.add("late");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect((await b.apply(cfgOf(["10.0.0.0/8"]), "cli")).ok).toBe(true);
    expect((await b.read()).map((s) => s.backend)).toEqual(["nf_tables"]);
    inNetns(ns, ["iptables-legacy-restore", "-w"], LEGACY_DUMP);
    // The next read sees the warning; the one after reads legacy too (long before 5 min).
    // Legacy now holds more nat rules, so it holds "the node's rules" (as iptables-wrappers
    // counts) and is listed first.
    await b.read();
    const snaps = await b.read();
    expect(snaps.map((s) => s.backend)).toEqual(["legacy", "nf_tables"]);
    expect(await b.info()).toMatchObject({
      backend: "legacy",
      ruleBackends: ["nf_tables", "legacy"],
    });
    // The agent chain is in both now: the apply keeps to legacy and says both act on packets.
    const nftBefore = natRules(ns, C, "iptables-nft");
    const o = await b.apply(cfgOf(["10.0.0.0/8"]), "cli");
    expect(o.ok).toBe(false);
    expect(natRules(ns, C, "iptables-nft")).toEqual(nftBefore);
    expect(o.error).toMatch(
      /also exists in iptables-nft \(nf_tables\) \(ipv4\): both chains act on packets/,
    );
  });
});

describe("hand-added legacy rules on an nf_tables node", () => {
  // A new user's find (npm run demo): two MASQUERADE rules added by hand to legacy POSTROUTING
  // outnumbered the one jump to the agent's chain in nf_tables, made legacy "the node's rules"
  // and every apply failed ("writing would create a second chain"): the node went to Error.
  it("leave the writes where the agent's chain is: the apply succeeds in nf_tables", async () => {
    const ns = pool.add("gone");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect((await b.apply(cfgOf(["10.0.0.0/8"]), "cli")).ok).toBe(true);
    for (const d of ["10.5.0.0/16", "10.6.0.0/16"])
      postrouting(ns, "iptables-legacy", d, "MASQUERADE");
    await b.read(); // sees iptables-nft's warning: detects again
    expect(await b.info()).toMatchObject({
      backend: "nf_tables",
      backendReason: "the agent's own chain is in iptables-nft (nf_tables)",
    });
    const o = await b.apply(cfgOf(["10.0.0.0/8", "100.64.0.0/10"]), "desired");
    expect(o).toMatchObject({ ok: true, changed: true });
    expect(natRules(ns, C, "iptables-nft").some((l) => l.includes("100.64.0.0/10"))).toBe(true);
  });
});

describe("ipmasq inspect on a node with rules in both backends", () => {
  // A new user's find: inspect listed the agent's chain as missing in iptables-legacy, which
  // the agent does not write to; only the backend the agent uses may call it missing.
  const legacyMasq = (ns: string) =>
    postrouting(ns, "iptables-legacy", "10.5.0.0/16", "MASQUERADE");
  const blocks = (out: string) =>
    Object.fromEntries(out.split(/\n(?=in iptables-)/).map((b) => [b.split(" ")[1]!, b]));

  it("names the backend the agent uses; the other backend's missing chain is not called missing", async () => {
    const ns = pool.add("insp");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS });
    expect((await b.apply(cfgOf(["10.0.0.0/8"]), "cli")).ok).toBe(true);
    legacyMasq(ns);
    const out = (await cli(["inspect", "--netns", ns])).stdout;
    expect(out.split("\n")[0]).toBe(
      "the agent writes to iptables-nft (nf_tables): the agent's own chain is in iptables-nft (nf_tables)",
    );
    const { "iptables-nft": nft, "iptables-legacy": legacy } = blocks(out);
    expect(nft).toMatch(
      /^in iptables-nft \(nf_tables\) \(the agent's\):\nIP-MASQ-AGENT \(ipv4, nf_tables\)\n {2}jump from POSTROUTING: present/,
    );
    expect(legacy).toMatch(
      /^in iptables-legacy \(the agent does not write here, so no IP-MASQ-AGENT is expected\):\n/,
    );
    expect(legacy).toMatch(/decided in its nat POSTROUTING:\n {4}POSTROUTING rule 1 masquerades/);
    expect(legacy).not.toMatch(/does not exist|missing|not in the input/);
    // why names each backend's part; it does not call the agent's chain missing in legacy either.
    for (const ip of ["10.5.1.1", "10.7.1.1"])
      expect((await cli(["why", ip, "--netns", ns, "--mark", "0"])).stdout).not.toMatch(
        /missing|does not exist|not in the input/,
      );
    const json = JSON.parse((await cli(["inspect", "--netns", ns, "--json"])).stdout);
    expect(
      json.map((a: Record<string, unknown>) => [a.backend, a.chainExists, a.agentWritesHere]),
    ).toEqual([
      ["nf_tables", true, true],
      ["legacy", false, false],
    ]);
  });

  it("a chain missing where the agent writes is still said missing", async () => {
    const ns = pool.add("insp2");
    // No agent chain anywhere: the backend holding more nat rules is the agent's (legacy).
    postrouting(ns, "iptables-nft", "10.6.0.0/16", "RETURN");
    legacyMasq(ns);
    legacyMasq(ns);
    const out = (await cli(["inspect", "--netns", ns])).stdout;
    expect(out.split("\n")[0]).toMatch(
      /^the agent writes to iptables-legacy: 2 nat rules in iptables-legacy/,
    );
    const { "iptables-legacy": legacy, "iptables-nft": nft } = blocks(out);
    expect(legacy).toMatch(
      /^in iptables-legacy \(the agent's\):\nIP-MASQ-AGENT \(ipv4, legacy\): chain does not exist\n {2}jump from POSTROUTING: missing\n/,
    );
    expect(nft).toMatch(
      /^in iptables-nft \(nf_tables\) \(the agent does not write here, so no IP-MASQ-AGENT is expected\):/,
    );
    expect(nft).not.toMatch(/does not exist|missing/);
  });
});

/** Appends `-d DEST -j TARGET` to nat POSTROUTING with `tool` (a hand edit, or another component). */
function postrouting(ns: string, tool: string, dest: string, target: string): void {
  inNetns(ns, [tool, "-w", "-t", "nat", "-A", "POSTROUTING", "-d", dest, "-j", target]);
}

const cfgOf = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });

/** The agent's chain and jump as an nf_tables copy returning the new ranges. */
function nftCopy(): string {
  return [
    "*nat",
    `:${C} - [0:0]`,
    `-A POSTROUTING -m addrtype ! --dst-type LOCAL -j ${C}`,
    `-A ${C} -d 169.254.0.0/16 -j RETURN`,
    `-A ${C} -d 10.0.0.0/8 -j RETURN`,
    `-A ${C} -d 198.51.100.0/24 -j RETURN`,
    `-A ${C} -j MASQUERADE`,
    "COMMIT",
    "",
  ].join("\n");
}
