import { createHash } from "node:crypto";
import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { decodeDashboardMessage, decodeReporterMessage, type FamilySnapshot } from "./protocol.js";
import { createReporterDecoder } from "./protocol-v1.js";
import { canonicalLinuxRules, linuxRulesDigest } from "./snapshot-digest.js";

const sha256 = (t: string) => createHash("sha256").update(t).digest("hex");

/** A kube-proxy + flannel-shaped node (neutral addresses). */
const family = (cidr = "10.0.0.0/8"): FamilySnapshot => ({
  family: "ipv4",
  backend: "nf_tables",
  chains: [
    { name: "POSTROUTING", lines: [...postroutingS(), "-A POSTROUTING -j FLANNEL-POSTRTG"] },
    { name: "IP-MASQ-AGENT", lines: chainS([cidr]) },
    {
      name: "FLANNEL-POSTRTG",
      lines: [
        "-N FLANNEL-POSTRTG",
        "-A FLANNEL-POSTRTG -s 10.244.0.0/16 -d 10.244.0.0/16 -j RETURN",
      ],
    },
  ],
});

/** The same part with its objects' keys in another order. */
function reordered(f: FamilySnapshot): FamilySnapshot {
  return JSON.parse(
    JSON.stringify({
      chains: f.chains.map((c) => ({ lines: c.lines, name: c.name })),
      backend: f.backend,
      family: f.family,
    }),
  );
}

describe("linuxRulesDigest", () => {
  const base = linuxRulesDigest([family()], sha256);
  const cases: { desc: string; input: FamilySnapshot[]; want: "same" | "different" }[] = [
    { desc: "the same content", input: [family()], want: "same" },
    { desc: "keys in another order", input: [reordered(family())], want: "same" },
    { desc: "another CIDR in the agent chain", input: [family("10.1.0.0/16")], want: "different" },
    {
      desc: "a chain that does not exist instead of an empty one",
      input: [{ ...family(), chains: [...family().chains, { name: "KUBE-X", lines: null }] }],
      want: "different",
    },
    {
      desc: "the other backend",
      input: [{ ...family(), backend: "legacy" }],
      want: "different",
    },
    { desc: "a read error", input: [{ ...family(), readError: "x" }], want: "different" },
    { desc: "an unread chain", input: [{ ...family(), unread: ["KUBE-X"] }], want: "different" },
    { desc: "two families", input: [family(), { ...family(), family: "ipv6" }], want: "different" },
    { desc: "nothing", input: [], want: "different" },
  ];
  it.each(cases)("$desc → $want digest", ({ input, want }) => {
    const d = linuxRulesDigest(input, sha256);
    expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(d === base ? "same" : "different").toBe(want);
  });

  it("hashes a tagged canonical text, so a format change never meets an old digest", () => {
    expect(canonicalLinuxRules([]).startsWith("masq-linux-rules/1\n")).toBe(true);
  });
});

const D = `sha256:${"a".repeat(64)}`;
const result = {
  type: "apply-result",
  v: 2,
  revision: 3,
  ok: true,
  durationMs: 1,
  trigger: "desired",
  changed: true,
};
const snap = (extra: Record<string, unknown>) =>
  JSON.stringify({ type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 3, ...extra });

describe("digests in frames", () => {
  const cases: { desc: string; input: string; want: boolean | string }[] = [
    { desc: "a snapshot with only a digest", input: snap({ linuxDigest: D }), want: true },
    {
      desc: "a snapshot whole with its digest",
      input: snap({ linux: [family()], linuxDigest: D }),
      want: true,
    },
    {
      desc: "an uppercase digest",
      input: snap({ linuxDigest: D.toUpperCase() }),
      want: "linuxDigest",
    },
    {
      desc: "a digest of another algorithm",
      input: snap({ linuxDigest: "md5:00" }),
      want: "linuxDigest",
    },
    {
      desc: "an apply-result carrying its snapshot (by digest)",
      input: JSON.stringify({ ...result, snapshot: JSON.parse(snap({ linuxDigest: D })) }),
      want: true,
    },
    {
      desc: "an apply-result carrying a malformed snapshot",
      input: JSON.stringify({ ...result, snapshot: { type: "snapshot", v: 2 } }),
      want: "snapshot.seq",
    },
  ];
  it.each(cases)("reporter frame: $desc", ({ input, want }) => {
    const d = decodeReporterMessage(input);
    if (want === true) expect(d.ok).toBe(true);
    else expect(!d.ok && d.reason).toContain(want);
  });

  it.each([
    { desc: "the whole part", input: { linuxDigest: D }, want: "linuxDigest" },
    {
      desc: "each chain",
      input: { linuxChains: [{ family: "ipv4", backend: "nf_tables", chains: [] }] },
      want: "linuxChains",
    },
  ])(
    "protocol v1 frames never carry a digest ($desc) or a snapshot in a result",
    ({ input, want }) => {
      const dec = createReporterDecoder();
      const { ruleBackends: _, ...hello } = { ...helloFor("node-a"), v: 1 };
      expect(dec.decode(JSON.stringify(hello)).ok).toBe(true);
      const d = dec.decode(
        JSON.stringify({
          type: "snapshot",
          v: 1,
          seq: 1,
          takenAt: 1,
          appliedGeneration: null,
          ...input,
        }),
      );
      expect(!d.ok && d.reason).toContain(want);
      const folded = { ...result, v: 1, snapshot: JSON.parse(snap({})) };
      const r = dec.decode(JSON.stringify(folded));
      expect(!r.ok && r.reason).toContain("snapshot");
    },
  );

  const requests: { desc: string; input: unknown; want: boolean }[] = [
    {
      desc: "a snapshot request",
      input: { type: "snapshot-request", v: 2, digest: D },
      want: true,
    },
    { desc: "without its digest", input: { type: "snapshot-request", v: 2 }, want: false },
    {
      desc: "with an unknown field",
      input: { type: "snapshot-request", v: 2, digest: D, all: true },
      want: false,
    },
  ];
  it.each(requests)("dashboard frame: $desc", ({ input, want }) => {
    expect(decodeDashboardMessage(JSON.stringify(input)).ok).toBe(want);
  });
});
