import { createHash } from "node:crypto";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import {
  canonicalChain,
  chainDigest,
  linuxChainDigests,
  sameChainDigests,
} from "./chain-digest.js";
import { type ChainSnapshot, decodeReporterMessage, type FamilySnapshot } from "./protocol.js";

const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");
const digest = (c: ChainSnapshot) => chainDigest(c, sha256);

/** flannel ≥ 0.15's chain on node `n` (cluster 10.244.0.0/16, the node's /24): per-node lines. */
const flannel = (n: number): ChainSnapshot => ({
  name: "FLANNEL-POSTRTG",
  lines: [
    "-N FLANNEL-POSTRTG",
    `-A FLANNEL-POSTRTG -s 10.244.${n}.0/24 -d 10.244.0.0/16 -j RETURN`,
    `-A FLANNEL-POSTRTG ! -s 10.244.0.0/16 -d 10.244.${n}.0/24 -j RETURN`,
  ],
});
const agent = (cidr = "10.0.0.0/8"): ChainSnapshot => ({
  name: "IP-MASQ-AGENT",
  lines: chainS([cidr]),
});
const family = (n = 3, cidr?: string): FamilySnapshot => ({
  family: "ipv4",
  backend: "nf_tables",
  chains: [
    { name: "POSTROUTING", lines: [...postroutingS(), "-A POSTROUTING -j FLANNEL-POSTRTG"] },
    agent(cidr),
    flannel(n),
  ],
});

describe("chainDigest", () => {
  const base = digest(agent());
  const cases: { desc: string; input: ChainSnapshot; want: "same" | "different" }[] = [
    { desc: "the same chain", input: agent(), want: "same" },
    {
      desc: "keys in another order",
      input: JSON.parse(JSON.stringify({ lines: agent().lines, name: "IP-MASQ-AGENT" })),
      want: "same",
    },
    { desc: "another CIDR", input: agent("10.1.0.0/16"), want: "different" },
    {
      desc: "the same lines in another order",
      input: { name: "IP-MASQ-AGENT", lines: [...agent().lines!].reverse() },
      want: "different",
    },
    {
      desc: "the chain missing (null)",
      input: { name: "IP-MASQ-AGENT", lines: null },
      want: "different",
    },
    { desc: "the chain empty", input: { name: "IP-MASQ-AGENT", lines: [] }, want: "different" },
    {
      desc: "the same lines under another name",
      input: { name: "IP-MASQ", lines: agent().lines },
      want: "different",
    },
  ];
  it.each(cases)("$desc → $want digest", ({ input, want }) => {
    const d = digest(input);
    expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d === base ? "same" : "different").toBe(want);
  });

  it("hashes a tagged canonical text, so a format change never meets an old digest", () => {
    expect(canonicalChain(agent())).toBe(
      `masq-chain-rules/1\n${JSON.stringify(["IP-MASQ-AGENT", agent().lines])}`,
    );
  });
});

describe("linuxChainDigests", () => {
  it("names per-node chains apart and shared chains alike", () => {
    const [a, b] = [linuxChainDigests([family(3)], digest), linuxChainDigests([family(4)], digest)];
    const byName = (f: typeof a, name: string) => f[0]!.chains.find((c) => c.name === name)?.digest;
    expect(byName(a, "IP-MASQ-AGENT")).toBe(byName(b, "IP-MASQ-AGENT"));
    expect(byName(a, "POSTROUTING")).toBe(byName(b, "POSTROUTING"));
    expect(byName(a, "FLANNEL-POSTRTG")).not.toBe(byName(b, "FLANNEL-POSTRTG"));
  });

  const cases: { desc: string; input: FamilySnapshot; want: boolean }[] = [
    { desc: "the same part", input: family(), want: true },
    { desc: "a per-node line of another node", input: family(4), want: false },
    { desc: "another backend", input: { ...family(), backend: "legacy" }, want: false },
    { desc: "a read error", input: { ...family(), readError: "x" }, want: false },
    { desc: "an unread chain", input: { ...family(), unread: ["KUBE-X"] }, want: false },
    { desc: "an unread note", input: { ...family(), unreadNote: "bound" }, want: false },
    {
      desc: "chains in another order",
      input: { ...family(), chains: [...family().chains].reverse() },
      want: false,
    },
  ];
  it.each(cases)("sameChainDigests: $desc → $want", ({ input, want }) => {
    const base = linuxChainDigests([family()], digest);
    expect(sameChainDigests(base, linuxChainDigests([input], digest))).toBe(want);
  });

  it("keeps every family-level field a judge reads", () => {
    const f = { ...family(), unread: ["KUBE-X"], unreadNote: "n", readError: "e" };
    expect(linuxChainDigests([f], digest)[0]).toMatchObject({
      family: "ipv4",
      backend: "nf_tables",
      unread: ["KUBE-X"],
      unreadNote: "n",
      readError: "e",
    });
  });
});

const D = `sha256:${"b".repeat(64)}`;
const snap = (extra: Record<string, unknown>) =>
  JSON.stringify({ type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 3, ...extra });
const fam = (chains: unknown[], extra: Record<string, unknown> = {}) => ({
  family: "ipv4",
  backend: "nf_tables",
  chains,
  ...extra,
});

describe("linuxChains in frames", () => {
  const cases: { desc: string; input: string; want: true | string }[] = [
    {
      desc: "chains by digest",
      input: snap({ linuxChains: [fam([{ name: "POSTROUTING", digest: D }])] }),
      want: true,
    },
    {
      desc: "whole, digests beside",
      input: snap({
        linux: [family()],
        linuxChains: linuxChainDigests([family()], digest),
      }),
      want: true,
    },
    {
      desc: "a duplicate chain",
      input: snap({
        linuxChains: [
          fam([
            { name: "X", digest: D },
            { name: "X", digest: D },
          ]),
        ],
      }),
      want: "duplicate chain",
    },
    {
      desc: "a chain name iptables cannot print",
      input: snap({ linuxChains: [fam([{ name: "-A", digest: D }])] }),
      want: "linuxChains",
    },
    {
      desc: "a chain with its lines (not a reference)",
      input: snap({ linuxChains: [fam([{ name: "X", digest: D, lines: [] }])] }),
      want: "linuxChains",
    },
    {
      desc: "more families than a snapshot holds",
      input: snap({ linuxChains: Array.from({ length: 5 }, () => fam([])) }),
      want: "linuxChains",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const d = decodeReporterMessage(input);
    if (want === true) expect(d.ok).toBe(true);
    else expect(!d.ok && d.reason).toContain(want);
  });
});
