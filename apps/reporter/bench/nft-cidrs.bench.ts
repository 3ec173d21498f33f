// Issue 15: 4,096 non-masquerade CIDRs, the iptables chain (one RETURN rule per CIDR, linear)
// against the agent's nftables table (one interval-set lookup). Apply time of a changed config
// (read, write, read back, verify), and the per-packet cost: nat rules run once per connection
// (conntrack), so a flood of new flows — UDP packets from the node to 20,000 distinct
// destinations outside every CIDR (198.18.0.0/15, the benchmarking range) — walks the whole
// chain for each packet. Measured as the sender's kernel CPU per packet (the netfilter hooks of
// locally sent packets run in the sending syscall), with the default config (4 CIDRs) as the
// reference for each backend.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import {
  DEFAULT_FLAGS,
  defaultConfig,
  type MasqConfig,
  renderApplyPayload,
  renderNftApply,
} from "@masq/shared";
import { addNetns, deleteNetns, inNetns, sh, uniqueNetnsName } from "@masq/testkit/netns";
import type { BenchResult } from "../../../bench/types.js";
import { createIptablesBackend } from "../src/backend/iptables.js";
import { createNftablesBackend } from "../src/backend/nftables.js";
import { percentile } from "./kube-nat.js";

const CIDRS = 4_096;
const PACKETS = 20_000;

/** 4,096 disjoint, non-adjacent /24s in 10.0.0.0/8 (no two merge into one interval). */
export function manyCidrs(n = CIDRS): MasqConfig {
  const cidrs = Array.from({ length: n }, (_, i) => `10.${i >> 7}.${(i & 127) * 2}.0/24`);
  return { ...defaultConfig(), nonMasqueradeCIDRs: cidrs, cidrLimit: n };
}

/** Sends `n` UDP packets to distinct addresses of 198.18.0.0/15; prints kernel µs and wall ms. */
const SENDER = `
const s = require("node:dgram").createSocket("udp4");
const n = Number(process.argv[1]);
const buf = Buffer.alloc(32);
s.bind(0, () => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let sent = 0, done = 0;
  const pump = () => {
    while (sent < n && sent - done < 64) {
      const i = sent++;
      s.send(buf, 9, "198." + (18 + (i >> 16)) + "." + ((i >> 8) & 255) + "." + (i & 255), () => {
        if (++done === n) {
          const c = process.cpuUsage(c0);
          console.log(JSON.stringify({ systemUs: c.system, wallMs: performance.now() - t0 }));
          process.exit(0);
        } else pump();
      });
    }
  };
  pump();
});`;

interface Flood {
  /** Kernel CPU per packet, µs. */
  perPacketUs: number;
  packetsPerSecond: number;
}

/** A node with a link to a sink that drops what it gets (no forwarding). */
function floodNode(): { ns: string; cleanup: () => void } {
  const ns = addNetns(uniqueNetnsName("cidr-node"));
  const sink = addNetns(uniqueNetnsName("cidr-sink"));
  sh([
    "ip",
    "-n",
    ns,
    "link",
    "add",
    "to-sink",
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    sink,
  ]);
  sh(["ip", "-n", ns, "addr", "add", "192.0.2.1/24", "dev", "to-sink"]);
  sh(["ip", "-n", sink, "addr", "add", "192.0.2.2/24", "dev", "eth0"]);
  sh(["ip", "-n", ns, "link", "set", "to-sink", "up"]);
  sh(["ip", "-n", sink, "link", "set", "eth0", "up"]);
  sh(["ip", "-n", ns, "route", "add", "198.18.0.0/15", "via", "192.0.2.2"]);
  return { ns, cleanup: () => [ns, sink].forEach(deleteNetns) };
}

type Which = "iptables" | "nftables";

function backendOf(which: Which, ns: string) {
  return which === "iptables"
    ? createIptablesBackend({ netns: ns, flags: DEFAULT_FLAGS, monitor: false })
    : createNftablesBackend({ netns: ns, flags: DEFAULT_FLAGS, monitor: false });
}

/** The write alone: one iptables-restore of the chain, or one nft -f of the table. */
async function rawWrite(which: Which, ns: string, config: MasqConfig): Promise<void> {
  const argv = which === "iptables" ? ["iptables-restore", "--noflush", "-w"] : ["nft", "-f", "-"];
  const input =
    which === "iptables"
      ? renderApplyPayload(config, DEFAULT_FLAGS, "ipv4", { addJump: false, deleteJumps: [] })
      : renderNftApply(config, DEFAULT_FLAGS);
  inNetns(ns, argv, input);
}

