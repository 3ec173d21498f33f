// Packet-level proof of masqueradeCIDRs on a real kernel: with nonMasqueradeCIDRs [10.0.0.0/8]
// and masqueradeCIDRs [10.100.10.0/24], a peer at 10.100.10.2 sees the node's address (the
// exception, most specific, decides) and a peer at 10.100.11.2 sees the pod's (10.0.0.0/8 does).
import type { ChildProcess } from "node:child_process";
import {
  assessLinux,
  commentArgs,
  DEFAULT_FLAGS,
  defaultConfig,
  EXCEPTION_MASQ_RULE_COMMENT,
  type MasqConfig,
} from "@masq/shared";
import { inNetns, natEdit, netnsPool, sh } from "@masq/testkit/netns";
import { afterEach, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { link, POD_ADDRESS, seenSource, startServer } from "./helpers/topology.js";

const pool = netnsPool();
const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
  pool.cleanup();
});

const EXCEPTION = { address: "10.100.10.2", nodeAddress: "10.100.10.1" };
const BESIDE = { address: "10.100.11.2", nodeAddress: "10.100.11.1" };

/** pod (10.244.0.2) → node → peers in 10.100.10.0/24 and 10.100.11.0/24. */
function wireExceptionPeers(pod: string, node: string, inside: string, beside: string): void {
  link(node, "to-pod", "10.244.0.1/24", pod, "eth0", `${POD_ADDRESS}/24`);
  link(node, "to-in", `${EXCEPTION.nodeAddress}/24`, inside, "eth0", `${EXCEPTION.address}/24`);
  link(node, "to-bs", `${BESIDE.nodeAddress}/24`, beside, "eth0", `${BESIDE.address}/24`);
  sh(["ip", "-n", pod, "route", "add", "default", "via", "10.244.0.1"]);
  // Both peers can answer the pod directly, so only SNAT decides which source they see.
  sh(["ip", "-n", inside, "route", "add", "10.244.0.0/24", "via", EXCEPTION.nodeAddress]);
  sh(["ip", "-n", beside, "route", "add", "10.244.0.0/24", "via", BESIDE.nodeAddress]);
  inNetns(node, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=1"]);
}

// With both iptables variants, as the backend tests do: the rules are the same, the kernel paths differ.
it.each(["nft", "legacy"] as const)(
  "%s: the most specific entry decides: the exception is masqueraded, the rest of 10/8 is not",
  async (variant) => {
    const [pod, node, inside, beside] = [
      pool.add("pod"),
      pool.add(`node-${variant}`),
      pool.add("in"),
      pool.add("bs"),
    ];
    wireExceptionPeers(pod, node, inside, beside);
    servers.push(await startServer(inside), await startServer(beside));
    const backend = createIptablesBackend({ netns: node, flags: DEFAULT_FLAGS, variant });
    const config: MasqConfig = {
      ...defaultConfig(),
      nonMasqueradeCIDRs: ["10.0.0.0/8"],
      masqueradeCIDRs: ["10.100.10.0/24"],
    };

    // Without the exception, both peers are inside 10.0.0.0/8: both see the pod.
    expect((await backend.apply({ ...config, masqueradeCIDRs: [] }, "cli")).ok).toBe(true);
    expect(seenSource(pod, EXCEPTION.address)).toBe(POD_ADDRESS);
    expect(seenSource(pod, BESIDE.address)).toBe(POD_ADDRESS);

    const applied = await backend.apply(config, "desired");
    expect(applied).toMatchObject({ ok: true });
    expect(seenSource(pod, EXCEPTION.address)).toBe(EXCEPTION.nodeAddress);
    expect(seenSource(pod, BESIDE.address)).toBe(POD_ADDRESS);
    expect(assessLinux(config, DEFAULT_FLAGS, await backend.read()).report.status).toBe("in-sync");

    // By hand, the exception's rule moved behind the RETURN that contains it: dead, and drift
    // says so (never "in sync"); the next apply puts it back in front.
    const tool = variant === "legacy" ? "iptables-legacy" : "iptables";
    const rule = ["-d", "10.100.10.0/24", ...commentArgs(EXCEPTION_MASQ_RULE_COMMENT)];
    natEdit(node, ["-D", "IP-MASQ-AGENT", "1"], tool);
    natEdit(
      node,
      ["-I", "IP-MASQ-AGENT", "3", ...rule, "-j", "MASQUERADE", "--random-fully"],
      tool,
    );
    expect(seenSource(pod, EXCEPTION.address)).toBe(POD_ADDRESS);
    const drift = assessLinux(config, DEFAULT_FLAGS, await backend.read()).report;
    expect(drift.differences.map((d) => d.kind)).toContain("exception-shadowed");
    expect((await backend.apply(config, "resync")).ok).toBe(true);
    expect(seenSource(pod, EXCEPTION.address)).toBe(EXCEPTION.nodeAddress);
  },
);
