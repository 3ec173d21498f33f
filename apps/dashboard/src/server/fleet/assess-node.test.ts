import {
  assessLinux,
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  type NftSnapshot,
  PROTOCOL_VERSION,
  type Snapshot,
  snapshotSchema,
} from "@masq/shared";
import { inSyncSnapshot } from "@masq/testkit/fixtures";
import { nftDump } from "@masq/testkit/nft-dumps";
import { describe, expect, it } from "vitest";
import { Assessor } from "./assess-node.js";

const config = defaultConfig();
const desired = { revision: 1, resourceVersion: "1", config };
const d = desiredChain(config, DEFAULT_FLAGS, "ipv4");
const good = inSyncSnapshot();

describe("Assessor", () => {
  it("judges with the shared core and reuses results for identical nodes", () => {
    const a = new Assessor();
    const first = a.assess(desired, DEFAULT_FLAGS, good);
    expect(first.report.status).toBe("in-sync");
    expect(first.desired[0]!.lines).toEqual(d.rules.map((r) => r.line));
    expect(a.assess(desired, DEFAULT_FLAGS, structuredClone(good))).toBe(first);
    const missing = structuredClone(good);
    const agent = missing.linux![0]!.chains[1]!;
    agent.lines = agent.lines!.filter((l) => !l.includes("10.0.0.0/8"));
    const drifted = a.assess(desired, DEFAULT_FLAGS, missing);
    expect(drifted.report.summary).toBe("missing 10.0.0.0/8");
    // Distinct nodes of one revision hold one array of desired lines, not a copy each.
    expect(drifted.desired[0]!.lines).toBe(first.desired[0]!.lines);
    expect(
      a.assess(
        { ...desired, revision: 2, config: { ...config, nonMasqueradeCIDRs: ["10.0.0.0/8"] } },
        DEFAULT_FLAGS,
        good,
      ).report.status,
    ).toBe("drifted");
  });

  it("keeps no path analysis; rebuilds it from the snapshot judged, as assessLinux gives it", () => {
    const drifted = structuredClone(good);
    drifted.linux![0]!.chains[1]!.lines!.pop();
    for (const snap of [good, drifted]) {
      const got = new Assessor().assess(desired, DEFAULT_FLAGS, snap);
      for (const f of got.families) expect(f).not.toHaveProperty("observed");
      const want = assessLinux(config, DEFAULT_FLAGS, snap.linux!).families;
      expect(got.analyzed?.()).toEqual(want);
      expect(got.families).toEqual(want.map(({ observed: _, ...rest }) => rest));
    }
  });

  it("tells apart what differs only in backend, chain names or what was not read", () => {
    const a = new Assessor();
    const first = a.assess(desired, DEFAULT_FLAGS, good);
    const variants: ((s: Snapshot) => void)[] = [
      (s) => {
        s.linux![0]!.backend = "legacy";
      },
      (s) => {
        s.linux![0]!.unread = ["KUBE-POSTROUTING"];
      },
      (s) => {
        s.linux![0]!.unreadNote = "v1";
      },
      // The same lines under other chain names must not share a key.
      (s) => {
        s.linux![0]!.chains = [
          { name: "POSTROUTING", lines: [] },
          { name: "X", lines: [] },
        ];
      },
      (s) => {
        s.linux!.push({ ...s.linux![0]!, backend: "legacy" });
      },
    ];
    for (const change of variants) {
      const other = structuredClone(good);
      change(other);
      expect(a.assess(desired, DEFAULT_FLAGS, other)).not.toBe(first);
    }
  });

  it("reports the agent chain acting in two backends", () => {
    const both = structuredClone(good);
    both.linux!.push({ ...both.linux![0]!, backend: "legacy" });
    const r = new Assessor().assess(desired, DEFAULT_FLAGS, both).report;
    expect(r.differences.map((x) => `${x.severity}:${x.kind}`)).toEqual([
      "critical:backend-conflict",
    ]);
  });

  it("marks nodes it cannot judge instead of throwing", () => {
    const a = new Assessor();
    expect(a.assess(desired, { ...DEFAULT_FLAGS, toPorts: "nope" }, good).unknown).toMatchObject({
      error: true,
    });
  });

  it("judges Windows nodes by their OutBoundNAT exception lists", () => {
    const a = new Assessor();
    const snap = (exceptions: string[], readError?: string): Snapshot => ({
      type: "snapshot",
      v: PROTOCOL_VERSION,
      seq: 0,
      takenAt: 0,
      appliedRevision: null,
      windows: {
        path: "C:/k/cni/config/10-bridge.conf",
        lists: [
          {
            pointer: "/plugins/0/policies/0/value/Settings/Exceptions",
            form: "OutBoundNAT",
            exceptions,
          },
        ],
        ...(readError ? { readError } : {}),
      },
    });
    const all = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"];
    const good = a.assess(desired, DEFAULT_FLAGS, snap(all));
    expect(good.report.status).toBe("in-sync");
    expect(good.windowsDesired).toEqual(all);
    const bad = a.assess(desired, DEFAULT_FLAGS, snap(["10.0.0.0/8"]));
    expect(bad.report.status).toBe("drifted");
    expect(bad.report.differences).toContainEqual(
      expect.objectContaining({ kind: "missing-cidr", scope: "windows" }),
    );
    // The shared assessWindows: an unreadable file is one critical difference.
    const unreadable = a.assess(desired, DEFAULT_FLAGS, snap([], "access denied")).report;
    expect(unreadable.summary).toMatch(/unreadable/);
    expect(unreadable.differences).toEqual([
      expect.objectContaining({
        kind: "unreadable",
        severity: "critical",
        message: "could not read the CNI config: access denied",
      }),
    ]);
  });

  it("bounds its cache by bytes: distinct large snapshots evict the least recently used", () => {
    // Small enough to stay well inside the unit timeout on a loaded CI machine.
    const budget = 2 * 1024 * 1024;
    const a = new Assessor(undefined, budget);
    // A reporter sending a distinct 250-rule chain each time (the flood, smaller).
    const large = (seed: number): Snapshot => {
      const rules = Array.from(
        { length: 250 },
        (_, i) => `-A ${d.chain} -d 10.${seed % 256}.${i >> 8}.${i & 255}/32 -j RETURN`,
      );
      const s = structuredClone(good);
      const own = s.linux![0]!.chains.find((c) => c.name === d.chain)!;
      own.lines = [`-N ${d.chain}`, ...rules, ...d.rules.map((r) => r.line)];
      return s;
    };
    const snaps = Array.from({ length: 40 }, (_, i) => large(i));
    const results = snaps.map((s) => a.assess(desired, DEFAULT_FLAGS, s));
    expect(a.cachedBytes).toBeLessThanOrEqual(budget);
    expect(a.cachedBytes).toBeGreaterThan(budget / 2);
    expect(a.assess(desired, DEFAULT_FLAGS, structuredClone(snaps[39]!))).toBe(results[39]);
    expect(a.assess(desired, DEFAULT_FLAGS, structuredClone(snaps[0]!))).not.toBe(results[0]);
  }, 30_000);
});

