import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import {
  decodeDashboardMessage,
  decodeReporterMessage,
  encodeMessage,
  MAX_FRAME_BYTES,
  type ReporterMessage,
} from "./protocol.js";

const hello: ReporterMessage = {
  type: "hello",
  v: 1,
  node: "node-a.example",
  os: "linux",
  kernel: "6.1.0",
  iptablesVersion: "iptables v1.8.9 (nf_tables)",
  backend: "nf_tables",
  randomFullySupported: true,
  mode: "enforce",
  flags: DEFAULT_FLAGS,
  reporterVersion: "0.1.0",
  appliedGeneration: null,
};

describe("reporter messages", () => {
  it("round-trips a hello", () => {
    expect(decodeReporterMessage(encodeMessage(hello))).toEqual({ ok: true, msg: hello });
  });
  const bad: { desc: string; input: string; reason: RegExp }[] = [
    { desc: "not JSON", input: "{", reason: /^not JSON/ },
    { desc: "unknown type", input: JSON.stringify({ ...hello, type: "boom" }), reason: /type/ },
    { desc: "other protocol version", input: JSON.stringify({ ...hello, v: 2 }), reason: /^v:/ },
    { desc: "unknown field", input: JSON.stringify({ ...hello, extra: true }), reason: /extra/ },
    {
      desc: "bad node name",
      input: JSON.stringify({ ...hello, node: "Node_A" }),
      reason: /^node:/,
    },
    {
      desc: "bad flags",
      input: JSON.stringify({ ...hello, flags: { ...DEFAULT_FLAGS, masqChain: "a b" } }),
      reason: /flags\.masqChain/,
    },
    {
      desc: "oversized frame",
      input: JSON.stringify({ ...hello, kernel: "x".repeat(MAX_FRAME_BYTES) }),
      reason: /larger than/,
    },
    {
      desc: "snapshot with too-long line",
      input: JSON.stringify({
        type: "snapshot",
        v: 1,
        seq: 1,
        takenAt: 1,
        appliedGeneration: null,
        linux: [{ family: "ipv4", chain: ["x".repeat(5000)], postrouting: [] }],
      }),
      reason: /linux\.0\.chain\.0/,
    },
    {
      desc: "a resync schedule with a zero interval",
      input: JSON.stringify({
        type: "snapshot",
        v: 1,
        seq: 1,
        takenAt: 1,
        appliedGeneration: null,
        schedule: { heal: "next-resync", resyncMs: 0, nextResyncAt: null },
      }),
      reason: /^schedule\.resyncMs/,
    },
  ];
  for (const b of bad) {
    it(`rejects ${b.desc} with a reason`, () => {
      const r = decodeReporterMessage(b.input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.reason).toMatch(b.reason);
    });
  }
  it("round-trips a snapshot with and without the reporter's resync schedule", () => {
    const base = { type: "snapshot", v: 1, seq: 4, takenAt: 1_000, appliedGeneration: 2 } as const;
    const schedule = { heal: "immediate", resyncMs: 60_000, nextResyncAt: 61_000 } as const;
    for (const msg of [base, { ...base, schedule }])
      expect(decodeReporterMessage(encodeMessage(msg))).toEqual({ ok: true, msg });
  });
  it("accepts binary frames as UTF-8", () => {
    expect(decodeReporterMessage(new TextEncoder().encode(encodeMessage(hello))).ok).toBe(true);
  });
});

describe("dashboard messages", () => {
  it("round-trips a desired config", () => {
    const msg = {
      type: "desired" as const,
      v: 1 as const,
      generation: 3,
      revision: "7",
      config: defaultConfig(),
    };
    expect(decodeDashboardMessage(encodeMessage(msg))).toEqual({ ok: true, msg });
  });
  it("refuses a desired config with unknown keys", () => {
    const r = decodeDashboardMessage(
      JSON.stringify({
        type: "desired",
        v: 1,
        generation: 1,
        revision: "1",
        config: { ...defaultConfig(), evil: true },
      }),
    );
    expect(r.ok).toBe(false);
  });
});
