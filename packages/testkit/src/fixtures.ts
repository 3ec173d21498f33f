// Protocol messages for tests and benchmarks that play a reporter.
import {
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  type FamilySnapshot,
  type Hello,
  jumpRuleLine,
  PROTOCOL_VERSION,
  type Snapshot,
  snapshotOf,
} from "@masq/shared";
import { chainS, postroutingS } from "./iptables-text.js";

/** A Linux enforce-mode reporter's hello (in-memory backend); override what a test needs. */
export function helloFor(node: string, over: Partial<Hello> = {}): Hello {
  return {
    type: "hello",
    v: PROTOCOL_VERSION,
    node,
    os: "linux",
    kernel: "6.1.0-test",
    iptablesVersion: "v1.8.9 (nf_tables)",
    backend: "memory",
    randomFullySupported: true,
    mode: "enforce",
    flags: DEFAULT_FLAGS,
    reporterVersion: "test",
    appliedRevision: null,
    ...over,
  };
}

/** A snapshot without rules (seq `seq`, taken at `seq`, revision 4): what rules by digest ride on. */
export function snapshotEnvelope(seq: number): Snapshot {
  return { type: "snapshot", v: PROTOCOL_VERSION, seq, takenAt: seq, appliedRevision: 4 };
}

/**
 * State `n` of one node's rules: kube-proxy's POSTROUTING, the agent chain holding its own
 * CIDR (10.n.0.0/16) — a node toggled between states (a hand edit, then its heal).
 */
export function rulesState(n: number): FamilySnapshot[] {
  return [
    {
      family: "ipv4",
      backend: "nf_tables",
      chains: [
        { name: "POSTROUTING", lines: postroutingS() },
        { name: "IP-MASQ-AGENT", lines: chainS([`10.${n}.0.0/16`]) },
      ],
    },
  ];
}

/** An IPv4 node in sync with the default config: its agent chain and the POSTROUTING jump. */
export function inSyncSnapshot(): Snapshot {
  const d = desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4");
  return {
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: 0,
    takenAt: 0,
    appliedRevision: 1,
    linux: [
      snapshotOf({
        family: "ipv4",
        chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
        postrouting: [jumpRuleLine(d.chain)],
      }),
    ],
  };
}

/**
 * A snapshot of a node whose chain holds `rules` distinct RETURN rules (a /32 each; `seq` makes
 * every snapshot different), ~137 KB as a frame for 3,000 rules: the flood of issue 12.
 */
export function largeChainSnapshot(seq: number, rules = 3000): Snapshot {
  const chain = [`-N ${DEFAULT_FLAGS.masqChain}`];
  for (let i = 0; i < rules; i++)
    chain.push(
      `-A ${DEFAULT_FLAGS.masqChain} -d 10.${(i >> 8) & 255}.${i & 255}.${seq % 256}/32 -j RETURN`,
    );
  return {
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq,
    takenAt: Date.now(),
    appliedRevision: null,
    linux: [snapshotOf({ family: "ipv4", chain, postrouting: ["-P POSTROUTING ACCEPT"] })],
  };
}

/**
 * A NodeMasquerade status as another dashboard replica writes it (dash-b; connected, in sync,
 * sent revision 2 and still on revision 1); override what a test needs.
 */
export function remoteStatusFor<T extends object>(over: T) {
  return {
    replica: "dash-b",
    connected: true,
    health: "in-sync" as const,
    mode: "enforce",
    desiredRevision: 2 as number | null,
    appliedRevision: 1 as number | null,
    observedAt: "2026-01-01T00:00:00Z",
    ...over,
  };
}
