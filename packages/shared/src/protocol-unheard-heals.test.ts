import { describe, expect, it } from "vitest";
import { MAX_HEAL_WHAT_CHARS, MAX_UNHEARD_HEALS } from "./limits.js";
import { decodeReporterMessage, reporterMessageSchema } from "./protocol.js";
import { KNOWN_CAPABILITIES, parseCapabilities, UNHEARD_HEALS } from "./protocol-capabilities.js";

const heal = { at: 1_764_000_000_000, revision: 4, what: "missing RETURN for 10.0.0.0/8" };
const ok = { type: "unheard-heals", v: 2, heals: [heal], dropped: 0 };

describe("the unheard-heals message", () => {
  it("takes heals oldest first, a mounted config's (no revision), what not read, dropped ones", () => {
    const msg = {
      ...ok,
      heals: [heal, { at: heal.at + 1, revision: null, what: null }],
      dropped: 7,
    };
    expect(reporterMessageSchema.safeParse(msg).success).toBe(true);
    expect(decodeReporterMessage(JSON.stringify(msg))).toEqual({ ok: true, msg });
  });

  const bad: { desc: string; input: unknown; want: RegExp }[] = [
    { desc: "no heals", input: { ...ok, heals: [] }, want: /heals/ },
    {
      desc: "more heals than a reporter keeps",
      input: { ...ok, heals: Array(MAX_UNHEARD_HEALS + 1).fill(heal) },
      want: /heals/,
    },
    {
      desc: "what differed too long",
      input: { ...ok, heals: [{ ...heal, what: "x".repeat(MAX_HEAL_WHAT_CHARS + 1) }] },
      want: /what/,
    },
    { desc: "what differed empty", input: { ...ok, heals: [{ ...heal, what: "" }] }, want: /what/ },
    {
      desc: "what differed on two lines",
      input: { ...ok, heals: [{ ...heal, what: "a\nb" }] },
      want: /one line/,
    },
    { desc: "a negative time", input: { ...ok, heals: [{ ...heal, at: -1 }] }, want: /at/ },
    {
      desc: "a time past what a date can say",
      input: { ...ok, heals: [{ ...heal, at: 8.64e15 + 1 }] },
      want: /at/,
    },
    { desc: "a fractional time", input: { ...ok, heals: [{ ...heal, at: 1.5 }] }, want: /at/ },
    {
      desc: "a negative revision",
      input: { ...ok, heals: [{ ...heal, revision: -1 }] },
      want: /revision/,
    },
    {
      desc: "a revision past safe integers",
      input: { ...ok, heals: [{ ...heal, revision: 2 ** 53 }] },
      want: /revision/,
    },
    {
      desc: "a text revision",
      input: { ...ok, heals: [{ ...heal, revision: "4" }] },
      want: /revision/,
    },
    { desc: "an unknown field in a heal", input: { ...ok, heals: [{ ...heal, x: 1 }] }, want: /x/ },
    { desc: "an unknown field", input: { ...ok, extra: true }, want: /extra/ },
    { desc: "a negative dropped count", input: { ...ok, dropped: -1 }, want: /dropped/ },
    {
      desc: "no dropped count",
      input: { type: "unheard-heals", v: 2, heals: [heal] },
      want: /dropped/,
    },
    { desc: "protocol version 1", input: { ...ok, v: 1 }, want: /v/ },
  ];
  it.each(bad)("refuses $desc", ({ input, want }) => {
    const r = decodeReporterMessage(JSON.stringify(input));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(want);
  });
});

describe("the unheard-heals capability", () => {
  it("is known by its name", () => {
    expect(UNHEARD_HEALS).toBe("unheard-heals");
    expect(KNOWN_CAPABILITIES).toContain(UNHEARD_HEALS);
    expect([...parseCapabilities("chain-digests, unheard-heals")]).toContain(UNHEARD_HEALS);
  });
});