describe("Assessor on native nftables nodes", () => {
  const ruleset = (name: string) =>
    (nftDump(name) as { nftables: NftSnapshot["ruleset"] }).nftables;
  const nftNode = (name: string): Snapshot => ({
    type: "snapshot",
    v: PROTOCOL_VERSION,
    seq: 0,
    takenAt: 0,
    appliedRevision: 1,
    nftables: { backend: "nftables", ruleset: ruleset(name) },
  });
  const cases: { desc: string; input: string; want: { summary: string; hooks: string[] } }[] = [
    {
      desc: "kube-proxy's table and the agent's: in sync, both chains on the node page",
      input: "kube-proxy-agent",
      want: {
        summary: "in sync",
        hooks: ["ip kube-proxy nat-postrouting", "inet ip_masq_agent postrouting"],
      },
    },
    {
      desc: "a hand-deleted element is drift, named by CIDR",
      input: "agent-hand-edit",
      want: {
        summary: "missing 10.0.0.0/8, extra 198.51.100.0/24, foreign rule",
        hooks: ["inet ip_masq_agent postrouting"],
      },
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const a = new Assessor().assess(desired, DEFAULT_FLAGS, nftNode(input));
      const view = a.nft?.view.families[0]?.nftables;
      expect({ summary: a.report.summary, hooks: view?.hooks.map((h) => h.ref) }).toEqual(want);
    });

  it("keys the cache by the nftables ruleset too", () => {
    const a = new Assessor();
    const first = a.assess(desired, DEFAULT_FLAGS, nftNode("agent-default"));
    expect(a.assess(desired, DEFAULT_FLAGS, nftNode("agent-default"))).toBe(first);
    expect(a.assess(desired, DEFAULT_FLAGS, nftNode("agent-hand-edit"))).not.toBe(first);
  });
});

