// break10: many connections naming per-node chains by digest, in any order, with lies mixed
// in: a snapshot judged is always exactly the rules its own node holds at that snapshot.
import { sha256 } from "@masq/node-util";
import {
  type ChainSnapshot,
  chainDigest,
  type FamilySnapshot,
  linuxChainDigests,
  RulesDigestCache,
  type Snapshot,
} from "@masq/shared";
import { snapshotEnvelope } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type DigestSession, type Resolved, SnapshotDigests } from "./snapshot-digests.js";

const digestOf = (c: ChainSnapshot) => chainDigest(c, (t) => sha256(t));
const refs = (rules: FamilySnapshot[]) => linuxChainDigests(rules, digestOf);
type State = { cidr: number; order: boolean; gone: boolean; v6: boolean; snat: boolean };
/** Node n's rules: per-node flannel RETURN / AWS SNAT --to-source, shared agent chain. */
function rules(n: number, s: State): FamilySnapshot[] {
  const post: ChainSnapshot = {
    name: "POSTROUTING",
    lines: [...postroutingS(), `-A POSTROUTING ! -s 10.244.0.0/16 -d 10.244.${n}.0/24 -j RETURN`],
  };
  const agent: ChainSnapshot = { name: "IP-MASQ-AGENT", lines: chainS([`10.${s.cidr}.0.0/16`]) };
  const snat: ChainSnapshot = {
    name: "AWS-SNAT-CHAIN-0",
    lines: s.gone
      ? null
      : ["-N AWS-SNAT-CHAIN-0", `-A AWS-SNAT-CHAIN-0 -j SNAT --to-source 10.0.0.${n}`],
  };
  const chains = s.order ? [post, agent] : [post, snat, agent].filter((c) => s.snat || c !== snat);
  const out: FamilySnapshot[] = [{ family: "ipv4", backend: "nf_tables", chains }];
  if (s.v6) out.push({ family: "ipv6", backend: "nf_tables", chains: [agent, post] });
  return out;
}
const state = fc.record({
  cidr: fc.nat(2),
  order: fc.boolean(),
  gone: fc.boolean(),
  v6: fc.boolean(),
  snat: fc.boolean(),
});
const step = fc.record({
  node: fc.nat(2),
  change: fc.option(state),
  how: fc.constantFrom<How>("whole", "alone", "byChain", "lie", "lieOther"),
});

type How = "whole" | "alone" | "byChain" | "lie" | "lieOther";
function frame(how: How, env: Snapshot, mine: FamilySnapshot[], other: FamilySnapshot[]): Snapshot {
  const frames: Record<How, () => Snapshot> = {
    whole: () => ({ ...env, linux: mine, linuxChains: refs(mine) }),
    alone: () => ({ ...env, linux: mine }),
    byChain: () => ({ ...env, linuxChains: refs(mine) }),
    lie: () => ({ ...env, linux: mine, linuxChains: refs(other) }),
    lieOther: () => ({ ...env, linux: other, linuxChains: refs(mine) }),
  };
  return frames[how]();
}
/** A lie is refused (the connection closes: false); else judged from exactly `mine`. */
function judged(how: How, r: Resolved, mine: FamilySnapshot[]): boolean {
  if (how === "lie" || how === "lieOther") {
    expect(r.kind).toBe("refused");
    return false;
  }
  expect(r.kind).toBe(how === "byChain" && r.kind === "unknown" ? "unknown" : "whole");
  if (r.kind === "whole") expect(r.msg.linux).toEqual(mine);
  return true;
}

describe("break10: per-node chains by digest, three connections, lies mixed in", () => {
  it("judges a node only by its own rules of that snapshot", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), fc.nat(8), (steps, cacheSize) => {
        const digests = new SnapshotDigests(
          undefined,
          undefined,
          new RulesDigestCache<ChainSnapshot>({ maxEntries: cacheSize, maxChars: 1 << 20 }),
        );
        const nodes = [0, 1, 2].map(() => ({
          s: { cidr: 0, order: false, gone: false, v6: false, snat: true } as State,
          session: digests.session("chains") as DigestSession,
          seq: 0,
          open: true,
        }));
        for (const [i, st] of steps.entries()) {
          const n = nodes[st.node]!;
          if (!n.open) continue;
          if (st.change) n.s = st.change;
          const mine = rules(st.node, n.s);
          const other = rules((st.node + 1) % 3, n.s);
          const env = snapshotEnvelope(++n.seq);
          const msg = frame(st.how, env, mine, other);
          const r = n.session.resolve(structuredClone(msg), i * 1000);
          n.open = judged(st.how, r, mine);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
