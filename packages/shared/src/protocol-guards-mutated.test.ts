// break10: the guards against zod on frames whose every field may be any tricky JSON value.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MAX_CHAIN_NAME_LENGTH, MAX_RULE_LINE_CHARS, MAX_UNREAD_NOTE_LENGTH } from "./limits.js";
import { reporterMessageSchema } from "./protocol.js";
import { guardReporterMessage } from "./protocol-guards.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
function zod(input: unknown): unknown {
  const r = reporterMessageSchema.safeParse(input);
  return r.success ? r.data : undefined;
}
const tricky = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    false,
    0,
    -0,
    1,
    -1,
    0.5,
    2 ** 53,
    2 ** 53 - 1,
    2 ** 53 + 2,
    1e21,
    1e308,
    -1e-7,
    "",
    "x",
    "snapshot",
    "apply-result",
    "heartbeat",
    2,
    1,
    3,
    DIGEST,
    `sha256:${"AB".repeat(32)}`,
    `${DIGEST}\n`,
    "ipv4",
    "ipv6",
    "legacy",
    "nf_tables",
    "desired",
    "immediate",
    "never",
    "POSTROUTING",
    "-A POSTROUTING -j X",
    "-A POSTROUTING x\n-A POSTROUTING y",
    "-N IP-MASQ-AGENT",
    `-A POSTROUTING ${"x".repeat(MAX_RULE_LINE_CHARS)}`,
    "-N",
    "!X",
    "a b",
    "é",
    "x".repeat(MAX_CHAIN_NAME_LENGTH),
    "x".repeat(MAX_CHAIN_NAME_LENGTH + 1),
    "x".repeat(MAX_UNREAD_NOTE_LENGTH + 1),
    [],
    {},
    [DIGEST],
    ["POSTROUTING", "POSTROUTING"],
    [
      { name: "A", digest: DIGEST },
      { name: "A", digest: DIGEST },
    ],
    [{ name: "A", digest: DIGEST }],
    { heal: "immediate", resyncMs: 1, nextResyncAt: null },
  ),
  fc.jsonValue({ maxDepth: 2 }),
);
const fam = () => ({
  family: "ipv4",
  backend: "legacy",
  chains: [{ name: "POSTROUTING", digest: DIGEST }],
});
const wholeFam = () => ({
  family: "ipv4",
  backend: "nf_tables",
  chains: [
    { name: "POSTROUTING", lines: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j IP-MASQ-AGENT"] },
    { name: "IP-MASQ-AGENT", lines: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -j MASQUERADE"] },
    { name: "KUBE-GONE", lines: null },
  ],
  unread: ["X"],
});
const chainsSnapshot = () => ({
  ...{ type: "snapshot", v: 2, seq: 7, takenAt: 5 },
  ...{ linuxChains: [fam()], appliedRevision: 3 },
});
const bases = () => [
  { ...chainsSnapshot(), schedule: { heal: "immediate", resyncMs: 60_000, nextResyncAt: 9 } },
  { type: "snapshot", v: 2, seq: 7, takenAt: 5, linuxDigest: DIGEST, appliedRevision: null },
  {
    type: "apply-result",
    v: 2,
    revision: 3,
    ok: true,
    durationMs: 4.5,
    trigger: "desired",
    changed: true,
    snapshot: chainsSnapshot(),
  },
  { type: "heartbeat", v: 2, ts: 5 },
  // Whole, its chains by digest beside (sent unasked after a hand edit, or an answer).
  { ...chainsSnapshot(), linux: [wholeFam()] },
  {
    type: "snapshot",
    v: 2,
    seq: 7,
    takenAt: 5,
    linuxDigest: DIGEST,
    linux: [wholeFam()],
    appliedRevision: 1,
  },
];
/** Every path of objects and arrays in `v`. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(v)) for (const [i, x] of v.entries()) out.push(...paths(x, [...at, i]));
  else if (v && typeof v === "object")
    for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}
function mutate(base: unknown, path: (string | number)[], value: unknown, op: number): unknown {
  const copy = JSON.parse(JSON.stringify(base));
  if (path.length === 0) return copy;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k];
  const last = path[path.length - 1]!;
  if (op === 0) o[last] = value;
  else if (op === 1 && !Array.isArray(o)) delete o[last];
  else if (op === 2 && !Array.isArray(o)) o[`${String(last)}x`] = value;
  else if (op === 3 && Array.isArray(o)) o.push(value);
  else o[last] = value;
  return JSON.parse(JSON.stringify(copy));
}

describe("break10: guard ≡ zod on mutated frames", () => {
  it("takes a frame only as zod takes it", () => {
    fc.assert(
      fc.property(
        fc.nat(5),
        fc.nat(1000),
        tricky,
        fc.nat(4),
        fc.nat(1000),
        tricky,
        fc.nat(4),
        (b, p1, v1, o1, p2, v2, o2) => {
          let input = bases()[b]!;
          const ps = paths(input);
          input = mutate(input, ps[p1 % ps.length]!, v1, o1) as typeof input;
          const ps2 = paths(input);
          input = mutate(input, ps2[p2 % ps2.length]!, v2, o2) as typeof input;
          const want = zod(input);
          const got = guardReporterMessage(input);
          if (want === undefined) expect(got).toBeUndefined();
          else if (got !== undefined) expect(JSON.stringify(got)).toBe(JSON.stringify(want));
        },
      ),
      { numRuns: 30000 },
    );
  });
});
