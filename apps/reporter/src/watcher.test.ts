import { afterEach, describe, expect, it, vi } from "vitest";
import {
  coalescer,
  natEventFilter,
  parseMonitorLine,
  startWatcher,
  type Watcher,
} from "./watcher.js";

// Lines captured from `xtables-monitor -e` (iptables 1.8.9, nf_tables).
const LINES = {
  table: " EVENT: nft: NEW table: table nat ip flags 0 use 1 handle 1",
  newChain: " EVENT: -4 -t nat -N IP-MASQ-AGENT",
  rule: ' EVENT: -4 -t nat -A IP-MASQ-AGENT -d 10.0.0.0/8 -m comment --comment "x y" -j RETURN',
  filter: " EVENT: -4 -t filter -A INPUT -j ACCEPT",
  baseChain:
    " EVENT: # nft: ip nat POSTROUTING use 1 type nat hook postrouting prio 100 policy accept packets 0 bytes 0 flags 1",
  jump: " EVENT: -4 -t nat -A POSTROUTING -m addrtype ! --dst-type LOCAL -j IP-MASQ-AGENT",
  kube: " EVENT: -4 -t nat -A KUBE-SVC-ABC -j KUBE-SEP-XYZ",
  kubePost: " EVENT: -4 -t nat -A KUBE-POSTROUTING -j MASQUERADE --random-fully",
  v6: " EVENT: -6 -t nat -N FOO6",
  delTable: " EVENT: nft: DEL table: table nat ip6 flags 0 use 0 handle 3",
  newgen: "NEWGEN: GENID=5 PID=9176 NAME=iptables-restor",
};

describe("parseMonitorLine", () => {
  it("reads rule, chain, table and generation lines", () => {
    expect(parseMonitorLine(LINES.rule)).toEqual({
      kind: "rule",
      family: "ipv4",
      table: "nat",
      chain: "IP-MASQ-AGENT",
    });
    expect(parseMonitorLine(LINES.newChain)).toEqual({
      kind: "chain",
      family: "ipv4",
      table: "nat",
      chain: "IP-MASQ-AGENT",
    });
    expect(parseMonitorLine(LINES.baseChain)).toEqual({
      kind: "chain",
      family: "ipv4",
      table: "nat",
      chain: "POSTROUTING",
    });
    expect(parseMonitorLine(LINES.table)).toEqual({ kind: "table", family: "ipv4", table: "nat" });
    expect(parseMonitorLine(LINES.delTable)).toEqual({
      kind: "table",
      family: "ipv6",
      table: "nat",
    });
    expect(parseMonitorLine(LINES.newgen)).toEqual({ kind: "newgen" });
    expect(parseMonitorLine("garbage")).toEqual({ kind: "other" });
  });
});

