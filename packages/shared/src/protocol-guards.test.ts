import { helloFor } from "@masq/testkit/fixtures";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromLegacyRevisionNames } from "./legacy-revision-names.js";
import { MAX_APPLY_DURATION_MS, MAX_APPLY_ERROR_CHARS } from "./limits.js";
import {
  applyResultSchema,
  chainSnapshotSchema,
  type FamilySnapshot,
  familySnapshotSchema,
  heartbeatSchema,
  reporterMessageSchema,
  resyncScheduleSchema,
  snapshotSchema,
  validateMessage,
} from "./protocol.js";
import { GUARDED_KEYS, guardReporterMessage, guardSnapshot } from "./protocol-guards.js";
import { createReporterDecoder } from "./protocol-v1.js";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const byDigest = {
  type: "snapshot",
  v: 2,
  seq: 7,
  takenAt: 1_700_000_000_000,
  linuxDigest: DIGEST,
  appliedRevision: 3,
};
const schedule = { heal: "immediate", resyncMs: 60_000, nextResyncAt: 1_700_000_060_000 };
const result = {
  type: "apply-result",
  v: 2,
  revision: 3,
  ok: true,
  durationMs: 4.5,
  trigger: "desired",
  changed: true,
};
const hello = helloFor("node-a");
const ref = (name: string) => ({ name, digest: DIGEST });
const chainsFamily = {
  family: "ipv4",
  backend: "legacy",
  chains: [ref("POSTROUTING"), ref("KUBE-POSTROUTING"), ref("IP-MASQ-AGENT")],
};
const byChains = (linuxChains: unknown[]) => ({ ...byDigest, linuxDigest: undefined, linuxChains });
const family: FamilySnapshot = {
  family: "ipv4",
  backend: "nf_tables",
  chains: [{ name: "IP-MASQ-AGENT", lines: ["-N IP-MASQ-AGENT"] }],
};

/** What zod makes of `input`: the message, or undefined when it refuses. */
function zod(input: unknown): unknown {
  const r = reporterMessageSchema.safeParse(input);
  return r.success ? r.data : undefined;
}

