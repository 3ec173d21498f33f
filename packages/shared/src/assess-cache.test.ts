// The cached way of judging nodes (assessLinux with one AssessCache for all of them) gives the
// answer the straightforward way gives (no cache), on generated nodes whose rules are their
// own, on damaged snapshots (table headers, repeated chains, lines of another chain, unreadable
// lines, embedded newlines, two backends) and on every fixture node; and the desired chain's
// cache keys and bound.
import * as dumps from "@masq/testkit/node-dumps";
import { OWN_RULE_KINDS, ownRulesSnapshot } from "@masq/testkit/own-rules-nodes";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assessLinux, evaluateSnapshots } from "./assess.js";
import { AssessCache, MAX_DESIRED_CHAINS } from "./assess-cache.js";
import type { Family } from "./cidr.js";
import { type AgentFlags, DEFAULT_FLAGS, defaultConfig, type MasqConfig } from "./config.js";
import { type ParsedChain, parseIptables } from "./parser.js";
import type { FamilySnapshot } from "./protocol.js";

const BASE = defaultConfig();
const CONFIGS: MasqConfig[] = [
  BASE,
  { ...BASE, nonMasqueradeCIDRs: [...BASE.nonMasqueradeCIDRs, "100.64.0.0/10"] },
  { ...BASE, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqLinkLocal: true },
  { ...BASE, nonMasqueradeCIDRs: ["10.0.0.0/8"], masqueradeCIDRs: ["10.128.0.0/9"] },
  { ...BASE, nonMasqueradeCIDRs: ["10.0.0.0/8", "fd00::/8"], masqLinkLocalIPv6: true },
];
const FLAGS: AgentFlags[] = [
  DEFAULT_FLAGS,
  { ...DEFAULT_FLAGS, randomFully: false },
  { ...DEFAULT_FLAGS, enableIPv6: true },
];

/** A fixture's iptables-save text as a reporter's snapshot: each chain's `-S` lines. */
function snapshotOfSave(text: string, family: Family = "ipv4"): FamilySnapshot {
  const nat = parseIptables(text).ruleset.tables.get("nat") ?? new Map<string, ParsedChain>();
  const chains = [...nat.values()].map((c) => ({
    name: c.name,
    lines: [c.policy ? `-P ${c.name} ${c.policy}` : `-N ${c.name}`, ...c.rules.map((r) => r.text)],
  }));
  return { family, backend: "nf_tables", chains };
}

/** Damage to a generated snapshot, each a case where parsing chain by chain could go wrong. */
const DAMAGE = [
  "none",
  "table-header",
  "repeated-chain",
  "foreign-line",
  "unreadable",
  "embedded-newline",
  "empty-and-null",
  "policy-line",
  "unread",
] as const;

function damaged(
  snap: FamilySnapshot,
  damage: (typeof DAMAGE)[number],
  at: number,
): FamilySnapshot {
  const chains = snap.chains.map((c) => ({ ...c, lines: c.lines && [...c.lines] }));
  const c = chains[at % chains.length]!;
  const lines = c.lines ?? [];
  switch (damage) {
    case "table-header":
      lines.splice(1, 0, "*filter");
      break;
    case "repeated-chain":
      chains.push({ name: c.name, lines: [`-A ${c.name} -d 198.51.100.0/24 -j RETURN`] });
      break;
    case "foreign-line":
      lines.push("-A KUBE-POSTROUTING -d 203.0.113.7/32 -j ACCEPT", "-A NEW-CHAIN -j MASQUERADE");
      break;
    case "unreadable":
      lines.push(`-A ${c.name} -d "unterminated -j RETURN`, "-I POSTROUTING -j ACCEPT", "bogus");
      break;
    case "embedded-newline":
      lines.push(`-A ${c.name} -d 192.0.2.0/24 -j RETURN\n-A ${c.name} -j ACCEPT`);
      break;
    case "empty-and-null":
      chains.splice(1, 0, { name: "EMPTY", lines: [] }, { name: "GONE", lines: null });
      break;
    case "policy-line":
      lines.push(`-P ${c.name} DROP`, `:${c.name} ACCEPT [0:0]`);
      break;
    case "unread":
      return { ...snap, chains, unread: ["KUBE-POSTROUTING"], unreadNote: "bound" };
  }
  if (c.lines) c.lines = lines;
  return { ...snap, chains };
}

const node = fc.record({
  kind: fc.constantFrom(...OWN_RULE_KINDS),
  i: fc.integer({ min: 0, max: 32_767 }),
  applied: fc.integer({ min: 0, max: CONFIGS.length - 1 }),
  damage: fc.constantFrom(...DAMAGE),
  at: fc.nat(),
  legacy: fc.boolean(),
});

/** Both ways of judging, as JSON-comparable values (bigints and Maps kept by toStrictEqual). */
function both(cache: AssessCache, config: MasqConfig, flags: AgentFlags, snaps: FamilySnapshot[]) {
  return {
    cached: assessLinux(config, flags, snaps, cache),
    reference: assessLinux(config, flags, snaps),
  };
}

