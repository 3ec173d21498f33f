// What the reporter reads on a real node: POSTROUTING and every chain reachable from it (kube-
// proxy's KUBE-POSTROUTING, the CNI bridge plugin's per-pod chains, the agent), each exactly as
// `iptables -S` prints it, and nothing of kube-proxy's service chains (reached from PREROUTING
// and OUTPUT). Bounds leave chains out by name; the monitor follows every chain of the path.
import { assessLinux, DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import { type CniPod, cniChainName, kubeNatTable } from "@masq/testkit/kube-proxy-table";
import { inNetns, natRules, netnsPool } from "@masq/testkit/netns";
import { sleep, until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";

const pool = netnsPool();
afterEach(() => pool.cleanup());

const PODS: CniPod[] = ["a1", "b2", "c3"].map((id, i) => ({
  ip: `10.244.0.${10 + i}`,
  subnet: "10.244.0.0/24",
  id: `${id}0000000000000000000000000000000000000000000000000000000000000`.slice(0, 64),
}));
const CNI = PODS.map((p) => cniChainName(p.id));

/** A node with kube-proxy (200 rules), three pods of the CNI bridge plugin and the agent. */
async function node(tag: string) {
  const ns = pool.add(tag);
  inNetns(ns, ["iptables-restore", "-w"], kubeNatTable(200, { cniPods: PODS }));
  const applied = await createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS }).apply(
    defaultConfig(),
    "cli",
  );
  expect(applied.ok).toBe(true);
  return ns;
}

describe("reading the POSTROUTING path (nf_tables)", () => {
  it("holds every reachable chain, each as iptables -S prints it, and no service chain", async () => {
    const ns = await node("path");
    const [snap, ...rest] = await createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS }).read();
    expect(rest).toEqual([]);
    expect(snap!.chains.map((c) => c.name)).toEqual([
      "POSTROUTING",
      "KUBE-POSTROUTING",
      ...CNI,
      "IP-MASQ-AGENT",
    ]);
    for (const c of snap!.chains) expect(c.lines).toEqual(natRules(ns, c.name));
    expect(snap).toMatchObject({ family: "ipv4", backend: "nf_tables" });
    expect(snap!.unread).toBeUndefined();
    expect(snap!.readError).toBeUndefined();
    // The agent's own chain is as applied (other SNAT on the path is the analysis' business).
    const diffs = assessLinux(defaultConfig(), DEFAULT_FLAGS, [snap!]).report.differences;
    expect(diffs.filter((d) => d.severity === "critical")).toEqual([]);
  });

  it("names the chains a bound leaves out, and keeps the agent chain", async () => {
    const ns = await node("bound");
    const b = createIptablesBackend({
      netns: ns,
      flags: DEFAULT_FLAGS,
      walkBounds: { maxChains: 3 },
    });
    const [snap] = await b.read();
    expect(snap!.chains.map((c) => c.name)).toEqual([
      "POSTROUTING",
      "KUBE-POSTROUTING",
      "IP-MASQ-AGENT",
    ]);
    expect(snap!.unread).toEqual(CNI);
    expect(snap!.unreadNote).toMatch(/more than 3 chains are reachable from POSTROUTING/);
  });

  it("follows edits of any chain on the path through the monitor, and ignores the rest", async () => {
    const ns = await node("watch");
    const b = createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS, pollIntervalMs: 60_000 });
    await b.read();
    const sources: string[] = [];
    const w = b.watch((s) => sources.push(s));
    try {
      await until(() => sources.includes("monitor-restart"), 10_000);
      sources.length = 0;
      inNetns(ns, [
        "iptables",
        "-w",
        "-t",
        "nat",
        "-A",
        "KUBE-SERVICES",
        "-d",
        "10.96.9.9/32",
        "-j",
        "RETURN",
      ]);
      await sleep(300);
      expect(sources).toEqual([]);
      inNetns(ns, [
        "iptables",
        "-w",
        "-t",
        "nat",
        "-I",
        CNI[1]!,
        "1",
        "-d",
        "192.0.2.0/24",
        "-j",
        "ACCEPT",
      ]);
      await until(() => sources.includes("event"), 5_000);
    } finally {
      w.close();
    }
  });
});
