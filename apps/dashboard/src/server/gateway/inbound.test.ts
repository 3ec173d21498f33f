import { sha256 } from "@masq/node-util";
import {
  type ApplyResult,
  applyResultSchema,
  DEFAULT_FLAGS,
  defaultConfig,
  desiredChain,
  type FamilySnapshot,
  jumpRuleLine,
  linuxRulesDigest,
  type ReporterMessage,
  type Snapshot,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { ChangeFeed } from "../fleet/change-feed.js";
import { FleetState } from "../fleet/fleet-state.js";
import { silentLogger } from "../log.js";
import { createMetrics } from "../metrics.js";
import { inboundDelivery, resultOnly } from "./inbound.js";
import { SnapshotDigests } from "./snapshot-digests.js";

/** The rules the default config gives (an in-sync node). */
const chain = desiredChain(defaultConfig(), DEFAULT_FLAGS, "ipv4");
const linux: FamilySnapshot[] = [
  snapshotOf({
    family: "ipv4",
    chain: [`-N ${chain.chain}`, ...chain.rules.map((r) => r.line)],
    postrouting: [jumpRuleLine(chain.chain)],
  }),
];
const digest = linuxRulesDigest(linux, (t) => sha256(t));
const envelope = { type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 1 } as const;
const whole: Snapshot = { ...envelope, linux, linuxDigest: digest };
const byDigest: Snapshot = { ...envelope, linuxDigest: digest };
const result: ApplyResult = {
  type: "apply-result",
  v: 2,
  revision: 1,
  ok: true,
  durationMs: 2,
  trigger: "desired",
  changed: true,
};

/** The node already held the rules (nothing to wait for after the apply). */
const unchanged: ApplyResult = { ...result, changed: false };

/** One connection for `node-a` into a real fleet, granted `fold` (digests always). */
function connection(fold: boolean) {
  const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
  const fleet = new FleetState({
    desired: () => desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
  });
  const sent: string[] = [];
  const refused: string[] = [];
  const link = { send: (f: string | Buffer) => void sent.push(String(f)), close: () => {} };
  fleet.connect(helloFor("node-a", { appliedRevision: 1 }), link);
  const deliver = inboundDelivery({
    fleet,
    metrics: createMetrics({ defaultMetrics: false }),
    link,
    granted: { digests: new SnapshotDigests().session(true), fold },
    reject: (reason) => void refused.push(reason),
    isOpen: () => refused.length === 0,
  });
  return { fleet, sent, refused, deliver: (m: ReporterMessage) => deliver("node-a", m) };
}

describe("an accepted connection's messages", () => {
  const cases: {
    desc: string;
    input: { fold: boolean; msgs: ReporterMessage[] };
    want: { status: string; lastApply: boolean; requests: number; refused: string[] };
  }[] = [
    {
      desc: "rules sent whole with their digest: judged",
      input: { fold: false, msgs: [whole, result] },
      want: { status: "in-sync", lastApply: true, requests: 0, refused: [] },
    },
    {
      desc: "a digest not held: unknown, asked for once",
      input: { fold: false, msgs: [unchanged, byDigest, byDigest] },
      want: { status: "unknown", lastApply: true, requests: 1, refused: [] },
    },
    {
      desc: "a result carrying its snapshot, granted: the snapshot then the result",
      input: { fold: true, msgs: [{ ...result, snapshot: whole }] },
      want: { status: "in-sync", lastApply: true, requests: 0, refused: [] },
    },
    {
      desc: "a result carrying a snapshot by an unknown digest: the result taken, rules unknown",
      input: { fold: true, msgs: [{ ...unchanged, snapshot: byDigest }] },
      want: { status: "unknown", lastApply: true, requests: 1, refused: [] },
    },
    {
      desc: "a result carrying its snapshot, not granted: refused, nothing taken",
      input: { fold: false, msgs: [{ ...result, snapshot: whole }] },
      want: {
        status: "applying",
        lastApply: false,
        requests: 0,
        refused: ["snapshot: this connection was not granted apply-result-snapshot"],
      },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const c = connection(input.fold);
    for (const m of input.msgs) c.deliver(m);
    const n = c.fleet.nodes.get("node-a")!;
    expect({
      status: n.status,
      lastApply: n.lastApply !== null,
      requests: c.sent.filter((f) => f.includes('"snapshot-request"')).length,
      refused: c.refused,
    }).toEqual(want);
    // Never the previous rules while unknown; the result kept without the snapshot.
    if (want.status === "unknown") expect(n.snapshot).toBeNull();
    expect(n.lastApply ?? {}).not.toHaveProperty("snapshot");
  });
});

describe("a node's timeline across rules not known yet", () => {
  it("tells each status it had: none starts from a status no entry went to (newuser5)", () => {
    // The demo's hand-edited node read "unknown → drifted: missing 10.0.0.0/8" twice in a row
    // on its page, with no entry saying it had gone unknown, nor why.
    const c = connection(false);
    c.deliver(unchanged);
    c.deliver(whole); // in sync
    const edited: FamilySnapshot[] = [
      snapshotOf({
        family: "ipv4",
        chain: [`-N ${chain.chain}`, ...chain.rules.slice(1).map((r) => r.line)],
        postrouting: [jumpRuleLine(chain.chain)],
      }),
    ];
    const editedDigest = linuxRulesDigest(edited, (t) => sha256(t));
    c.deliver({ ...envelope, seq: 2, linuxDigest: editedDigest }); // unknown: asked for
    c.deliver({ ...envelope, seq: 3, linux: edited, linuxDigest: editedDigest }); // the answer
    const n = c.fleet.nodes.get("node-a")!;
    expect(n.status).toBe("drifted");
    const moves = n.events
      .list()
      .filter((e) => e.kind === "status")
      .map((e) => /^(?:(\S+) → )?(\S+)(?: \(first report\))?:/.exec(e.message)!.slice(1, 3));
    // A new node was not offline before: its first entry is a first report.
    expect(moves.map(([from, to]) => (from ? `${from} → ${to}` : `${to} (first)`))).toEqual([
      "applying (first)",
      "applying → in-sync",
      "in-sync → unknown",
      "unknown → drifted",
    ]);
    expect(n.events.list().find((e) => e.message.startsWith("in-sync → unknown"))?.message).toMatch(
      /rules not known yet/,
    );
  });
});

describe("resultOnly: an apply-result without its snapshot, every other field kept", () => {
  const snapshot = { type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 1 } as const;
  const cases: { desc: string; input: ApplyResult; want: ApplyResult }[] = [
    { desc: "a result carrying its snapshot", input: { ...result, snapshot }, want: result },
    {
      desc: "a failed one, its error kept",
      input: { ...result, ok: false, error: "iptables-restore: exit 1", snapshot },
      want: { ...result, ok: false, error: "iptables-restore: exit 1" },
    },
    { desc: "one without a snapshot", input: unchanged, want: unchanged },
  ];
  for (const c of cases)
    it(c.desc, () => {
      expect(resultOnly(c.input)).toEqual(c.want);
    });
  it("keeps every field of the schema but the snapshot (a new field fails here until kept)", () => {
    const every = Object.fromEntries(
      Object.keys(applyResultSchema.shape).map((k) => [k, `value of ${k}`]),
    ) as unknown as ApplyResult;
    const { snapshot: _, ...want } = every;
    expect(resultOnly(every)).toEqual(want);
  });
});
