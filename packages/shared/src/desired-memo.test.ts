// Drift's desired side is derived once per desired chain object, and is the same answer a
// fresh chain of the same content gets.
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS, defaultConfig } from "./config.js";
import { desiredLines, perDesiredChain } from "./desired-memo.js";
import { desiredExceptionRules, desiredReturned } from "./drift-destinations.js";
import { desiredChain } from "./rules.js";

const config = { ...defaultConfig(), masqueradeCIDRs: ["10.128.0.0/9"] };

describe("perDesiredChain", () => {
  it("derives once per chain object, even an undefined value", () => {
    const calls: string[] = [];
    const memo = perDesiredChain((d) => {
      calls.push(d.family);
      return undefined;
    });
    const v4 = desiredChain(config, DEFAULT_FLAGS, "ipv4");
    const v6 = desiredChain(config, DEFAULT_FLAGS, "ipv6");
    for (const d of [v4, v4, v6, v4, v6]) expect(memo(d)).toBeUndefined();
    expect(calls).toEqual(["ipv4", "ipv6"]);
  });

  const derived = [
    { desc: "desiredReturned", derive: desiredReturned },
    { desc: "desiredExceptionRules", derive: desiredExceptionRules },
    { desc: "desiredLines", derive: desiredLines },
  ];
  for (const { desc, derive } of derived)
    it(`${desc} is shared per chain and equals a fresh chain's`, () => {
      const d = desiredChain(config, DEFAULT_FLAGS, "ipv4");
      const fresh = desiredChain(config, DEFAULT_FLAGS, "ipv4");
      expect(derive(d)).toBe(derive(d));
      expect(derive(fresh)).not.toBe(derive(d));
      expect(derive(fresh)).toEqual(derive(d));
    });
});