interface BackendCost {
  /** The write transaction alone, p50 ms. */
  writeMs: number;
  /** The backend's whole apply (read, write, read back, verify), p50 ms, or why it failed. */
  apply: number | string;
  few: Flood;
  many: Flood;
}

/** Default → 4,096 CIDRs three times (fresh namespaces), and the flood with each config. */
async function measureBackend(which: Which): Promise<BackendCost> {
  const writes: number[] = [];
  const applies: number[] = [];
  let applyError: string | undefined;
  let floods: { few: Flood; many: Flood } | undefined;
  for (let round = 0; round < 3; round++) {
    const node = floodNode();
    try {
      const b = backendOf(which, node.ns);
      const few = await b.apply(defaultConfig(), "cli");
      if (!few.ok) throw new Error(`${which} apply failed: ${few.error}`);
      const fewFlood = round === 0 ? floodFrom(node.ns, 0) : undefined;
      const t0 = performance.now();
      await rawWrite(which, node.ns, manyCidrs());
      writes.push(performance.now() - t0);
      if (fewFlood) floods = { few: fewFlood, many: floodFrom(node.ns, 1 << 15) };
      await b.apply(defaultConfig(), "cli");
      const t1 = performance.now();
      const many = await b.apply(manyCidrs(), "desired");
      applies.push(performance.now() - t1);
      if (!many.ok) applyError = many.error;
    } finally {
      node.cleanup();
    }
  }
  return {
    writeMs: percentile(writes, 50),
    apply: applyError ?? percentile(applies, 50),
    ...floods!,
  };
}

/**
 * The flood from `ns`, to addresses `offset`… of 198.18.0.0/15: a second flood uses others, since
 * the first one's flows are in conntrack and would skip the nat rules.
 */
function floodFrom(ns: string, offset: number): Flood {
  const out = inNetns(ns, [
    process.execPath,
    "-e",
    SENDER.replace("const i = sent++;", `const i = sent++ + ${offset};`),
    String(PACKETS),
  ]);
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as { systemUs: number; wallMs: number };
  return {
    perPacketUs: r.systemUs / PACKETS,
    packetsPerSecond: Math.round(PACKETS / (r.wallMs / 1000)),
  };
}

const applyText = (c: BackendCost) =>
  typeof c.apply === "number" ? `${Math.round(c.apply)} ms` : `not verified (${c.apply})`;

export default async function cidrsBench(): Promise<BenchResult[]> {
  const ipt = await measureBackend("iptables");
  const nft = await measureBackend("nftables");
  const us = (x: number) => Math.round(x * 100) / 100;
  const extra = (b: BackendCost) => b.many.perPacketUs - b.few.perPacketUs;
  const conclusion = `iptables walks one RETURN rule per CIDR for every new connection to a masqueraded destination (+${us(extra(ipt))} µs of kernel CPU per new flow with 4,096 CIDRs over the default 4; ${ipt.many.packetsPerSecond} vs ${ipt.few.packetsPerSecond} new flows/s); nftables looks the destination up in one interval set (+${us(extra(nft))} µs; ${nft.many.packetsPerSecond} vs ${nft.few.packetsPerSecond} flows/s): its cost does not grow with the number of CIDRs.`;
  return [
    {
      id: "nft-4096-apply",
      issue: 15,
      name: "4,096 CIDRs: the write transaction, nftables table (one set) vs iptables chain (4,097 rules)",
      value: Math.round(nft.writeMs),
      unit: "ms",
      notes: `p50 of 3, default config → 4,096 disjoint /24s in a fresh namespace: one nft -f ${Math.round(nft.writeMs)} ms, one iptables-restore --noflush (nf_tables) ${Math.round(ipt.writeMs)} ms. The backends' whole apply (read, write, read back, verify): nftables ${applyText(nft)}; iptables ${applyText(ipt)}.`,
    },
    {
      id: "nft-4096-packet",
      issue: 15,
      name: "4,096 CIDRs: kernel CPU per new flow to a masqueraded destination, nftables vs iptables",
      value: us(nft.many.perPacketUs),
      unit: "µs",
      notes: `${PACKETS} UDP packets from the node to distinct addresses of 198.18.0.0/15 (none in a CIDR; each a new conntrack flow, so the nat rules run for each), the sender's kernel CPU per packet: nftables ${us(nft.few.perPacketUs)} µs (4 CIDRs) → ${us(nft.many.perPacketUs)} µs (4,096); iptables ${us(ipt.few.perPacketUs)} µs → ${us(ipt.many.perPacketUs)} µs. ${conclusion} Established connections skip the nat table in both.`,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await cidrsBench(), null, 2));
  process.exit(0);
}
