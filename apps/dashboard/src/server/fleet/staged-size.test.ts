import {
  assignWaves,
  boundsOf,
  defaultConfig,
  MAX_CANARY_NAMES,
  MAX_CONFIG_CIDRS,
  type MasqConfig,
  type WaveNode,
  type WavesStrategy,
} from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  MAX_ROLLOUT_STATE_BYTES,
  rolloutStateBytes,
  STATE_OVERHEAD_BYTES,
  sizeRefusalOf,
} from "./staged-size.js";
import {
  MAX_ROLLOUT_ACTIONS,
  persistedSchema,
  recordOf,
  type StagedState,
  stagedRecordSchema,
} from "./staged-state.js";

/** 63-character node names (the longest a DNS label allows), `n` of them. */
const longNames = (n: number) =>
  Array.from({ length: n }, (_, i) => `${"n".repeat(57)}-${String(i).padStart(5, "0")}`);
const strategy = (canary: WavesStrategy["canary"]): WavesStrategy => ({
  kind: "waves",
  canary,
  waves: [1, 2, 5, 10, 20, 30, 50, 70, 90, 100],
  pause: { kind: "manual" },
});
const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), "utf8");

/**
 * The state of a rollout cut over `names` at its largest otherwise: every node failed with a
 * 2,000-character reason, 100 actions of the longest user and detail.
 */
function worstState(names: string[], s: WavesStrategy, config: MasqConfig): StagedState {
  const selector = "selector" in s.canary;
  const nodes = names.map(
    (name, i): WaveNode => ({
      name,
      labels: selector && i < MAX_CANARY_NAMES ? { pool: "canary" } : {},
    }),
  );
  const waves = assignWaves(nodes, s);
  const action = {
    action: "promote" as const,
    user: "u".repeat(512),
    time: new Date(0).toISOString(),
    detail: "d".repeat(2000),
  };
  return {
    version: 1,
    resourceVersion: "12345678",
    revision: 7,
    previous: { resourceVersion: "12345600", revision: 6 },
    config,
    previousConfig: config,
    strategy: s,
    waves,
    observe: waves.map(() => []),
    bounds: boundsOf(waves, s),
    observeBounds: boundsOf(
      waves.map(() => []),
      s,
    ),
    core: { step: 10, lastStep: 10, phase: "paused", pause: null, aborted: false },
    failed: Object.fromEntries(names.map((n) => [n, "r".repeat(2000)])),
    actions: Array.from({ length: MAX_ROLLOUT_ACTIONS }, () => action),
    startedAt: 0,
    startedBy: "u".repeat(512),
  };
}

describe("the persisted rollout state at 100,000 nodes of 63-character names", () => {
  const names = longNames(100_000);
  const config = defaultConfig();
  const cases: { desc: string; input: WavesStrategy; want: { canary: number } }[] = [
    {
      desc: "a canary of 3 nodes: its 3 names",
      input: strategy({ count: 3 }),
      want: { canary: 3 },
    },
    {
      desc: "a canary of 1% (1,000 nodes): its names",
      input: strategy({ percent: 1 }),
      want: { canary: 1_000 },
    },
    {
      desc: "a canary of 10% (10,000 nodes): its boundary only",
      input: strategy({ percent: 10 }),
      want: { canary: 0 },
    },
    {
      desc: "a selector canary of the most names a rollout lists",
      input: strategy({ selector: { pool: "canary" } }),
      want: { canary: MAX_CANARY_NAMES },
    },
  ];
  it.each(cases)("$desc: far below 1 MiB, and read back", ({ input, want }) => {
    const s = worstState(names, input, config);
    const record = recordOf(s);
    const persisted = { version: 2, current: record, past: [] };
    const size = bytes(persisted);
    expect(record.bounds.canary?.length ?? 0).toBe(want.canary);
    expect(size).toBeLessThan(512 * 1024);
    // The refusal's estimate is an upper bound of what is written.
    expect(size).toBeLessThanOrEqual(
      rolloutStateBytes(record.bounds.canary ?? [], [config, config]),
    );
    expect(record.failedMore).toBe(100_000 - Object.keys(record.failed).length);
    expect(persistedSchema.parse(JSON.parse(JSON.stringify(persisted))).current).toEqual(record);
  });

  it("the same rollout's state is the same size at 1,000 nodes as at 100,000 (no node lists)", () => {
    const s = strategy({ count: 3 });
    const small = recordOf({ ...worstState(longNames(1_000), s, config), failed: {} });
    const big = recordOf({ ...worstState(names, s, config), failed: {} });
    expect(Math.abs(bytes(big) - bytes(small))).toBeLessThan(64);
    expect(bytes(big)).toBeLessThan(STATE_OVERHEAD_BYTES);
  });
});

describe("sizeRefusalOf(rolloutStateBytes)", () => {
  const config = defaultConfig();
  const v4 = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`;
  const v6 = (i: number) => `2001:db8:ffff:ffff:ffff:ffff:ffff:${i.toString(16)}/128`;
  /** A config of MAX_CONFIG_CIDRS CIDRs in each list. */
  const full = (cidr: (i: number) => string): MasqConfig => {
    const list = Array.from({ length: MAX_CONFIG_CIDRS }, (_, i) => cidr(i));
    return { ...config, nonMasqueradeCIDRs: list, masqueradeCIDRs: list };
  };
  const cases: {
    desc: string;
    input: { canary: string[]; configs: MasqConfig[] };
    want: RegExp | null;
  }[] = [
    {
      desc: "the default config: persisted",
      input: { canary: [], configs: [config, config] },
      want: null,
    },
    {
      desc: "a selector canary of 1,000 long names: persisted",
      input: { canary: longNames(MAX_CANARY_NAMES), configs: [config, config] },
      want: null,
    },
    {
      desc: "configs with the most IPv4 CIDRs a config may have (~330 KiB both): persisted",
      input: { canary: [], configs: [full(v4), full(v4)] },
      want: null,
    },
    {
      desc: "configs with the most long IPv6 CIDRs (~730 KiB both): over the bytes",
      input: { canary: [], configs: [full(v6), full(v6)] },
      want: /could take 1\d{3} KiB, more than the 768 KiB the history ConfigMap/,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = sizeRefusalOf(rolloutStateBytes(input.canary, input.configs));
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it("the limit: three quarters of a ConfigMap's 1 MiB", () => {
    expect(MAX_ROLLOUT_STATE_BYTES).toBe(786_432);
  });

  it("an older dashboard's state listing its waves is read as boundaries and sizes", () => {
    const s = strategy({ count: 2 });
    const cut = assignWaves(
      longNames(50).map((name) => ({ name })),
      s,
    );
    const {
      waves: _,
      observe: __,
      floor: ___,
      bounds: ____,
      observeBounds: _____,
      ...rest
    } = worstState(longNames(50), s, config);
    const old = { ...rest, failed: {}, waves: cut, observe: cut.map(() => []) };
    const got = stagedRecordSchema.safeParse(
      persistedSchema.parse({ version: 2, current: old, past: [] }).current,
    );
    expect(got.success && got.data).toMatchObject({
      bounds: boundsOf(cut, s),
      sizes: cut.map((w) => w.length),
    });
  });
});