describe("Assessor.intern", () => {
  const other = (f: (s: Snapshot) => void): Snapshot => {
    const s = structuredClone(good);
    f(s);
    return s;
  };
  const cases: { desc: string; input: Snapshot; want: "shared" | "own" }[] = [
    {
      desc: "same rules, another node's seq, time and applied revision",
      input: other((s) => Object.assign(s, { seq: 7, takenAt: 99, appliedRevision: 2 })),
      want: "shared",
    },
    {
      desc: "one line differs",
      input: other((s) => s.linux![0]!.chains[1]!.lines!.pop()),
      want: "own",
    },
    {
      desc: "unread [] where absent",
      input: other((s) => (s.linux![0]!.unread = [])),
      want: "own",
    },
    { desc: "readError ''", input: other((s) => (s.linux![0]!.readError = "")), want: "own" },
    { desc: "no linux at all", input: other((s) => delete s.linux), want: "own" },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const a = new Assessor();
      const first = a.intern(structuredClone(good));
      const got = a.intern(input);
      // Never changes what the node said; only which copy of equal rules it holds.
      expect(got).toEqual(input);
      expect(got.linux === first.linux).toBe(want === "shared");
      expect(a.assess(desired, DEFAULT_FLAGS, got)).toBe(a.assess(desired, DEFAULT_FLAGS, input));
    });

  it("keeps a snapshot already holding the shared rules as it is (resolved by digest)", () => {
    const a = new Assessor();
    const first = a.intern(structuredClone(good));
    const same = { ...structuredClone(good), seq: 9, linux: first.linux };
    expect(a.intern(same)).toBe(same);
    expect(a.assess(desired, DEFAULT_FLAGS, same)).toBe(a.assess(desired, DEFAULT_FLAGS, first));
  });

  it("leaves Windows snapshots as they are", () => {
    const a = new Assessor();
    const win = { ...good, linux: undefined, windows: { lists: [] } } as unknown as Snapshot;
    expect(a.intern(win)).toBe(win);
  });
});

describe("Assessor: a line holding a newline is not two lines", () => {
  it("never gives an honest node the rules (or verdict) of a reporter that joined two lines", () => {
    const honest = inSyncSnapshot();
    const agent = honest.linux![0]!.chains[1]!;
    const lines = agent.lines!;
    expect(lines.length).toBeGreaterThan(2);
    // The same text, with two of its lines sent as one: the frame schema refuses it now; the key
    // must not conflate the two anyway (a snapshot built in process is not parsed).
    const lying = structuredClone(honest);
    const joined = [...lines.slice(0, -2), `${lines.at(-2)}\n${lines.at(-1)}`];
    lying.linux![0]!.chains[1]!.lines = joined;
    expect(snapshotSchema.safeParse(lying).success).toBe(false);
    const a = new Assessor();
    a.intern(lying); // another node's snapshot, interned first
    a.intern(inSyncSnapshot()); // any other rules in between: `lying` is not the last interned
    const mine = a.intern(structuredClone(honest));
    expect(mine.linux![0]!.chains[1]!.lines).toEqual(lines);
    const lyingVerdict = a.assess(desired, DEFAULT_FLAGS, lying);
    const honestVerdict = a.assess(desired, DEFAULT_FLAGS, structuredClone(honest));
    expect(honestVerdict).not.toBe(lyingVerdict);
  });
});
