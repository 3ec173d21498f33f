import { DEFAULT_FLAGS, driftReport, type Hello, PROTOCOL_VERSION } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { deriveStatus, type NodeRecord, newRecord } from "./node.js";

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
    appliedGeneration: null,
  };
  return {
    ...newRecord(hello),
    connected: true,
    lastSeen: 0,
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
  generation: 2,
  ok: false,
  error: "boom",
  durationMs: 1,
  trigger: "desired" as const,
  changed: false,
};

describe("deriveStatus", () => {
  it("orders offline > applying > error > drift", () => {
    expect(
      deriveStatus(
        record({ connected: false, pending: { kind: "desired", generation: 1, sentAt: 0 } }),
        true,
        0,
      ).status,
    ).toBe("offline");
    expect(
      deriveStatus(
        record({ pending: { kind: "desired", generation: 1, sentAt: 0 }, lastApply: failed }),
        true,
        0,
      ),
    ).toEqual({ status: "applying", summary: "applying generation 1" });
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
