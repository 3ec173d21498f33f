import { defaultConfig, MAX_CANARY_NAMES, type WavesStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { cutWaves, sameStrategy } from "./staged-cut.js";

const WAVES: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
};
const nodes = (n: number, labels?: Record<string, string>) =>
  Array.from({ length: n }, (_, i) => ({ name: `n-${i}`, labels }));

describe("cutWaves", () => {
  it("cuts enforce- and observe-mode nodes apart, with boundaries for the state", () => {
    const cut = cutWaves(nodes(5), [], WAVES, [defaultConfig(), defaultConfig()]);
    if ("error" in cut) throw new Error(cut.error);
    expect(cut.waves.map((w) => w.length)).toEqual([1, 4]);
    expect(cut.observe).toEqual([[], []]);
    expect(cut.bounds.last).toHaveLength(2);
  });

  it("a selector canary over the names a state keeps: trimmed, the rest in a later wave", () => {
    const sel: WavesStrategy = { ...WAVES, canary: { selector: { role: "c" } } };
    const cut = cutWaves(nodes(MAX_CANARY_NAMES + 1, { role: "c" }), [], sel, [defaultConfig()]);
    if ("error" in cut) throw new Error(cut.error);
    expect(cut.waves[0]).toHaveLength(MAX_CANARY_NAMES);
    expect(cut.waves[1]).toHaveLength(1);
  });

  it("configs too big for the state to be persisted: refused with why", () => {
    const huge = "x".repeat(1024 * 1024);
    expect(cutWaves(nodes(3), [], WAVES, [huge])).toEqual({ error: expect.any(String) });
  });
});

describe("sameStrategy", () => {
  it("whatever the order of its keys", () => {
    const reordered = {
      pause: { kind: "manual" },
      waves: [100],
      canary: { count: 1 },
      kind: "waves",
    };
    expect(sameStrategy(WAVES, reordered as WavesStrategy)).toBe(true);
    expect(sameStrategy(WAVES, { ...WAVES, waves: [50, 100] })).toBe(false);
  });
});