describe("natEventFilter", () => {
  const relevant = natEventFilter(new Set(["KUBE-POSTROUTING"]), "IP-MASQ-AGENT", ["ipv4"]);
  const r = (line: string) => relevant(parseMonitorLine(line));
  it("keeps our chain, POSTROUTING, the chains on the path read last and nat table events", () => {
    expect(
      [LINES.rule, LINES.newChain, LINES.jump, LINES.baseChain, LINES.table, LINES.kubePost].map(r),
    ).toEqual([true, true, true, true, true, true]);
  });
  it("ignores other tables, nat chains off the path, unmanaged families and generations", () => {
    expect([LINES.filter, LINES.kube, LINES.v6, LINES.delTable, LINES.newgen].map(r)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });
  it("keeps IPv6 events when IPv6 is managed", () => {
    expect(natEventFilter(new Set(), "FOO6", ["ipv4", "ipv6"])(parseMonitorLine(LINES.v6))).toBe(
      true,
    );
  });
});

describe("coalescer", () => {
  afterEach(() => vi.useRealTimers());
  it("fires once per burst, after the quiet time", () => {
    vi.useFakeTimers();
    const fire = vi.fn();
    const c = coalescer(fire, 15, 100);
    for (let i = 0; i < 5; i++) {
      c.poke();
      vi.advanceTimersByTime(5);
    }
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(15);
    expect(fire).toHaveBeenCalledTimes(1);
  });
  it("fires at once on flush when a burst is pending, and not otherwise", () => {
    vi.useFakeTimers();
    const fire = vi.fn();
    const c = coalescer(fire, 15, 100);
    c.flush();
    expect(fire).not.toHaveBeenCalled();
    c.poke();
    c.flush();
    expect(fire).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(200);
    expect(fire).toHaveBeenCalledTimes(1);
  });

  it("never waits longer than maxWait in a continuous stream", () => {
    vi.useFakeTimers();
    const fire = vi.fn();
    const c = coalescer(fire, 15, 100);
    for (let i = 0; i < 30; i++) {
      c.poke();
      vi.advanceTimersByTime(10);
    }
    expect(fire.mock.calls.length).toBeGreaterThanOrEqual(2);
  });
});

describe("startWatcher", () => {
  let w: Watcher | undefined;
  afterEach(() => w?.close());

  // A stand-in monitor: prints relevant and irrelevant lines, then waits.
  const fakeMonitor = (lines: string[]) => [
    "node",
    "-e",
    `for (const l of ${JSON.stringify(lines)}) console.log(l); setInterval(() => {}, 1000);`,
  ];

  it("asks for one re-read per relevant burst and ignores noise", async () => {
    const sources: string[] = [];
    w = startWatcher({
      monitorArgv: fakeMonitor([LINES.filter, LINES.kube, LINES.rule, LINES.jump, LINES.newgen]),
      isRelevant: natEventFilter(new Set(), "IP-MASQ-AGENT", ["ipv4"]),
      onChange: (s) => sources.push(s),
      pollIntervalMs: 0,
      settleMs: 10_000,
    });
    // Waits for the event however slowly the stand-in monitor starts (loaded CI), then gives
    // the rest of the burst time to (wrongly) cause a second re-read.
    await vi.waitFor(() => expect(sources).toContain("event"), { timeout: 20_000, interval: 20 });
    await new Promise((r) => setTimeout(r, 300));
    expect(sources).toEqual(["event"]);
  });

  it("polls when there is no monitor", async () => {
    const sources: string[] = [];
    w = startWatcher({
      monitorArgv: null,
      isRelevant: () => true,
      onChange: (s) => sources.push(s),
      pollIntervalMs: 50,
    });
    await w.ready;
    await vi.waitFor(() => expect(sources.length).toBeGreaterThanOrEqual(2), {
      timeout: 20_000,
      interval: 20,
    });
    expect(new Set(sources)).toEqual(new Set(["poll"]));
  });

  // The re-read after a start covers changes made before the monitor subscribed: it must come
  // after the subscription, however long that takes on a loaded node.
  const settling = (subscribed: () => boolean | undefined, settleMs: number) => {
    const sources: string[] = [];
    const started = Date.now();
    w = startWatcher({
      monitorArgv: fakeMonitor([]),
      isRelevant: () => true,
      onChange: (s) => sources.push(s),
      pollIntervalMs: 0,
      settleMs,
      subscribed,
    });
    return { sources, elapsed: () => Date.now() - started };
  };

  it("re-reads once the monitor has subscribed, not at the cap", async () => {
    let checks = 0;
    const { sources } = settling(() => ++checks >= 3, 60_000);
    await w!.ready;
    expect(sources).toEqual(["monitor-restart"]);
    expect(checks).toBe(3);
  });

  it("not subscribed: waits, then re-reads at the cap anyway", async () => {
    const { sources, elapsed } = settling(() => false, 300);
    await new Promise((r) => setTimeout(r, 100));
    expect(sources).toEqual([]);
    await w!.ready;
    expect(sources).toEqual(["monitor-restart"]);
    expect(elapsed()).toBeGreaterThanOrEqual(300);
  });

  it("where /proc cannot tell: re-reads after the assumed 150 ms", async () => {
    const { sources, elapsed } = settling(() => undefined, 60_000);
    await w!.ready;
    expect(sources).toEqual(["monitor-restart"]);
    expect(elapsed()).toBeGreaterThanOrEqual(150);
  });

  it("re-reads after the monitor (re)starts, and restarts it when it dies", async () => {
    const sources: string[] = [];
    w = startWatcher({
      monitorArgv: ["node", "-e", "setTimeout(() => process.exit(1), 50)"],
      isRelevant: () => true,
      onChange: (s) => sources.push(s),
      pollIntervalMs: 0,
      settleMs: 20,
    });
    await vi.waitFor(
      () => expect(sources.filter((s) => s === "monitor-restart").length).toBeGreaterThanOrEqual(2),
      { timeout: 20_000, interval: 20 },
    );
  });
});