describe("guardReporterMessage: what it takes is what zod takes, built alike", () => {
  const accepted: { desc: string; input: unknown }[] = [
    { desc: "an apply-result", input: result },
    { desc: "a failed apply-result with its error", input: { ...result, ok: false, error: "x" } },
    { desc: "an apply-result of no revision", input: { ...result, revision: null } },
    {
      desc: "a duration at its bound (a day)",
      input: { ...result, durationMs: MAX_APPLY_DURATION_MS },
    },
    {
      desc: "an error at its bound",
      input: { ...result, error: "e".repeat(MAX_APPLY_ERROR_CHARS) },
    },
    {
      desc: "rules whole beside chains by digest (an answer, or a snapshot sent whole unasked)",
      input: { ...byChains([chainsFamily]), linux: [family] },
    },
    { desc: "rules whole beside their digest", input: { ...byDigest, linux: [family] } },
    {
      desc: "rules whole beside chains by digest, a chain absent (null) and notes",
      input: {
        ...byChains([chainsFamily]),
        linux: [
          {
            ...family,
            chains: [...family.chains, { name: "KUBE-X", lines: null }],
            unread: ["Y"],
            unreadNote: "n",
            readError: "e",
          },
        ],
      },
    },
    {
      desc: "an apply-result carrying its snapshot by digest",
      input: { ...result, snapshot: byDigest },
    },
    {
      desc: "… with the reporter's schedule",
      input: { ...result, snapshot: { ...byDigest, schedule } },
    },
    {
      desc: "a schedule with nothing scheduled",
      input: { ...byDigest, schedule: { heal: "next-resync", resyncMs: null, nextResyncAt: null } },
    },
    { desc: "a snapshot by digest", input: byDigest },
    { desc: "a snapshot of no rules at all", input: { ...byDigest, linuxDigest: undefined } },
    {
      desc: "a zero duration, -0 seq",
      input: { ...result, durationMs: 0, snapshot: { ...byDigest, seq: -0 } },
    },
    { desc: "a heartbeat", input: { type: "heartbeat", v: 2, ts: 12 } },
    { desc: "a snapshot naming its chains by digest", input: byChains([chainsFamily]) },
    // Both ways of naming rules: the schema takes it, the digest session refuses it.
    {
      desc: "chains and a whole digest both",
      input: { ...byChains([chainsFamily]), linuxDigest: DIGEST },
    },
    {
      desc: "… with every optional field of a family, two families, in an apply-result",
      input: {
        ...result,
        snapshot: byChains([
          { ...chainsFamily, unread: ["CILIUM_POST_nat"], unreadNote: "n", readError: "e" },
          { ...chainsFamily, family: "ipv6", chains: [] },
        ]),
      },
    },
    {
      desc: "… at its bounds (4 families, 256 chains of 28 characters, notes at their lengths)",
      input: byChains(
        ["ipv4/legacy", "ipv4/nf_tables", "ipv6/legacy", "ipv6/nf_tables"].map((fb) => ({
          ...chainsFamily,
          family: fb.split("/")[0],
          backend: fb.split("/")[1],
          chains: Array.from({ length: 256 }, (_, i) => ref(`${i}`.padEnd(28, "X"))),
          unreadNote: "x".repeat(1024),
          readError: "é".repeat(4096),
        })),
      ),
    },
  ];
  for (const c of accepted) {
    it(`takes ${c.desc}`, () => {
      const input = JSON.parse(JSON.stringify(c.input));
      const want = zod(input);
      expect(want).toBeDefined();
      const got = guardReporterMessage(input);
      expect(got).toEqual(want);
      // Same keys in the same order: the message reads and serializes as zod's would.
      expect(JSON.stringify(got)).toBe(JSON.stringify(want));
    });
  }

  // Each one is zod's to decide: refused, or (Windows, nftables, rule lists) checked by it.
  const left: { desc: string; input: unknown }[] = [
    { desc: "not an object", input: [result] },
    { desc: "null", input: null },
    { desc: "protocol version 1", input: { ...result, v: 1 } },
    { desc: "a hello", input: { type: "hello", v: 2 } },
    { desc: "an unknown type", input: { ...result, type: "boom" } },
    { desc: "an unknown key", input: { ...result, extra: 1 } },
    {
      desc: "a __proto__ key",
      input: JSON.parse(`{"__proto__":{"x":1},${JSON.stringify(result).slice(1)}`),
    },
    { desc: "a negative revision", input: { ...result, revision: -1 } },
    { desc: "a fractional revision", input: { ...result, revision: 1.5 } },
    { desc: "a revision past 2^53", input: { ...result, revision: 2 ** 60 } },
    { desc: "a revision as text", input: { ...result, revision: "3" } },
    { desc: "ok as text", input: { ...result, ok: "true" } },
    { desc: "changed missing", input: { ...result, changed: undefined } },
    {
      desc: "an error past its bound",
      input: { ...result, error: "e".repeat(MAX_APPLY_ERROR_CHARS + 1) },
    },
    { desc: "an error that is not text", input: { ...result, error: 5 } },
    { desc: "a negative duration", input: { ...result, durationMs: -1 } },
    { desc: "a duration as text", input: { ...result, durationMs: "4" } },
    { desc: "an unknown trigger", input: { ...result, trigger: "boot" } },
    {
      desc: "a snapshot of another version",
      input: { ...result, snapshot: { ...byDigest, v: 1 } },
    },
    {
      desc: "a snapshot with an unknown key",
      input: { ...result, snapshot: { ...byDigest, x: 1 } },
    },
    { desc: "a snapshot that is a list", input: { ...result, snapshot: [byDigest] } },
    { desc: "a duration past a day", input: { ...result, durationMs: MAX_APPLY_DURATION_MS + 1 } },
    { desc: "a duration of 1e300 ms", input: { ...result, durationMs: 1e300 } },
    {
      desc: "chains by digest: an unknown key in a family",
      input: byChains([{ ...chainsFamily, x: 1 }]),
    },
    {
      desc: "chains by digest: a repeated chain",
      input: byChains([
        { ...chainsFamily, chains: [...chainsFamily.chains, ref("KUBE-POSTROUTING")] },
      ]),
    },
    {
      desc: "chains by digest: a bad chain name",
      input: byChains([{ ...chainsFamily, chains: [ref("-A")] }]),
    },
    {
      desc: "chains by digest: a chain name past 28 characters",
      input: byChains([{ ...chainsFamily, chains: [ref("X".repeat(29))] }]),
    },
    {
      desc: "chains by digest: a digest in capitals",
      input: byChains([{ ...chainsFamily, chains: [{ name: "A", digest: DIGEST.toUpperCase() }] }]),
    },
    {
      desc: "chains by digest: an unknown family",
      input: byChains([{ ...chainsFamily, family: "ipx" }]),
    },
    {
      desc: "chains by digest: an unknown backend",
      input: byChains([{ ...chainsFamily, backend: "nft" }]),
    },
    { desc: "chains by digest: five families", input: byChains(Array(5).fill(chainsFamily)) },
    {
      desc: "chains by digest: one family and backend twice",
      input: byChains([chainsFamily, { ...chainsFamily, family: "ipv6" }, chainsFamily]),
    },
    {
      desc: "rules whole beside their digest: one family and backend twice",
      input: { ...byDigest, linux: [family, family] },
    },
    {
      desc: "rules whole beside chains by digest: one family and backend twice",
      input: { ...byChains([chainsFamily]), linux: [family, { ...family, chains: [] }] },
    },
    {
      desc: "an apply-result whose snapshot holds one family and backend twice",
      input: { ...result, snapshot: byChains([chainsFamily, chainsFamily]) },
    },
    {
      desc: "chains by digest: 257 chains",
      input: byChains([
        { ...chainsFamily, chains: Array.from({ length: 257 }, (_, i) => ref(`C${i}`)) },
      ]),
    },
    {
      desc: "chains by digest: an unread name that is not a chain name",
      input: byChains([{ ...chainsFamily, unread: ["a b"] }]),
    },
    {
      desc: "chains by digest: a note past its bound",
      input: byChains([{ ...chainsFamily, unreadNote: "x".repeat(1025) }]),
    },
    {
      desc: "chains by digest: a read error past its bound",
      input: byChains([{ ...chainsFamily, readError: "x".repeat(4097) }]),
    },
    { desc: "a digest in capitals", input: { ...byDigest, linuxDigest: DIGEST.toUpperCase() } },
    { desc: "a digest too short", input: { ...byDigest, linuxDigest: "sha256:ab" } },
    { desc: "a digest that is not text", input: { ...byDigest, linuxDigest: 7 } },
    { desc: "a negative seq", input: { ...byDigest, seq: -1 } },
    { desc: "a fractional takenAt", input: { ...byDigest, takenAt: 0.5 } },
    { desc: "appliedRevision missing", input: { ...byDigest, appliedRevision: undefined } },
    {
      desc: "a zero resync interval",
      input: { ...byDigest, schedule: { ...schedule, resyncMs: 0 } },
    },
    {
      desc: "an unknown heal policy",
      input: { ...byDigest, schedule: { ...schedule, heal: "never" } },
    },
    {
      desc: "a schedule with an unknown key",
      input: { ...byDigest, schedule: { ...schedule, x: 1 } },
    },
    {
      desc: "a negative next resync",
      input: { ...byDigest, schedule: { ...schedule, nextResyncAt: -5 } },
    },
    {
      desc: "rules whole without digests",
      input: { ...byDigest, linuxDigest: undefined, linux: [family] },
    },
    {
      desc: "rules whole beside chains by digest, a line of another chain",
      input: {
        ...byChains([chainsFamily]),
        linux: [{ ...family, chains: [{ name: "A", lines: ["-A B x"] }] }],
      },
    },
    {
      desc: "rules whole beside chains by digest, a line holding a newline",
      input: {
        ...byChains([chainsFamily]),
        linux: [{ ...family, chains: [{ name: "A", lines: ["-A A x\n-A A y"] }] }],
      },
    },
    {
      desc: "rules whole beside chains by digest, a chain twice",
      input: {
        ...byChains([chainsFamily]),
        linux: [{ ...family, chains: [...family.chains, ...family.chains] }],
      },
    },
    { desc: "a Windows read", input: { ...byDigest, windows: { path: "/etc/cni", lists: [] } } },
    {
      desc: "an nftables read",
      input: { ...byDigest, nftables: { backend: "nftables", ruleset: [] } },
    },
    { desc: "a heartbeat with a negative time", input: { type: "heartbeat", v: 2, ts: -1 } },
    { desc: "a heartbeat with an unknown key", input: { type: "heartbeat", v: 2, ts: 1, x: 1 } },
  ];
  for (const c of left) {
    it(`leaves ${c.desc} to zod`, () => {
      const input = c.input === null ? null : JSON.parse(JSON.stringify(c.input));
      expect(guardReporterMessage(input)).toBeUndefined();
    });
  }
  it("a connection's decoder answers every frame as zod alone does: the same messages, the same refusals", () => {
    // Frames of another version or none are refused before any schema, as before; a string
    // `revision` is the previous release's name (legacy-revision-names.ts), read first as before.
    const v2 = [...accepted, ...left].filter((c) => (c.input as { v?: unknown } | null)?.v === 2);
    expect(v2.length).toBeGreaterThan(55);
    for (const c of v2) {
      const d = createReporterDecoder();
      expect(d.decode(JSON.stringify(hello)).ok).toBe(true);
      const text = JSON.stringify(c.input);
      expect(d.decode(text), c.desc).toEqual(
        validateMessage(reporterMessageSchema, fromLegacyRevisionNames(JSON.parse(text))),
      );
    }
  });
  it("leaves a key holding undefined to zod (a frame parsed from JSON never has one)", () => {
    expect(guardReporterMessage({ ...result, error: undefined })).toBeUndefined();
  });
});

