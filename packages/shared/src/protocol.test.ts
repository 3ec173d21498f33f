import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import {
  MAX_CHAIN_NAME_LENGTH,
  MAX_FAMILY_SNAPSHOTS,
  MAX_FRAME_BYTES,
  MAX_SNAPSHOT_CHAINS,
} from "./limits.js";
import {
  decodeDashboardMessage,
  decodeReporterMessage,
  encodeMessage,
  type FamilySnapshot,
  PROTOCOL_VERSION,
  type ReporterMessage,
} from "./protocol.js";
import { createReporterDecoder, frameForVersion, V1_UNREAD_NOTE } from "./protocol-v1.js";

const hello: ReporterMessage = {
  type: "hello",
  v: 2,
  node: "node-a.example",
  os: "linux",
  kernel: "6.1.0",
  iptablesVersion: "iptables v1.8.9 (nf_tables)",
  backend: "legacy",
  ruleBackends: ["legacy", "nf_tables"],
  randomFullySupported: true,
  mode: "enforce",
  flags: DEFAULT_FLAGS,
  reporterVersion: "0.2.0",
  appliedRevision: null,
};

const family: FamilySnapshot = {
  family: "ipv4",
  backend: "legacy",
  chains: [
    { name: "POSTROUTING", lines: postroutingS() },
    {
      name: "KUBE-POSTROUTING",
      lines: ["-N KUBE-POSTROUTING", "-A KUBE-POSTROUTING -j MASQUERADE"],
    },
    { name: "IP-MASQ-AGENT", lines: chainS() },
  ],
};

const fam = (f: string, backend: string) => ({
  family: f,
  backend,
  chains: [{ name: "POSTROUTING", digest: `sha256:${"ab".repeat(32)}` }],
});
const winList = { pointer: "/plugins/0/AdditionalArgs/0", form: "OutBoundNAT", exceptions: [] };

const snapshot = (linux: unknown[]) =>
  JSON.stringify({ type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: null, linux });

