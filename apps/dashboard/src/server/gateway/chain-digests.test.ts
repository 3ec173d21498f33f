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
import { describe, expect, it } from "vitest";
import {
  type DigestMode,
  REQUEST_RETRY_MS,
  type Resolved,
  SnapshotDigests,
} from "./snapshot-digests.js";

/** Node `n`'s rules: kube-proxy's POSTROUTING with flannel's per-node RETURN, the agent chain. */
const linux = (n: number, cidr = "10.0.0.0/8"): FamilySnapshot[] => [
  {
    family: "ipv4",
    backend: "nf_tables",
    chains: [
      {
        name: "POSTROUTING",
        lines: [
          ...postroutingS(),
          `-A POSTROUTING ! -s 10.244.0.0/16 -d 10.244.${n}.0/24 -j RETURN`,
        ],
      },
      { name: "IP-MASQ-AGENT", lines: chainS([cidr]) },
    ],
  },
];
const digestOf = (c: ChainSnapshot) => chainDigest(c, (t) => sha256(t));
const refs = (rules: FamilySnapshot[]) => linuxChainDigests(rules, digestOf);
const envelope = snapshotEnvelope;
/** Rules whole with the chain digests claimed for them (`claimed`: another part's). */
const whole = (seq: number, rules: FamilySnapshot[], claimed = rules): Snapshot => ({
  ...envelope(seq),
  linux: rules,
  linuxChains: refs(claimed),
});
const byChain = (seq: number, rules: FamilySnapshot[]): Snapshot => ({
  ...envelope(seq),
  linuxChains: refs(rules),
});
const NEW = "10.1.0.0/16"; // the config pushed

/** Chains the dashboard renders itself (shared desired-chains.ts): node 1's agent chain for `cidr`. */
const rendered = (cidr: string) =>
  linux(1, cidr)[0]!.chains.filter((c) => c.name === "IP-MASQ-AGENT");
type Step = { conn: "a" | "b"; msg: Snapshot; at?: number; rendered?: ChainSnapshot[] };
type Out = "whole" | "unknown+request" | "unknown" | "refused" | "stale";

/** What a step came to, its resolved rules checked against the digests it named. */
function outcome(msg: Snapshot, r: Resolved): Out {
  if (r.kind === "whole") {
    expect(r.msg).not.toHaveProperty("linuxChains");
    if (msg.linuxChains) expect(refs(r.msg.linux!)).toEqual(msg.linuxChains);
    expect(r.msg.seq).toBe(msg.seq);
  }
  if (r.kind === "unknown") expect(r.envelope).toEqual(envelope(msg.seq));
  return r.kind === "unknown" && r.request ? "unknown+request" : r.kind;
}

