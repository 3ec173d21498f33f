// Properties of the path evaluator over random agent chains.

import { JUMP, masq, ret } from "@masq/testkit/iptables-text";
import { natSave } from "@masq/testkit/node-dumps";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { iptablesAddress } from "../cidr.js";
import { parseIptables } from "../parser.js";
import { cidrRange } from "../path/range-set.js";
import { evaluate, type Verdict } from "./evaluate.js";
import { analyzeRuleset } from "./ruleset.js";

const octet = fc.integer({ min: 0, max: 255 });
const anyIp = fc.tuple(octet, octet, octet, octet).map((o) => o.join("."));
/** A destination to ask about: not a loopback one (127.0.0.0/8), which evaluate refuses. */
const ip = anyIp.filter((a) => !a.startsWith("127."));
const cidr = fc
  .tuple(anyIp, fc.integer({ min: 1, max: 32 }))
  .map(([a, p]) => iptablesAddress(`${a}/${p}`)!.canonical);
/** Rules that only some packets match: they must never change a decision taken before them. */
const conditional = fc.constantFrom(
  "-p tcp -j RETURN",
  "-p udp -j MASQUERADE",
  "-o eth1 -j RETURN",
  "-m mark --mark 0x8/0x8 -j MASQUERADE",
  "-m conntrack --ctstate DNAT -j RETURN",
  "-m statistic --mode random --probability 0.5 -j MASQUERADE",
);

const analyze = (agent: string[]) =>
  analyzeRuleset(
    parseIptables(natSave(["IP-MASQ-AGENT"], [JUMP, ...agent])).ruleset,
    "ipv4",
    "IP-MASQ-AGENT",
  );

const verdict = (agent: string[], dst: string): Verdict => {
  const v = evaluate(analyze(agent), dst);
  if ("error" in v) throw new Error(v.error);
  return v;
};

describe("evaluate: properties", () => {
  it("a certain verdict never flips when a conditional rule is added after the decision", () => {
    fc.assert(
      fc.property(
        fc.array(cidr, { maxLength: 8 }),
        ip,
        conditional,
        fc.nat(),
        (cidrs, dst, extra, at) => {
          const chain = [...cidrs.map(ret), masq()];
          const before = verdict(chain, dst);
          expect(before.certain).toBe(true);
          const decided = before.decidedBy!.index;
          const pos = decided + 1 + (at % (chain.length - decided));
          const after = verdict(
            [...chain.slice(0, pos), `-A IP-MASQ-AGENT ${extra}`, ...chain.slice(pos)],
            dst,
          );
          expect({ masqueraded: after.masqueraded, certain: after.certain }).toEqual({
            masqueraded: before.masqueraded,
            certain: true,
          });
        },
      ),
    );
  });

  it("a conditional rule before the decision that would decide otherwise makes it depend", () => {
    fc.assert(
      fc.property(fc.array(cidr, { maxLength: 8 }), ip, (cidrs, dst) => {
        const chain = [...cidrs.map(ret), masq()];
        const before = verdict(chain, dst);
        const flip = before.masqueraded ? "-p tcp -j RETURN" : "-p tcp -j MASQUERADE";
        const after = verdict([`-A IP-MASQ-AGENT ${flip}`, ...chain], dst);
        expect(after.masqueraded).toBeNull();
        expect(after.outcomes.map((o) => o.when)).toEqual([["-p tcp"], ["! -p tcp"]]);
      }),
    );
  });

  it("the branch of the static analysis that holds a destination gives evaluate's answer", () => {
    fc.assert(
      fc.property(fc.array(cidr, { maxLength: 8 }), ip, (cidrs, dst) => {
        const a = analyze([...cidrs.map(ret), masq()]);
        const point = cidrRange(iptablesAddress(dst)!);
        const holding = a.outcomes.filter((o) =>
          o.destination.some((r) => r.first <= point.first && point.last <= r.last),
        );
        expect(holding).toHaveLength(1);
        const v = verdict([...cidrs.map(ret), masq()], dst);
        expect(holding[0]!.masqueraded).toBe(v.masqueraded);
        expect(holding[0]!.decidedBy?.index).toBe(v.decidedBy?.index);
      }),
    );
  });
});