describe("guardSnapshot with rules already validated", () => {
  const cases: { desc: string; input: unknown; want: "taken" | "zod" }[] = [
    { desc: "an envelope around rules", input: { ...byDigest, linux: [family] }, want: "taken" },
    { desc: "no rules in the frame", input: byDigest, want: "zod" },
    {
      desc: "an unknown key beside the rules",
      input: { ...byDigest, linux: [], x: 1 },
      want: "zod",
    },
    {
      desc: "a bad seq beside the rules",
      input: { ...byDigest, linux: [], seq: "1" },
      want: "zod",
    },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const got = guardSnapshot(JSON.parse(JSON.stringify(c.input)), [family]);
      if (c.want === "zod") return expect(got).toBeUndefined();
      expect(got).toEqual({ ...byDigest, linux: [family] });
      expect(got?.linux?.[0]).toBe(family); // the validated objects themselves
    });
  }
});

describe("the guards follow the schemas", () => {
  const keys = (shape: object) => new Set(Object.keys(shape));
  const table: { desc: string; input: ReadonlySet<unknown>; want: Set<unknown> }[] = [
    { desc: "snapshot keys", input: GUARDED_KEYS.snapshot, want: keys(snapshotSchema.shape) },
    {
      desc: "apply-result keys",
      input: GUARDED_KEYS.applyResult,
      want: keys(applyResultSchema.shape),
    },
    { desc: "heartbeat keys", input: GUARDED_KEYS.heartbeat, want: keys(heartbeatSchema.shape) },
    { desc: "schedule keys", input: GUARDED_KEYS.schedule, want: keys(resyncScheduleSchema.shape) },
    { desc: "family keys", input: GUARDED_KEYS.family, want: keys(familySnapshotSchema.shape) },
    { desc: "chain keys", input: GUARDED_KEYS.chain, want: keys(chainSnapshotSchema.shape) },
  ];
  for (const c of table)
    it(`${c.desc}: a field added to the schema fails here until the guard checks it`, () => {
      expect(c.input).toEqual(c.want);
    });
});

