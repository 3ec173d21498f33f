// Two backends: the combiner never drops branches silently, and a mark one backend sets that
// the other tests makes the answer depend on the order of their nat hooks.
import { describe, expect, it } from "vitest";
import { parseIptables } from "../parser.js";
import type { IptablesBackend } from "../protocol.js";
import { evaluateAcrossBackends, MAX_COMBINED_OUTCOMES } from "./backends.js";
import { analyzeRuleset } from "./ruleset.js";
import type { FamilyAnalysis } from "./types.js";

const backend = (rules: string[], b: IptablesBackend): FamilyAnalysis =>
  analyzeRuleset(
    parseIptables(["*nat", ":POSTROUTING ACCEPT [0:0]", ...rules, "COMMIT", ""].join("\n")).ruleset,
    "ipv4",
    "IP-MASQ-AGENT",
    { backend: b },
  );

/** n RETURNs on distinct interfaces: n + 1 branches, none NATs. */
const returns = (flag: string, n: number) =>
  Array.from({ length: n }, (_, i) => `-A POSTROUTING ${flag} eth${i} -j RETURN`);

const cases: {
  desc: string;
  input: FamilyAnalysis[];
  want: { masqueraded: boolean | null; unknown?: string; lastResult?: string };
}[] = [
  {
    desc: `past ${MAX_COMBINED_OUTCOMES} combined branches the answer is unknown, and says so`,
    input: [backend(returns("-o", 20), "legacy"), backend(returns("-i", 20), "nf_tables")],
    want: { masqueraded: null, unknown: "bound", lastResult: "unknown" },
  },
  {
    desc: "within the bound, branches that agree give a certain answer",
    input: [backend(returns("-o", 10), "legacy"), backend(returns("-i", 10), "nf_tables")],
    want: { masqueraded: false },
  },
  {
    desc: "legacy sets a mark that nf_tables tests: depends on the hook order",
    input: [
      backend(["-A POSTROUTING -o eth1 -j MARK --set-xmark 0x4000/0x4000"], "legacy"),
      backend(["-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE"], "nf_tables"),
    ],
    want: { masqueraded: null, unknown: "hook-order" },
  },
  {
    desc: "a mark set and tested in the same backend is followed there: certain",
    input: [
      backend(
        [
          "-A POSTROUTING -j MARK --set-xmark 0x4000/0x4000",
          "-A POSTROUTING -m mark --mark 0x4000/0x4000 -j MASQUERADE",
        ],
        "legacy",
      ),
      backend([], "nf_tables"),
    ],
    want: { masqueraded: true },
  },
];

describe("evaluateAcrossBackends: bounds and hook order", () => {
  for (const c of cases)
    it(c.desc, () => {
      const v = evaluateAcrossBackends(c.input, "198.51.100.2", { mark: 0 });
      if ("error" in v) throw new Error(v.error);
      expect(v.masqueraded).toBe(c.want.masqueraded);
      if (c.want.unknown) expect(v.unknowns.map((u) => u.kind)).toContain(c.want.unknown);
      else expect(v.unknowns).toEqual([]);
      if (c.want.lastResult) expect(v.outcomes.at(-1)?.result).toBe(c.want.lastResult);
      if (c.want.unknown === "hook-order") expect(v.reason).toMatch(/which nat hook runs first/);
    });
});
