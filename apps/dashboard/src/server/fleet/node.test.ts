import {
  DEFAULT_FLAGS,
  driftReport,
  type HealSchedule,
  type Hello,
  PROTOCOL_VERSION,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import { deriveStatus, healSchedule, type NodeRecord, newRecord, toSummary } from "./node.js";

function record(over: Partial<NodeRecord> = {}): NodeRecord {
  const hello: Hello = {
    type: "hello",
    v: PROTOCOL_VERSION,
    node: "n",
    os: "linux",
    kernel: "",
    iptablesVersion: "",
    backend: "memory",
    randomFullySupported: true,
    mode: "enforce",
    flags: DEFAULT_FLAGS,
    reporterVersion: "",
    appliedRevision: null,
  };
  return {
    ...newRecord(hello),
    connected: true,
    lastSeenAt: 0,
    assessment: { report: driftReport([]), desired: [], families: [] },
    ...over,
  };
}

const drifted = {
  report: driftReport([
    {
      kind: "missing-cidr",
      severity: "critical",
      scope: "ipv4",
      message: "10.0.0.0/8 is missing",
      cidr: "10.0.0.0/8",
    },
  ]),
  desired: [],
  families: [],
};
const failed = {
  type: "apply-result" as const,
  v: PROTOCOL_VERSION,
  revision: 2,
  ok: false,
  error: "boom",
  durationMs: 1,
  trigger: "desired" as const,
  changed: false,
};

describe("deriveStatus", () => {
  const snapshot = {
    type: "snapshot" as const,
    v: PROTOCOL_VERSION,
    seq: 0,
    takenAt: 0,
    appliedRevision: 1,
  };

  it("an offline node keeps its last known summary (the UI says how old it is)", () => {
    expect(
      deriveStatus(record({ connected: false, assessment: drifted, snapshot }), true, 0),
    ).toEqual({ status: "offline", summary: "missing 10.0.0.0/8" });
    expect(deriveStatus(record({ connected: false, snapshot: null }), true, 0)).toEqual({
      status: "offline",
      summary: "disconnected before reporting its rules",
    });
  });

  it("a connected node that went silent is unknown, never its last known in-sync", () => {
    const cases = [
      {
        desc: "last known drifted",
        input: record({ silent: true, assessment: drifted, snapshot }),
        want: { status: "unknown", summary: "not responding (last known: missing 10.0.0.0/8)" },
      },
      {
        desc: "silent while an apply is pending: still unknown",
        input: record({
          silent: true,
          snapshot,
          pending: { kind: "desired", revision: 1, sentAt: 0 },
        }),
        want: { status: "unknown", summary: "not responding (last known: in sync)" },
      },
      {
        desc: "silent before any snapshot",
        input: record({ silent: true, snapshot: null }),
        want: { status: "unknown", summary: "not responding before reporting its rules" },
      },
    ];
    for (const c of cases) expect(deriveStatus(c.input, true, 0), c.desc).toEqual(c.want);
  });

  it("orders offline > applying > error > drift", () => {
    expect(
      deriveStatus(
        record({ connected: false, pending: { kind: "desired", revision: 1, sentAt: 0 } }),
        true,
        0,
      ).status,
    ).toBe("offline");
    expect(
      deriveStatus(
        record({ pending: { kind: "desired", revision: 1, sentAt: 0 }, lastApply: failed }),
        true,
        0,
      ),
    ).toEqual({ status: "applying", summary: "applying revision 1" });
    expect(deriveStatus(record({ lastApply: failed, assessment: drifted }), true, 0)).toEqual({
      status: "error",
      summary: "apply failed: boom",
    });
    expect(deriveStatus(record({ assessment: drifted }), true, 0)).toEqual({
      status: "drifted",
      summary: "missing 10.0.0.0/8",
    });
    expect(deriveStatus(record(), true, 0)).toEqual({ status: "in-sync", summary: "in sync" });
  });

  it("shows applying while waiting for the post-apply snapshot, then the drift", () => {
    const n = record({ assessment: drifted, verifyUntil: 2000 });
    expect(deriveStatus(n, true, 1000).status).toBe("applying");
    expect(deriveStatus(n, true, 2000).status).toBe("drifted");
  });

  it("reports unknown assessments and a missing desired config", () => {
    expect(
      deriveStatus(
        record({ assessment: { ...drifted, unknown: { reason: "windows", error: false } } }),
        true,
        0,
      ),
    ).toEqual({ status: "in-sync", summary: "windows" });
    expect(
      deriveStatus(
        record({ assessment: { ...drifted, unknown: { reason: "bad flags", error: true } } }),
        true,
        0,
      ).status,
    ).toBe("error");
    expect(deriveStatus(record(), false, 0).status).toBe("error");
    expect(deriveStatus(record({ assessment: null }), true, 0).summary).toMatch(/first snapshot/);
  });
});

describe("liveness", () => {
  const cases: {
    desc: string;
    input: Partial<NodeRecord>;
    want: { liveness: string; connected: boolean };
  }[] = [
    {
      desc: "connected and heard from: live",
      input: {},
      want: { liveness: "live", connected: true },
    },
    {
      desc: "connected but quiet for two heartbeats: silent (maybe hung)",
      input: { silent: true },
      want: { liveness: "silent", connected: true },
    },
    {
      desc: "disconnected: offline",
      input: { connected: false },
      want: { liveness: "offline", connected: false },
    },
  ];
  for (const c of cases) it(c.desc, () => expect(toSummary(record(c.input))).toMatchObject(c.want));

  it("carries when the node was last heard from and when its rules last arrived", () => {
    expect(toSummary(record({ lastSeenAt: 5000, snapshotReceivedAt: 3000 }))).toMatchObject({
      lastSeenAt: 5000,
      lastReportAt: 3000,
    });
  });
});

describe("healSchedule", () => {
  const schedule = { heal: "next-resync" as const, resyncMs: 60_000, nextResyncAt: 90_000 };
  const observe = { ...record().hello, mode: "observe" as const };
  const cases: { desc: string; input: Partial<NodeRecord>; want: HealSchedule | RegExp }[] = [
    {
      desc: "enforce mode: the reporter's interval and next resync",
      input: { schedule },
      want: { kind: "periodic", heal: "next-resync", intervalMs: 60_000, nextResyncAt: 90_000 },
    },
    {
      desc: "heal=immediate is said as such",
      input: { schedule: { ...schedule, heal: "immediate" } },
      want: { kind: "periodic", heal: "immediate", intervalMs: 60_000, nextResyncAt: 90_000 },
    },
    {
      desc: "observe mode never heals",
      input: { hello: observe, schedule },
      want: { kind: "observe" },
    },
    { desc: "offline: not known here", input: { connected: false, schedule }, want: /offline/ },
    { desc: "silent: not known here", input: { silent: true, schedule }, want: /not responding/ },
    { desc: "an older reporter does not say", input: { schedule: null }, want: /older version/ },
    {
      desc: "nothing to enforce yet",
      input: { schedule: { ...schedule, resyncMs: null, nextResyncAt: null } },
      want: /no config/,
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const got = healSchedule(record(c.input));
      if (c.want instanceof RegExp)
        expect(got.kind === "unknown" ? got.reason : got.kind).toMatch(c.want);
      else expect(got).toEqual(c.want);
    });
});
