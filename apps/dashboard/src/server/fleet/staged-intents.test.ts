import type { RolloutStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { Intents } from "./staged-intents.js";

const waves: RolloutStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
} as const;
const atOnce: RolloutStrategy = { kind: "all-at-once" };

describe("Intents", () => {
  it("a save's strategy is found once by its text, and expires after two minutes", () => {
    let now = 0;
    const i = new Intents(() => now);
    i.note("a", waves);
    i.note("b", waves);
    expect(i.take("a", atOnce).strategy).toEqual(waves);
    expect(i.take("a", atOnce).strategy).toEqual(atOnce);
    now += 120_001;
    expect(i.take("b", atOnce).strategy).toEqual(atOnce);
  });

  it("keeps at most 16", () => {
    const i = new Intents(() => 0);
    for (let k = 0; k < 17; k++) i.note(`t${k}`, waves);
    expect(i.take("t0", atOnce).strategy).toEqual(atOnce);
    expect(i.take("t16", atOnce).strategy).toEqual(waves);
  });
});
