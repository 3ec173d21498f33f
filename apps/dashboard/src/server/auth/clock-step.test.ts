// Sessions, the auth decisions cache and the login backoff measure durations on the monotonic
// clock: a wall clock stepped forward (NTP, a VM resumed) signed everyone out, dropped cached
// decisions and lifted a client's wait early; one stepped back kept each alive or waiting for
// the length of the step. Both clocks are faked: time passing moves both, setSystemTime steps
// the wall one only.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LoginThrottle } from "./login-throttle.js";
import { SessionStore } from "./sessions.js";
import { TtlCache } from "./ttl-cache.js";

const HOUR = 3600_000;
const steps = [
  { desc: "forward 1 day", step: 24 * HOUR },
  { desc: "back 1 day", step: -24 * HOUR },
];
const stepWall = (ms: number) => vi.setSystemTime(Date.now() + ms);

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date", "performance"], now: 2_000_000_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("a session across a wall-clock step", () => {
  for (const { desc, step } of steps)
    it(`${desc}: alive 1 h after signing in, expired after its 12 h`, () => {
      const sessions = new SessionStore({ ttlMs: 12 * HOUR });
      const s = sessions.create("token", "alice");
      stepWall(step);
      vi.advanceTimersByTime(HOUR);
      expect(sessions.get(s.id)?.id).toBe(s.id);
      vi.advanceTimersByTime(11 * HOUR);
      expect(sessions.get(s.id)).toBeUndefined();
      expect(sessions.endedWhy(s.id)).toBe("expired");
    });
});

describe("a cached auth decision across a wall-clock step", () => {
  for (const { desc, step } of steps)
    it(`${desc}: kept 5 s of its 10 s, gone after`, () => {
      const cache = new TtlCache<string>();
      cache.set("k", "v", 10_000);
      stepWall(step);
      vi.advanceTimersByTime(5_000);
      expect(cache.get("k")).toBe("v");
      vi.advanceTimersByTime(5_000);
      expect(cache.get("k")).toBeUndefined();
    });
});

describe("a login backoff across a wall-clock step", () => {
  for (const { desc, step } of steps)
    it(`${desc}: the wait goes on, then ends`, () => {
      const throttle = new LoginThrottle({ freeFailures: 0, baseDelayMs: 60_000 });
      expect(throttle.fail("c").waitMs).toBe(60_000);
      stepWall(step);
      vi.advanceTimersByTime(1_000);
      expect(throttle.waitMs("c")).toBe(59_000);
      vi.advanceTimersByTime(59_000);
      expect(throttle.waitMs("c")).toBe(0);
    });
});