describe("reporter messages (v2)", () => {
  it("round-trips a hello and a snapshot of two backends", () => {
    expect(decodeReporterMessage(encodeMessage(hello))).toEqual({ ok: true, msg: hello });
    const snap = JSON.parse(snapshot([family, { ...family, backend: "nf_tables" }]));
    expect(decodeReporterMessage(JSON.stringify(snap))).toEqual({ ok: true, msg: snap });
  });
  const chain = (name: string, lines: string[] | null = [`-N ${name}`]) => ({ name, lines });
  const bad: { desc: string; input: string; reason: RegExp }[] = [
    { desc: "not JSON", input: "{", reason: /^not JSON/ },
    { desc: "unknown type", input: JSON.stringify({ ...hello, type: "boom" }), reason: /type/ },
    { desc: "protocol version 1 here", input: JSON.stringify({ ...hello, v: 1 }), reason: /^v:/ },
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
      desc: "an unknown backend",
      input: JSON.stringify({ ...hello, ruleBackends: ["ebtables"] }),
      reason: /^ruleBackends\.0/,
    },
    {
      desc: "oversized frame",
      input: JSON.stringify({ ...hello, kernel: "x".repeat(MAX_FRAME_BYTES) }),
      reason: /larger than/,
    },
    {
      desc: "a v1 snapshot shape",
      input: snapshot([{ family: "ipv4", chain: chainS(), postrouting: postroutingS() }]),
      reason: /^linux\.0/,
    },
    {
      desc: "a too-long line",
      input: snapshot([{ ...family, chains: [chain("X", ["-N X", `-A X ${"x".repeat(5000)}`])] }]),
      reason: /linux\.0\.chains\.0\.lines\.1/,
    },
    {
      desc: "a line holding a newline (two lines as one)",
      input: snapshot([
        { ...family, chains: [chain("X", ["-N X", "-A X -j RETURN\n-A X -j MASQUERADE"])] },
      ]),
      reason: /linux\.0\.chains\.0\.lines\.1: a rule line holds no newline/,
    },
    {
      desc: "lines of another chain",
      input: snapshot([{ ...family, chains: [chain("X", ["-N X", "-A POSTROUTING -j ACCEPT"])] }]),
      reason: /linux\.0\.chains\.0\.lines: every line/,
    },
    {
      desc: "a chain listed twice",
      input: snapshot([{ ...family, chains: [chain("X"), chain("X")] }]),
      reason: /linux\.0\.chains\.1\.name: duplicate/,
    },
    {
      desc: "a chain name iptables cannot have",
      input: snapshot([{ ...family, chains: [chain("-F")] }]),
      reason: /linux\.0\.chains\.0\.name/,
    },
    {
      desc: "a chain name longer than iptables allows",
      input: snapshot([{ ...family, chains: [chain("C".repeat(MAX_CHAIN_NAME_LENGTH + 1))] }]),
      reason: /linux\.0\.chains\.0\.name/,
    },
    {
      desc: "more chains than the bound",
      input: snapshot([
        {
          ...family,
          chains: Array.from({ length: MAX_SNAPSHOT_CHAINS + 1 }, (_, i) => chain(`C${i}`)),
        },
      ]),
      reason: /linux\.0\.chains/,
    },
    {
      desc: "more family snapshots than the bound",
      input: snapshot(Array.from({ length: MAX_FAMILY_SNAPSHOTS + 1 }, () => family)),
      reason: /^linux/,
    },
    {
      desc: "one family and backend twice (read as two backends: a conflict that is not there)",
      input: snapshot([
        { ...family, backend: "nf_tables" },
        { ...family, backend: "nf_tables" },
      ]),
      reason: /^linux: a family and backend twice/,
    },
    {
      desc: "one family and backend twice among others",
      input: snapshot([family, { ...family, family: "ipv6" }, family]),
      reason: /^linux: a family and backend twice/,
    },
    {
      desc: "chains by digest: one family and backend twice",
      input: JSON.stringify({
        ...JSON.parse(snapshot([])),
        linux: undefined,
        linuxChains: [fam("ipv4", "legacy"), fam("ipv4", "legacy")],
      }),
      reason: /^linuxChains: a family and backend twice/,
    },
    {
      desc: "a backend named twice in a hello",
      input: JSON.stringify({ ...hello, ruleBackends: ["nf_tables", "nf_tables"] }),
      reason: /^ruleBackends: a backend named twice/,
    },
    {
      desc: "two Windows exception lists at one JSON pointer",
      input: JSON.stringify({
        ...JSON.parse(snapshot([])),
        linux: undefined,
        windows: { path: "/etc/cni/net.d/10.conf", lists: [winList, winList] },
      }),
      reason: /^windows\.lists: two exception lists at one JSON pointer/,
    },
    {
      desc: "an apply taking 1e300 ms",
      input: JSON.stringify({
        type: "apply-result",
        v: 2,
        revision: 1,
        ok: true,
        durationMs: 1e300,
        trigger: "desired",
        changed: true,
      }),
      reason: /^durationMs: an apply takes at most 86400000 ms/,
    },
    {
      desc: "a resync schedule with a zero interval",
      input: JSON.stringify({
        type: "snapshot",
        v: 2,
        seq: 1,
        takenAt: 1,
        appliedRevision: null,
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
  it("takes each family from each backend once, in both ways of naming rules", () => {
    const all = [
      ["ipv4", "nf_tables"],
      ["ipv4", "legacy"],
      ["ipv6", "nf_tables"],
      ["ipv6", "legacy"],
    ] as const;
    const linux = all.map(([f, backend]) => ({ ...family, family: f, backend }));
    const linuxChains = all.map(([f, backend]) => fam(f, backend));
    const msg = { ...JSON.parse(snapshot(linux)), linuxChains };
    expect(decodeReporterMessage(JSON.stringify(msg))).toEqual({ ok: true, msg });
    const windows = { path: "/c", lists: [winList, { ...winList, pointer: "/plugins/1" }] };
    const win = { ...JSON.parse(snapshot([])), linux: undefined, windows };
    expect(decodeReporterMessage(JSON.stringify(win)).ok).toBe(true);
  });
  it("round-trips a snapshot with and without the reporter's resync schedule", () => {
    const base = { type: "snapshot", v: 2, seq: 4, takenAt: 1_000, appliedRevision: 2 } as const;
    const schedule = { heal: "immediate", resyncMs: 60_000, nextResyncAt: 61_000 } as const;
    for (const msg of [base, { ...base, schedule }])
      expect(decodeReporterMessage(encodeMessage(msg))).toEqual({ ok: true, msg });
  });
  it("accepts binary frames as UTF-8", () => {
    expect(decodeReporterMessage(new TextEncoder().encode(encodeMessage(hello))).ok).toBe(true);
  });
});

describe("a reporter connection's decoder (v1 and v2)", () => {
  const { ruleBackends: _r, ...helloV1Fields } = hello;
  const helloV1 = { ...helloV1Fields, v: 1, backend: "legacy" };
  const snapV1 = (linux: unknown[]) =>
    JSON.stringify({ type: "snapshot", v: 1, seq: 4, takenAt: 9, appliedRevision: 2, linux });

  it("speaks v2 with a v2 reporter", () => {
    const d = createReporterDecoder();
    expect(d.decode(encodeMessage(hello))).toEqual({ ok: true, msg: hello });
    expect(d.version).toBe(2);
    expect(d.decode(snapshot([family])).ok).toBe(true);
  });

  it("upgrades a v1 reporter's snapshot: its two chains, and the chains they jump to as unread", () => {
    const d = createReporterDecoder();
    expect(d.decode(JSON.stringify(helloV1))).toEqual({ ok: true, msg: { ...helloV1, v: 2 } });
    expect(d.version).toBe(1);
    const r = d.decode(snapV1([{ family: "ipv4", chain: chainS(), postrouting: postroutingS() }]));
    expect(r).toEqual({
      ok: true,
      msg: {
        type: "snapshot",
        v: PROTOCOL_VERSION,
        seq: 4,
        takenAt: 9,
        appliedRevision: 2,
        linux: [
          {
            family: "ipv4",
            backend: "legacy",
            chains: [
              { name: "POSTROUTING", lines: postroutingS() },
              { name: "IP-MASQ-AGENT", lines: chainS() },
            ],
            unread: ["KUBE-POSTROUTING"],
            unreadNote: V1_UNREAD_NOTE,
          },
        ],
      },
    });
  });

  const v1Cases: {
    desc: string;
    input: { chain: string[] | null; postrouting: string[]; readError?: string };
    want: { chains: string[]; unread?: string[] };
  }[] = [
    {
      desc: "a missing agent chain stays a chain that does not exist",
      input: { chain: null, postrouting: ["-P POSTROUTING ACCEPT"] },
      want: { chains: ["POSTROUTING", "IP-MASQ-AGENT"] },
    },
    {
      desc: "a failed read keeps neither chain (they were not read)",
      input: { chain: null, postrouting: [], readError: "POSTROUTING: permission denied" },
      want: { chains: [] },
    },
    {
      desc: "targets of the agent chain count too; extensions never",
      input: {
        chain: ["-N IP-MASQ-AGENT", "-A IP-MASQ-AGENT -j CNI-0a1b", "-A IP-MASQ-AGENT -j LOG"],
        postrouting: [
          "-P POSTROUTING ACCEPT",
          '-A POSTROUTING -g cali-nat -m comment --comment "-j X"',
        ],
      },
      want: { chains: ["POSTROUTING", "IP-MASQ-AGENT"], unread: ["cali-nat", "CNI-0a1b"] },
    },
  ];
  for (const c of v1Cases) {
    it(c.desc, () => {
      const d = createReporterDecoder();
      d.decode(JSON.stringify(helloV1));
      const r = d.decode(snapV1([{ family: "ipv4", ...c.input }]));
      expect(r.ok).toBe(true);
      if (!r.ok || r.msg.type !== "snapshot") return;
      const f = r.msg.linux?.[0];
      expect(f?.chains.map((x) => x.name)).toEqual(c.want.chains);
      expect(f?.unread).toEqual(c.want.unread);
      expect(f?.readError).toBe(c.input.readError);
    });
  }

  const refused: { desc: string; frames: string[]; reason: RegExp }[] = [
    {
      desc: "an unsupported version",
      frames: [JSON.stringify({ ...hello, v: 3 })],
      reason: /^v: protocol version 3 is not supported/,
    },
    { desc: "a v1 snapshot before any hello", frames: [snapV1([])], reason: /before the hello/ },
    {
      desc: "a change of version after the hello",
      frames: [JSON.stringify(helloV1), snapshot([family])],
      reason: /^v: protocol version 2 after a version 1 hello/,
    },
    {
      desc: "a v1 snapshot of one family twice (upgraded to one family and backend twice)",
      frames: [
        JSON.stringify(helloV1),
        snapV1([
          { family: "ipv4", chain: chainS(), postrouting: postroutingS() },
          { family: "ipv4", chain: chainS(), postrouting: postroutingS() },
        ]),
      ],
      reason: /^linux: a family and backend twice/,
    },
    {
      desc: "a v2 field in a v1 hello",
      frames: [JSON.stringify({ ...helloV1, ruleBackends: [] })],
      reason: /ruleBackends/,
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.desc}`, () => {
      const d = createReporterDecoder();
      const last = c.frames.map((f) => d.decode(f)).at(-1);
      expect(last?.ok).toBe(false);
      if (last && !last.ok) expect(last.reason).toMatch(c.reason);
    });
  }
});

describe("a reporter of the previous release (generation, appliedGeneration)", () => {
  const { appliedRevision: _, ...rest } = hello;
  const oldHello = JSON.stringify({ ...rest, appliedGeneration: 5 });
  it("is read in the current names, and its dialect is remembered for the answers", () => {
    const d = createReporterDecoder();
    expect(d.decode(oldHello)).toEqual({ ok: true, msg: { ...hello, appliedRevision: 5 } });
    expect(d.dialect).toEqual({ version: 2, legacyNames: true });
    const result = { type: "apply-result", v: 2, generation: 6, ok: true, durationMs: 1 };
    const r = d.decode(JSON.stringify({ ...result, trigger: "desired", changed: true }));
    expect(r.ok && r.msg.type === "apply-result" && r.msg.revision).toBe(6);
  });
  it("a reporter of this release speaks the current names", () => {
    const d = createReporterDecoder();
    expect(d.decode(encodeMessage(hello)).ok).toBe(true);
    expect(d.dialect).toEqual({ version: 2, legacyNames: false });
  });
  it("a hello with both names is refused, as any unknown field", () => {
    const d = createReporterDecoder();
    const both = d.decode(JSON.stringify({ ...hello, appliedGeneration: 5 }));
    expect(both.ok).toBe(false);
  });
});

describe("dashboard messages", () => {
  const desired = {
    type: "desired" as const,
    v: PROTOCOL_VERSION,
    revision: 3,
    resourceVersion: "7",
    config: defaultConfig(),
  };
  it("round-trips a desired config", () => {
    expect(decodeDashboardMessage(encodeMessage(desired))).toEqual({ ok: true, msg: desired });
  });
  it("labels a frame for the version a reporter speaks", () => {
    const frame = encodeMessage(desired);
    expect(frameForVersion(frame, 2)).toBe(frame);
    // v1 reporters are of a release that said `generation` and a string `revision`.
    const old = { type: "desired", v: 1, generation: 3, revision: "7", config: defaultConfig() };
    expect(JSON.parse(frameForVersion(frame, 1))).toEqual(old);
    expect(JSON.parse(frameForVersion(frame, 2, true))).toEqual({ ...old, v: 2 });
    expect(() => frameForVersion('{"type":"gossip"}', 1)).toThrow(/not a dashboard message/);
  });
  it("reads a desired of the previous release's dashboard in the current names, and says so", () => {
    const old = { type: "desired", v: 2, generation: 3, revision: "7", config: defaultConfig() };
    expect(decodeDashboardMessage(JSON.stringify(old))).toEqual({
      ok: true,
      msg: desired,
      legacy: true,
    });
  });
  it("refuses a desired config with unknown keys", () => {
    const r = decodeDashboardMessage(
      JSON.stringify({ ...desired, config: { ...defaultConfig(), evil: true } }),
    );
    expect(r.ok).toBe(false);
  });
});
