// Packet-level proof on real kernels: after an apply, a peer inside a non-masquerade CIDR sees
// the pod's address and a peer outside sees the node's; after a config change, the opposite.
import type { ChildProcess } from "node:child_process";
import { DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "@masq/shared";
import { netnsPool } from "@masq/testkit/netns";
import { afterEach, expect, it } from "vitest";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { seenSource, startServer, wire } from "./helpers/topology.js";

const pool = netnsPool();
const servers: ChildProcess[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.kill("SIGKILL");
  pool.cleanup();
});

const cfg = (cidrs: string[]): MasqConfig => ({ ...defaultConfig(), nonMasqueradeCIDRs: cidrs });

it("masquerades exactly the traffic the config says, before and after a change", async () => {
  const t = wire({
    pod: pool.add("pod"),
    node: pool.add("node"),
    peerA: pool.add("pa"),
    peerB: pool.add("pb"),
  });
  const [a, b] = t.peers as [(typeof t.peers)[0], (typeof t.peers)[0]];
  servers.push(await startServer(a.ns), await startServer(b.ns));
  const backend = createIptablesBackend({ netns: t.node, flags: DEFAULT_FLAGS });

  // No rules yet: nobody masquerades.
  expect([seenSource(t.pod, a.address), seenSource(t.pod, b.address)]).toEqual([
    t.podAddress,
    t.podAddress,
  ]);

  expect((await backend.apply(cfg(["10.0.0.0/8"]), "cli")).ok).toBe(true);
  expect(seenSource(t.pod, a.address)).toBe(t.podAddress); // 10.10.0.2 is inside 10.0.0.0/8
  expect(seenSource(t.pod, b.address)).toBe(b.nodeAddress); // 198.51.100.2 is not

  expect((await backend.apply(cfg(["198.51.100.0/24"]), "desired")).ok).toBe(true);
  expect(seenSource(t.pod, a.address)).toBe(a.nodeAddress);
  expect(seenSource(t.pod, b.address)).toBe(t.podAddress);
});