describe("assessLinux with an AssessCache", () => {
  it("answers as without one, for generated nodes whose rules are their own", () => {
    const cache = new AssessCache({ maxEntries: 64, maxChars: 20_000 });
    fc.assert(
      fc.property(
        fc.array(node, { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: CONFIGS.length - 1 }),
        fc.constantFrom(...FLAGS),
        (nodes, desired, flags) => {
          for (const n of nodes) {
            const snap = damaged(
              ownRulesSnapshot(n.kind, n.i, CONFIGS[n.applied]!),
              n.damage,
              n.at,
            );
            const snaps = n.legacy
              ? [snap, { ...ownRulesSnapshot(n.kind, n.i + 1, BASE), backend: "legacy" as const }]
              : [snap];
            const { cached, reference } = both(cache, CONFIGS[desired]!, flags, snaps);
            expect(cached).toStrictEqual(reference);
            // The same lines arrays again, and as the other family's (found by array, checked).
            const twin = { ...snap, family: "ipv6" as const };
            const again = both(cache, CONFIGS[desired]!, FLAGS[2]!, [twin, ...snaps]);
            expect(again.cached).toStrictEqual(again.reference);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("answers as without one for every fixture node, in both families, judged twice", () => {
    const cache = new AssessCache();
    const texts = Object.values(dumps).filter((v): v is string => typeof v === "string");
    const fixtures = [...texts, dumps.bridgePodsNode(3)].filter((t) => t.includes("-A "));
    expect(fixtures.length).toBeGreaterThan(10);
    for (const round of [1, 2])
      for (const text of fixtures)
        for (const config of CONFIGS) {
          const v4 = snapshotOfSave(text);
          const v6 = snapshotOfSave(text, "ipv6");
          const flags = FLAGS[2]!;
          const { cached, reference } = both(cache, config, flags, [v4, v6]);
          expect(cached, `round ${round}`).toStrictEqual(reference);
        }
  });

  it("shares nothing a later node changes: nodes differing only in their own rules", () => {
    // Parts of answers (desired side, conditions, compiled rules) are shared between nodes:
    // each answer is copied when made and must read the same after every other node's.
    for (const kind of OWN_RULE_KINDS) {
      const cache = new AssessCache();
      const made = CONFIGS.flatMap((config, c) =>
        [0, 1, 2, 300].map((i) => {
          const a = assessLinux(config, FLAGS[c % 2]!, [ownRulesSnapshot(kind, i, config)], cache);
          return { a, copy: structuredClone(a) };
        }),
      );
      for (const { a, copy } of made) expect(a, kind).toStrictEqual(copy);
    }
  });

  it("leaves the tester's answers as they were (evaluateSnapshots never uses the cache)", () => {
    const cache = new AssessCache();
    const snap = ownRulesSnapshot("flannel", 7, BASE);
    assessLinux(BASE, DEFAULT_FLAGS, [snap], cache);
    expect(evaluateSnapshots([snap], "IP-MASQ-AGENT", "10.128.7.9")).toStrictEqual(
      evaluateSnapshots([ownRulesSnapshot("flannel", 7, BASE)], "IP-MASQ-AGENT", "10.128.7.9"),
    );
  });
});

describe("AssessCache.desired", () => {
  const edited = { ...BASE, nonMasqueradeCIDRs: ["10.0.0.0/8"] };
  const cases: { desc: string; input: [MasqConfig, AgentFlags, Family][]; want: "same" | "new" }[] =
    [
      {
        desc: "an equal config in another object: the same desired chain",
        input: [
          [BASE, DEFAULT_FLAGS, "ipv4"],
          [defaultConfig(), { ...DEFAULT_FLAGS }, "ipv4"],
        ],
        want: "same",
      },
      {
        desc: "another config: a new desired chain",
        input: [
          [BASE, DEFAULT_FLAGS, "ipv4"],
          [edited, DEFAULT_FLAGS, "ipv4"],
        ],
        want: "new",
      },
      {
        desc: "other flags: a new desired chain",
        input: [
          [BASE, DEFAULT_FLAGS, "ipv4"],
          [BASE, { ...DEFAULT_FLAGS, randomFully: false }, "ipv4"],
        ],
        want: "new",
      },
      {
        desc: "the other family: a new desired chain",
        input: [
          [BASE, DEFAULT_FLAGS, "ipv4"],
          [BASE, DEFAULT_FLAGS, "ipv6"],
        ],
        want: "new",
      },
    ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const cache = new AssessCache();
      const [a, b] = input.map(([c, f, fam]) => cache.desired(c, f, fam));
      expect(a === b ? "same" : "new").toBe(want);
    });

  it("keeps at most MAX_DESIRED_CHAINS, the oldest dropped first", () => {
    const cache = new AssessCache();
    const first = cache.desired(BASE, DEFAULT_FLAGS, "ipv4");
    for (let i = 0; i < MAX_DESIRED_CHAINS; i++)
      cache.desired({ ...BASE, nonMasqueradeCIDRs: [`10.${i}.0.0/16`] }, DEFAULT_FLAGS, "ipv4");
    expect(cache.desired(BASE, DEFAULT_FLAGS, "ipv4")).not.toBe(first);
    expect(cache.desired(BASE, DEFAULT_FLAGS, "ipv4")).toStrictEqual(first);
  });
});
