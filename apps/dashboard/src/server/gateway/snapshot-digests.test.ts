import { sha256 } from "@masq/node-util";
import {
  type FamilySnapshot,
  linuxRulesDigest,
  RulesDigestCache,
  type Snapshot,
  snapshotSchema,
} from "@masq/shared";
import { snapshotEnvelope } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { REQUEST_RETRY_MS, SnapshotDigests, withRules } from "./snapshot-digests.js";

const linux = (cidr = "10.0.0.0/8"): FamilySnapshot[] => [
  {
    family: "ipv4",
    backend: "nf_tables",
    chains: [
      { name: "POSTROUTING", lines: postroutingS() },
      { name: "IP-MASQ-AGENT", lines: chainS([cidr]) },
    ],
  },
];
const digestOf = (l: FamilySnapshot[]) => linuxRulesDigest(l, (t) => sha256(t));
const A = digestOf(linux());
const B = digestOf(linux("10.1.0.0/16"));
const envelope = snapshotEnvelope;
/** Rules whole, with the digest the reporter claims for them. */
const whole = (seq: number, claimed = A, rules = linux()): Snapshot => ({
  ...envelope(seq),
  linux: rules,
  linuxDigest: claimed,
});
const byDigest = (seq: number, d = A): Snapshot => ({ ...envelope(seq), linuxDigest: d });

/** The rules a snapshot stands for: its own, else those of its digest (all A's or B's here). */
function rulesMeant(msg: Snapshot): FamilySnapshot[] | undefined {
  if (msg.linux) return msg.linux;
  return msg.linuxDigest === undefined ? undefined : linux();
}

type Step = { conn: "a" | "b"; msg: Snapshot; at?: number };
type Out = "whole" | "unknown+request" | "unknown" | "refused" | "stale";

describe("snapshots resolved by digest", () => {
  const cases: { desc: string; input: { granted?: boolean; steps: Step[] }; want: Out[] }[] = [
    {
      desc: "a digest nobody sent whole: unknown, asked for once",
      input: { steps: [{ conn: "a", msg: byDigest(1) }] },
      want: ["unknown+request"],
    },
    {
      desc: "after one node sent it whole, another node's digest is known",
      input: {
        steps: [
          { conn: "a", msg: whole(1) },
          { conn: "b", msg: byDigest(1) },
        ],
      },
      want: ["whole", "whole"],
    },
    {
      desc: "rules that do not match their digest are refused, and not kept",
      input: {
        steps: [
          { conn: "a", msg: whole(1, A, linux("10.9.0.0/16")) },
          { conn: "b", msg: byDigest(1) },
        ],
      },
      want: ["refused", "unknown+request"],
    },
    {
      desc: "unknown digests again and again: one request per REQUEST_RETRY_MS",
      input: {
        steps: [
          { conn: "a", msg: byDigest(1), at: 0 },
          { conn: "a", msg: byDigest(2, B), at: 10 },
          { conn: "a", msg: byDigest(3), at: REQUEST_RETRY_MS - 1 },
          { conn: "a", msg: byDigest(4), at: REQUEST_RETRY_MS },
        ],
      },
      want: ["unknown+request", "unknown", "unknown", "unknown+request"],
    },
    {
      desc: "the rules sent whole end the wait: the next unknown digest is asked for at once",
      input: {
        steps: [
          { conn: "a", msg: byDigest(1, B), at: 0 },
          { conn: "a", msg: whole(2), at: 1 },
          { conn: "a", msg: byDigest(3, B), at: 2 },
        ],
      },
      want: ["unknown+request", "whole", "unknown+request"],
    },
    {
      // break8: a reporter of this merge answered a request that crossed a snapshot without
      // rules (nothing to name) with its older snapshot: never judged over the newer one.
      desc: "a snapshot older than one already taken on the connection: not judged",
      input: {
        steps: [
          { conn: "a", msg: byDigest(1, B), at: 0 },
          { conn: "a", msg: envelope(2), at: 1 },
          { conn: "a", msg: whole(1), at: 2 },
        ],
      },
      want: ["unknown+request", "whole", "stale"],
    },
    {
      desc: "a digest on a connection not granted digests is refused",
      input: { granted: false, steps: [{ conn: "a", msg: byDigest(1) }] },
      want: ["refused"],
    },
    {
      desc: "a snapshot without a digest passes as it is (an old reporter's)",
      input: { granted: false, steps: [{ conn: "a", msg: { ...envelope(1), linux: linux() } }] },
      want: ["whole"],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const digests = new SnapshotDigests();
    const sessions = { a: digests.session(input.granted ?? true), b: digests.session(true) };
    const got = input.steps.map(({ conn, msg, at }) => {
      const r = sessions[conn].resolve(msg, at ?? 0);
      if (r.kind === "whole") {
        expect(r.msg).not.toHaveProperty("linuxDigest");
        expect(r.msg.linux).toEqual(rulesMeant(msg));
        expect(r.msg.seq).toBe(msg.seq);
      }
      if (r.kind === "unknown") expect(r.envelope).toEqual(envelope(msg.seq));
      return r.kind === "unknown" && r.request ? "unknown+request" : r.kind;
    });
    expect(got).toEqual(want);
  });

  it("a connection's own last rules resolve even when the shared cache evicted them", () => {
    const digests = new SnapshotDigests(new RulesDigestCache({ maxEntries: 1 }));
    const [a, b] = [digests.session(true), digests.session(true)];
    expect(a.resolve(whole(1), 0).kind).toBe("whole");
    expect(b.resolve(whole(1, B, linux("10.1.0.0/16")), 0).kind).toBe("whole"); // evicts A
    expect(a.resolve(byDigest(2), 0).kind).toBe("whole");
    expect(digests.stats()).toMatchObject({ held: 1, hits: 0 });
  });
});

describe("withRules: a snapshot without its digest, holding the rules given", () => {
  const schedule = { heal: "immediate", resyncMs: 60_000, nextResyncAt: 61_000 } as const;
  const cases: {
    desc: string;
    input: { msg: Snapshot; linux: FamilySnapshot[] | undefined };
    want: Snapshot;
  }[] = [
    {
      desc: "a snapshot by digest, given the rules held",
      input: { msg: byDigest(3), linux: linux() },
      want: { ...envelope(3), linux: linux() },
    },
    {
      desc: "its envelope (rules not known)",
      input: { msg: { ...byDigest(3), schedule }, linux: undefined },
      want: { ...envelope(3), schedule },
    },
    {
      desc: "rules sent whole replaced by the ones checked",
      input: { msg: whole(5, A, linux("10.9.0.0/16")), linux: linux() },
      want: { ...envelope(5), linux: linux() },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      expect(withRules(c.input.msg, c.input.linux)).toEqual(c.want);
    });
  it("keeps every field of the schema but the digests (a new field fails here until kept)", () => {
    const every = Object.fromEntries(
      Object.keys(snapshotSchema.shape).map((k) => [k, `value of ${k}`]),
    ) as unknown as Snapshot;
    const { linuxDigest: _, linuxChains: __, ...want } = every;
    expect(withRules(every, every.linux)).toEqual(want);
  });
});