describe("chains by digest: the guard agrees with zod on generated frames", () => {
  const name = fc.oneof(
    fc.constantFrom("POSTROUTING", "IP-MASQ-AGENT", "KUBE-POSTROUTING", "FLANNEL-POSTRTG"),
    fc.string({ maxLength: 30 }),
  );
  const digest = fc.oneof(fc.constant(DIGEST), fc.string({ maxLength: 72 }));
  const familyArb = fc.record(
    {
      family: fc.constantFrom("ipv4", "ipv6", "ipx"),
      backend: fc.constantFrom("legacy", "nf_tables", "nft"),
      chains: fc.array(fc.record({ name, digest }), { maxLength: 6 }),
      unread: fc.array(name, { maxLength: 3 }),
      unreadNote: fc.string({ maxLength: 8 }),
      readError: fc.string({ maxLength: 8 }),
    },
    { requiredKeys: ["family", "backend", "chains"] },
  );
  it("takes a frame only as zod takes it, and takes every well-formed one", () => {
    fc.assert(
      fc.property(fc.array(familyArb, { maxLength: 5 }), (families) => {
        const input = JSON.parse(JSON.stringify(byChains(families)));
        const want = zod(input);
        const got = guardReporterMessage(input);
        if (want === undefined) expect(got).toBeUndefined();
        else expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("rules whole beside their digests: the guard agrees with zod on generated frames", () => {
  const name = fc.constantFrom("POSTROUTING", "IP-MASQ-AGENT", "KUBE-X", "-N", "a b", "");
  /** Lines of the chain, of another, malformed, with a newline. */
  const line = (n: string) =>
    fc.oneof(
      fc.constant(`-N ${n}`),
      fc.constant(`-A ${n} -d 10.0.0.0/8 -j RETURN`),
      fc.constant(`-P ${n} ACCEPT`),
      fc.constant(`-A ${n} x\n-A ${n} y`),
      fc.constant("-A OTHER -j RETURN"),
      fc.string({ maxLength: 12 }),
    );
  const chain = name.chain((n) =>
    fc.record({
      name: fc.constant(n),
      lines: fc.oneof(fc.constant(null), fc.array(line(n), { maxLength: 4 })),
    }),
  );
  const familyArb = fc.record(
    {
      family: fc.constantFrom("ipv4", "ipv6", "ipx"),
      backend: fc.constantFrom("legacy", "nf_tables", "nft"),
      chains: fc.array(chain, { maxLength: 5 }),
      unread: fc.array(name, { maxLength: 2 }),
      unreadNote: fc.string({ maxLength: 8 }),
      readError: fc.string({ maxLength: 8 }),
    },
    { requiredKeys: ["family", "backend", "chains"] },
  );
  it("takes a frame only as zod takes it, and takes every well-formed one", () => {
    fc.assert(
      fc.property(fc.array(familyArb, { maxLength: 3 }), fc.boolean(), (linux, perChain) => {
        const frame = perChain ? { ...byChains([chainsFamily]), linux } : { ...byDigest, linux };
        const input = JSON.parse(JSON.stringify(frame));
        const want = zod(input);
        const got = guardReporterMessage(input);
        if (want === undefined) expect(got).toBeUndefined();
        else expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      }),
      { numRuns: 2000 },
    );
  });

  it("takes well-formed frames (the generator reaches them)", () => {
    const taken = fc
      .sample(fc.array(familyArb, { maxLength: 2 }), { numRuns: 2000, seed: 1 })
      .filter((linux) => guardReporterMessage({ ...byDigest, linux }) !== undefined);
    expect(taken.length).toBeGreaterThan(20);
  });
});
