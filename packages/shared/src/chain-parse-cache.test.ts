// ChainParseCache: the parse of a snapshot chain by chain equals the parse of its joined text,
// and the cache's keys and bounds.
import { describe, expect, it } from "vitest";
import { ChainParseCache, type ChainParseCacheLimits } from "./chain-parse-cache.js";
import { parseIptables } from "./parser.js";
import type { FamilySnapshot } from "./protocol.js";
import { snapshotText } from "./snapshot.js";

const POST = { name: "POSTROUTING", lines: ["-P POSTROUTING ACCEPT", "-A POSTROUTING -j A"] };
const chainA = (cidr: string) => ({ name: "A", lines: ["-N A", `-A A -d ${cidr} -j RETURN`] });
const snap = (...chains: FamilySnapshot["chains"]): FamilySnapshot => ({
  family: "ipv4",
  backend: "nf_tables",
  chains,
});

describe("ChainParseCache.parse", () => {
  const cases: { desc: string; input: FamilySnapshot }[] = [
    { desc: "chains one after another", input: snap(POST, chainA("10.0.0.0/8")) },
    { desc: "an empty chain takes one line", input: snap({ name: "E", lines: [] }, POST) },
    {
      desc: "a chain that does not exist takes none",
      input: snap({ name: "N", lines: null }, POST),
    },
    {
      desc: "a line with a newline in it is two lines",
      input: snap({ name: "A", lines: ["-N A", "-A A -j RETURN\n-A A -s 1.2.3.4"] }, POST),
    },
    {
      desc: "a chain listed twice: its rules in order, one chain",
      input: snap(chainA("10.0.0.0/8"), POST, chainA("192.0.2.0/24")),
    },
    {
      desc: "lines of another chain inside a chain's lines",
      input: snap(
        { name: "A", lines: ["-N A", "-A POSTROUTING -j ACCEPT", "-P POSTROUTING DROP"] },
        POST,
      ),
    },
    {
      desc: "a table header changes the next chains' table: parsed whole",
      input: snap({ name: "A", lines: ["-N A", " *filter"] }, POST),
    },
    {
      desc: "unreadable lines keep their numbers",
      input: snap(POST, { name: "A", lines: ["-N A", '-A A -d "x', "-I A -j ACCEPT", "nonsense"] }),
    },
  ];
  for (const { desc, input } of cases)
    it(desc, () => {
      const want = parseIptables(snapshotText(input), "nat");
      const cache = new ChainParseCache();
      expect(cache.parse(input)).toStrictEqual(want);
      expect(cache.parse(input), "from the cache").toStrictEqual(want);
    });
});

/** One chain's lines array, met again in later snapshots (rules by digest keep it). */
const SHARED_A = chainA("10.2.0.0/16");
/** 70 characters of key: over an eighth of 400. */
const LONG_B = { name: "B", lines: ["-N B", `-A B -m comment --comment ${"x".repeat(30)}`] };

describe("ChainParseCache keys and bounds", () => {
  const cases: {
    desc: string;
    input: { limits?: Partial<ChainParseCacheLimits>; chain?: string; snaps: FamilySnapshot[] };
    want: { entries: number; shared: boolean };
  }[] = [
    {
      desc: "the same chain text at the same line: one entry, parsed rules shared",
      input: { snaps: [snap(POST, chainA("10.0.0.0/8")), snap(POST, chainA("10.0.0.0/8"))] },
      want: { entries: 2, shared: true },
    },
    {
      desc: "the same text at another line: its own entry (rules carry their line numbers)",
      input: {
        snaps: [
          snap(POST, chainA("10.0.0.0/8")),
          snap({ name: "E", lines: [] }, POST, chainA("10.0.0.0/8")),
        ],
      },
      want: { entries: 5, shared: false },
    },
    {
      desc: "the same text in the other family: its own entry (rules compile per family)",
      input: {
        snaps: [
          snap(POST, chainA("10.0.0.0/8")),
          { ...snap(POST, chainA("10.0.0.0/8")), family: "ipv6" },
        ],
      },
      want: { entries: 4, shared: false },
    },
    {
      desc: "the same lines array again: the same parse, even once its text left the cache",
      input: {
        limits: { maxEntries: 1 },
        snaps: [snap(SHARED_A), snap({ name: "B", lines: ["-N B"] }), snap(SHARED_A)],
      },
      want: { entries: 1, shared: true },
    },
    {
      desc: "the same lines array at another line: parsed for that line",
      input: { snaps: [snap(SHARED_A), snap({ name: "E", lines: [] }, SHARED_A)] },
      want: { entries: 3, shared: false },
    },
    {
      desc: "entries bounded: the least recently used dropped",
      input: {
        limits: { maxEntries: 2 },
        snaps: [
          snap(POST, chainA("10.0.0.0/8")),
          snap(chainA("10.1.0.0/16")),
          snap(chainA("10.0.0.0/8")),
        ],
      },
      want: { entries: 2, shared: false },
    },
    {
      desc: "characters bounded; a text over an eighth of them is never kept",
      input: {
        limits: { maxChars: 400 },
        chain: "B",
        snaps: [snap(POST, LONG_B), snap(POST, { ...LONG_B, lines: [...LONG_B.lines] })],
      },
      want: { entries: 1, shared: false },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const cache = new ChainParseCache(input.limits);
      const results = input.snaps.map((s) => cache.parse(s));
      const name = input.chain ?? "A";
      const last = results[results.length - 1]!.ruleset.tables.get("nat")?.get(name);
      const first = results[0]!.ruleset.tables.get("nat")?.get(name);
      expect({ entries: cache.size.entries, shared: first === last }).toStrictEqual(want);
      expect(cache.size.chars).toBeLessThanOrEqual(
        input.limits?.maxChars ?? Number.POSITIVE_INFINITY,
      );
    });
});