describe("snapshots naming each chain by digest", () => {
  const cases: { desc: string; input: { mode?: DigestMode; steps: Step[] }; want: Out[] }[] = [
    {
      desc: "a push on a per-node fleet: the first node asked once, the next known at once",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          { conn: "b", msg: whole(1, linux(2)) },
          { conn: "a", msg: byChain(2, linux(1, NEW)) },
          { conn: "a", msg: whole(2, linux(1, NEW)) },
          // b's own POSTROUTING from its connection, the new agent chain from a's answer
          { conn: "b", msg: byChain(2, linux(2, NEW)) },
        ],
      },
      want: ["whole", "whole", "unknown+request", "whole", "whole"],
    },
    {
      desc: "a node's unchanged chains by digest: judged from its connection's last set",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          { conn: "a", msg: byChain(2, linux(1)) },
        ],
      },
      want: ["whole", "whole"],
    },
    {
      desc: "a hand edit on one node: its new chain is unknown and asked for",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          { conn: "a", msg: byChain(2, linux(1, "192.0.2.0/24")) },
        ],
      },
      want: ["whole", "unknown+request"],
    },
    {
      desc: "chains whose digests do not match: refused, nothing kept",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1, "192.0.2.0/24"), linux(1)) },
          { conn: "b", msg: byChain(1, linux(1)) },
        ],
      },
      want: ["refused", "unknown+request"],
    },
    {
      desc: "a family field not as claimed (a read error left out of the digests): refused",
      input: {
        steps: [
          {
            conn: "a",
            msg: whole(1, [{ ...linux(1)[0]!, readError: "x" }], linux(1)),
          },
        ],
      },
      want: ["refused"],
    },
    {
      desc: "a chain named by another chain's digest: refused",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          {
            conn: "a",
            msg: {
              ...envelope(2),
              linuxChains: refs(linux(1)).map((f) => ({
                ...f,
                chains: f.chains.map((c, i, all) => ({ ...c, digest: all[1 - i]!.digest })),
              })),
            },
          },
        ],
      },
      want: ["whole", "refused"],
    },
    {
      desc: "both ways of naming rules in one snapshot: refused",
      input: {
        steps: [
          { conn: "a", msg: { ...byChain(1, linux(1)), linuxDigest: `sha256:${"0".repeat(64)}` } },
        ],
      },
      want: ["refused"],
    },
    {
      desc: "chains by digest where only snapshot-digests was granted: refused",
      input: { mode: "part", steps: [{ conn: "a", msg: byChain(1, linux(1)) }] },
      want: ["refused"],
    },
    {
      desc: "chains by digest where nothing was granted: refused",
      input: { mode: "none", steps: [{ conn: "a", msg: byChain(1, linux(1)) }] },
      want: ["refused"],
    },
    {
      desc: "a whole-part digest where chain-digests was granted: refused",
      input: {
        steps: [{ conn: "a", msg: { ...envelope(1), linuxDigest: `sha256:${"0".repeat(64)}` } }],
      },
      want: ["refused"],
    },
    {
      desc: "unknown chains again and again: one request per REQUEST_RETRY_MS",
      input: {
        steps: [
          { conn: "a", msg: byChain(1, linux(1)), at: 0 },
          { conn: "a", msg: byChain(2, linux(1, NEW)), at: 10 },
          { conn: "a", msg: byChain(3, linux(1)), at: REQUEST_RETRY_MS - 1 },
          { conn: "a", msg: byChain(4, linux(1)), at: REQUEST_RETRY_MS },
        ],
      },
      want: ["unknown+request", "unknown", "unknown", "unknown+request"],
    },
    {
      desc: "rules sent whole without digests (too large for both): kept under digests computed here",
      input: {
        steps: [
          { conn: "a", msg: { ...envelope(1), linux: linux(1) } },
          { conn: "a", msg: byChain(2, linux(1)) },
          { conn: "b", msg: whole(1, linux(2)) },
          { conn: "b", msg: byChain(2, linux(2, "10.0.0.0/8")) },
        ],
      },
      want: ["whole", "whole", "whole", "whole"],
    },
    {
      desc: "a push's new agent chain, rendered here to the byte: known without a request",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          { conn: "a", msg: byChain(2, linux(1, NEW)), rendered: rendered(NEW) },
        ],
      },
      want: ["whole", "whole"],
    },
    {
      desc: "a chain rendered here that is not the node's: still unknown, asked for",
      input: {
        steps: [
          { conn: "a", msg: whole(1, linux(1)) },
          { conn: "a", msg: byChain(2, linux(1, NEW)), rendered: rendered("192.0.2.0/24") },
        ],
      },
      want: ["whole", "unknown+request"],
    },
    {
      desc: "a late answer never stands over a newer snapshot",
      input: {
        steps: [
          { conn: "a", msg: byChain(1, linux(1)), at: 0 },
          { conn: "a", msg: envelope(2), at: 1 },
          { conn: "a", msg: whole(1, linux(1)), at: 2 },
        ],
      },
      want: ["unknown+request", "whole", "stale"],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const digests = new SnapshotDigests();
    const sessions = { a: digests.session(input.mode ?? "chains"), b: digests.session("chains") };
    const got = input.steps.map(({ conn, msg, at, rendered }) =>
      outcome(msg, sessions[conn].resolve(msg, at ?? 0, rendered && (() => rendered))),
    );
    expect(got).toEqual(want);
  });

  it("names the chains it does not hold", () => {
    const s = new SnapshotDigests().session("chains");
    expect(s.resolve(whole(1, linux(1)), 0).kind).toBe("whole");
    const r = s.resolve(byChain(2, linux(1, NEW)), 0);
    expect(r).toMatchObject({ kind: "unknown", chains: ["IP-MASQ-AGENT"] });
  });

  it("a connection's own chains resolve when the shared cache evicted them", () => {
    const chains = new RulesDigestCache<ChainSnapshot>({ maxEntries: 1 });
    const digests = new SnapshotDigests(undefined, undefined, chains);
    const [a, b] = [digests.session("chains"), digests.session("chains")];
    expect(a.resolve(whole(1, linux(1)), 0).kind).toBe("whole");
    expect(b.resolve(whole(1, linux(2, NEW)), 0).kind).toBe("whole");
    expect(a.resolve(byChain(2, linux(1)), 0).kind).toBe("whole");
    expect(digests.stats()).toMatchObject({ chainsHeld: 1 });
  });

  it("keeps the shared chains within their character budget", () => {
    const chains = new RulesDigestCache<ChainSnapshot>({ maxChars: 2000 });
    const digests = new SnapshotDigests(undefined, undefined, chains);
    for (let n = 0; n < 50; n++) digests.session("chains").resolve(whole(1, linux(n)), 0);
    expect(digests.stats().chainsChars).toBeLessThanOrEqual(2000);
    expect(digests.stats().chainsHeld).toBeGreaterThan(0);
  });

  it("refuses chains that resolve to more lines than a family may hold", () => {
    const big = (name: string): FamilySnapshot[] => [
      {
        family: "ipv4",
        backend: "nf_tables",
        chains: [
          {
            name,
            lines: [
              `-N ${name}`,
              ...Array.from(
                { length: 12_000 },
                (_, i) => `-A ${name} -s 10.${i >> 8}.${i & 255}.0/24 -j RETURN`,
              ),
            ],
          },
        ],
      },
    ];
    const s = new SnapshotDigests().session("chains");
    expect(s.resolve(whole(1, big("KUBE-A")), 0).kind).toBe("whole");
    expect(s.resolve(whole(2, big("KUBE-B")), 0).kind).toBe("whole");
    const both = refs(big("KUBE-A"))[0]!;
    both.chains.push(...refs(big("KUBE-B"))[0]!.chains);
    const r = s.resolve({ ...envelope(3), linuxChains: [both] }, 0);
    expect(r).toMatchObject({ kind: "refused", reason: expect.stringContaining("lines") });
  });
});
