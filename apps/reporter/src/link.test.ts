import { retryDelay } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { DEFAULT_BACKOFF } from "./link.js";

describe("the link's reconnect delay", () => {
  it("retries the first time in under a second", () => {
    for (const r of [0, 0.5, 0.999])
      expect(retryDelay(0, DEFAULT_BACKOFF, () => r)).toBeLessThan(1_000);
  });
  it("grows exponentially and is capped at 30 s", () => {
    const max = (n: number) => retryDelay(n, DEFAULT_BACKOFF, () => 1);
    expect(max(1)).toBeGreaterThan(max(0));
    expect(max(2)).toBeGreaterThan(max(1));
    expect(max(10)).toBe(30_000);
    expect(max(1_000)).toBe(30_000);
  });
  it("is jittered between half and all of the ceiling", () => {
    expect(retryDelay(10, DEFAULT_BACKOFF, () => 0)).toBe(15_000);
    const seen = new Set(Array.from({ length: 50 }, () => retryDelay(3, DEFAULT_BACKOFF)));
    expect(seen.size).toBeGreaterThan(10);
  });
});
