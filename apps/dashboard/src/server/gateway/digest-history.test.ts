// Capability `digest-history` on the dashboard's side: a connection holds the rules of its last
// DIGEST_HISTORY_SNAPSHOTS distinct resolved snapshots (each chain, or the whole part), so a
// node toggled back to a recent state resolves with no request even when the shared cache no
// longer holds it; one not granted it holds its last snapshot's alone, as before.
import { sha256 } from "@masq/node-util";
import {
  type ChainSnapshot,
  chainDigest,
  DIGEST_HISTORY_SNAPSHOTS,
  type FamilySnapshot,
  linuxChainDigests,
  linuxRulesDigest,
  RulesDigestCache,
  type Snapshot,
} from "@masq/shared";
import { rulesState, snapshotEnvelope } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { type DigestMode, type Resolved, SnapshotDigests } from "./snapshot-digests.js";

const linux = rulesState;
const chainsOf = (rules: FamilySnapshot[]) =>
  linuxChainDigests(rules, (c: ChainSnapshot) => chainDigest(c, (t) => sha256(t)));
const partOf = (rules: FamilySnapshot[]) => linuxRulesDigest(rules, (t) => sha256(t));

/** State `n` as the reporter sends it: whole with its digests beside, or by digest alone. */
function msg(mode: "chains" | "part", seq: number, n: number, whole: boolean): Snapshot {
  const rules = linux(n);
  const named =
    mode === "chains" ? { linuxChains: chainsOf(rules) } : { linuxDigest: partOf(rules) };
  return { ...snapshotEnvelope(seq), ...named, ...(whole ? { linux: rules } : {}) };
}

type Out = "whole" | "unknown+request" | "unknown" | "refused" | "stale";
const outcome = (r: Resolved): Out =>
  r.kind === "unknown" && r.request ? "unknown+request" : r.kind;

/**
 * A session whose shared caches hold one entry: what resolves comes from the connection's own
 * snapshots (the shared cache of a large fleet evicts a node's own chains as well).
 */
function sessionOf(mode: DigestMode, history: boolean) {
  const digests = new SnapshotDigests(
    new RulesDigestCache<FamilySnapshot[]>({ maxEntries: 1 }),
    undefined,
    new RulesDigestCache<ChainSnapshot>({ maxEntries: 1 }),
  );
  return digests.session(mode, history);
}

/** States sent whole (`W`), then by digest: `[n, "W"]` whole, `n` by digest. */
type Step = number | [number, "W"];

describe("a connection's last snapshots, held for digests", () => {
  const K = DIGEST_HISTORY_SNAPSHOTS;
  const states = (count: number): Step[] => Array.from({ length: count }, (_, i) => [i, "W"]);
  const cases: {
    desc: string;
    input: { mode: "chains" | "part"; history: boolean; steps: Step[] };
    want: Out[];
  }[] = [
    {
      desc: "A → B → A: A resolves from the connection, no request",
      input: { mode: "chains", history: true, steps: [[0, "W"], [1, "W"], 0, 1] },
      want: ["whole", "whole", "whole", "whole"],
    },
    {
      desc: `a state ${K} distinct snapshots back still resolves`,
      input: { mode: "chains", history: true, steps: [...states(K), 0] },
      want: [...Array(K).fill("whole"), "whole"],
    },
    {
      desc: `a state ${K + 1} distinct snapshots back is not held: unknown, asked for`,
      input: { mode: "chains", history: true, steps: [...states(K + 1), 0] },
      want: [...Array(K + 1).fill("whole"), "unknown+request"],
    },
    {
      desc: "a state resolved again moves up: the least recently resolved goes first",
      input: {
        mode: "chains",
        history: true,
        // 0 again after 1: then 2, 3, 4 drop 1, not 0
        steps: [[0, "W"], [1, "W"], 0, ...states(K + 1).slice(2), 0],
      },
      want: [...Array(K + 2).fill("whole"), "whole"],
    },
    {
      desc: "the same again and again takes no place: an older state still resolves",
      input: { mode: "chains", history: true, steps: [[0, "W"], [1, "W"], 1, 1, 1, 1, 1, 0] },
      want: Array(8).fill("whole"),
    },
    {
      desc: "not granted (a reporter of an earlier release): the last snapshot alone, as before",
      input: { mode: "chains", history: false, steps: [[0, "W"], [1, "W"], 0] },
      want: ["whole", "whole", "unknown+request"],
    },
    {
      desc: "the whole part by one digest: A → B → A resolves the same",
      input: { mode: "part", history: true, steps: [[0, "W"], [1, "W"], 0, 1] },
      want: ["whole", "whole", "whole", "whole"],
    },
    {
      desc: `the whole part: ${K + 1} distinct snapshots back is not held`,
      input: { mode: "part", history: true, steps: [...states(K + 1), 0] },
      want: [...Array(K + 1).fill("whole"), "unknown+request"],
    },
    {
      desc: "the whole part, not granted: the last snapshot alone, as before",
      input: { mode: "part", history: false, steps: [[0, "W"], [1, "W"], 0] },
      want: ["whole", "whole", "unknown+request"],
    },
    {
      desc: "a snapshot not resolved takes no place: the states before it stay held",
      input: {
        mode: "chains",
        history: true,
        steps: [...states(K), 9, 0, 9],
      },
      want: [...Array(K).fill("whole"), "unknown+request", "whole", "unknown"],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const s = sessionOf(input.mode, input.history);
    const got = input.steps.map((step, seq) => {
      const [n, whole] = Array.isArray(step) ? [step[0], true] : [step, false];
      const r = s.resolve(msg(input.mode, seq, n, whole), 0);
      if (r.kind === "whole") expect(r.msg.linux).toEqual(linux(n));
      return outcome(r);
    });
    expect(got).toEqual(want);
  });

  it.each(["chains", "part"] as const)(
    "%s: holds at most DIGEST_HISTORY_SNAPSHOTS snapshots, one while they do not change",
    (mode) => {
      const s = sessionOf(mode, true);
      for (let seq = 0; seq < 5; seq++) s.resolve(msg(mode, seq, 0, seq === 0), 0);
      expect(s.snapshotsHeld).toBe(1);
      for (let n = 1; n < 3 * K; n++) s.resolve(msg(mode, 10 + n, n, true), 0);
      expect(s.snapshotsHeld).toBe(K);
      const once = sessionOf(mode, false);
      for (let n = 0; n < 3; n++) once.resolve(msg(mode, n, n, true), 0);
      expect(once.snapshotsHeld).toBe(1);
    },
  );
});
