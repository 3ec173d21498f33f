import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { clientKey, LoginThrottle } from "./login-throttle.js";

function clock(start = 1_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe("LoginThrottle", () => {
  it("lets 5 mistakes through, then doubles the wait up to the cap", () => {
    const c = clock();
    const t = new LoginThrottle({ now: c.now, maxDelayMs: 8_000 });
    const waits = Array.from({ length: 10 }, () => {
      const f = t.fail("a");
      c.t += f.waitMs; // the client waits exactly as long as told
      return f.waitMs;
    });
    expect(waits).toEqual([0, 0, 0, 0, 0, 1000, 2000, 4000, 8000, 8000]);
  });

  it("refuses attempts until the wait is over, per client", () => {
    const c = clock();
    const t = new LoginThrottle({ now: c.now, freeFailures: 1 });
    t.fail("a");
    expect(t.waitMs("a")).toBe(0);
    expect(t.fail("a").waitMs).toBe(1000);
    expect(t.waitMs("a")).toBe(1000);
    expect(t.waitMs("b")).toBe(0);
    c.t += 400;
    expect(t.waitMs("a")).toBe(600);
    c.t += 600;
    expect(t.waitMs("a")).toBe(0);
  });

  it("keeps counting across successes and forgets a client idle for the window", () => {
    const c = clock();
    const t = new LoginThrottle({ now: c.now, freeFailures: 2, forgetAfterMs: 60_000 });
    t.fail("a");
    t.fail("a");
    expect(t.fail("a").failures).toBe(3);
    c.t += 60_001;
    expect(t.fail("a")).toEqual({ failures: 1, waitMs: 0 });
    t.succeed("a");
    expect(t.fail("a").failures).toBe(1);
  });

  it("tracks at most maxClients, dropping the one idle longest", () => {
    const t = new LoginThrottle({ maxClients: 3, freeFailures: 0 });
    for (const k of ["a", "b", "c", "d"]) t.fail(k);
    expect(t.size).toBe(3);
    expect(t.waitMs("a")).toBe(0);
    expect(t.waitMs("d")).toBeGreaterThan(0);
  });
});

describe("clientKey", () => {
  const cases: { desc: string; input: string | undefined; want: string }[] = [
    { desc: "IPv4", input: "192.0.2.7", want: "192.0.2.7" },
    { desc: "IPv4-mapped IPv6", input: "::ffff:192.0.2.7", want: "192.0.2.7" },
    { desc: "IPv6 counted per /64", input: "2001:db8:1:2:aa:bb:cc:dd", want: "2001:db8:1:2::/64" },
    { desc: "another host of that /64", input: "2001:db8:1:2::9", want: "2001:db8:1:2::/64" },
    { desc: "IPv6 with a zone", input: "fe80::1%eth0", want: "fe80::/64" },
    { desc: "loopback", input: "::1", want: "::/64" },
    { desc: "no address (closed socket)", input: undefined, want: "unknown" },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const req = { socket: { remoteAddress: input } } as unknown as IncomingMessage;
    expect(clientKey(req)).toBe(want);
  });
});
