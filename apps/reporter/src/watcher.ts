// Change detection: follow `xtables-monitor -e` and ask for a re-read when an event touches a
// chain on the path we read (bursts coalesced), with a periodic poll as the fallback and the only way
// on the legacy backend. The watcher never reads rules itself: it only says "look again".
import type { ChildProcess } from "node:child_process";
import { type BackoffPolicy, type Family, retryDelay, setLongInterval } from "@masq/shared";
import type { ChangeSource, Watch } from "./backend/types.js";
import { spawnArgv } from "./exec.js";
import { type Logger, silentLogger } from "./log.js";
import { monitorSubscribed } from "./monitor-subscribed.js";

export interface MonitorEvent {
  /** `lost`: the monitor says it missed events (nft's netlink buffer overflowed). */
  kind: "rule" | "chain" | "table" | "newgen" | "lost" | "other";
  family?: Family;
  table?: string;
  chain?: string;
  /** nft monitor: the chain line declares a nat postrouting base chain. */
  natPostrouting?: boolean;
  /** nft monitor: the object the line names (`rule`, `element`, `set`, `map`, `chain`, …). */
  object?: string;
}

/** Restarts of a monitor that exited: 1 s (after its first failure), doubling to 30 s. */
export const MONITOR_RESTART: BackoffPolicy = { initialMs: 500, maxMs: 30_000 };

/** The longest wait for a started monitor to subscribe before the re-read anyway (ms). */
export const MONITOR_SUBSCRIBE_MAX_MS = 5_000;
/** How often a started monitor's subscription is looked for (ms). */
const SUBSCRIBE_CHECK_MS = 10;
/** Where /proc cannot tell: the time a monitor is taken to need to subscribe (ms). */
const ASSUMED_SUBSCRIBE_MS = 150;

/** The longest partial monitor line kept while waiting for its end. */
export const MAX_MONITOR_LINE_CHARS = 64 * 1024;

const FAMILY_FLAG: Record<string, Family> = { "-4": "ipv4", "-6": "ipv6" };
const NFT_FAMILY: Record<string, Family> = { ip: "ipv4", ip6: "ipv6" };

/**
 * Reads one xtables-monitor line, e.g. ` EVENT: -4 -t nat -A IP-MASQ-AGENT -d 1.2.3.0/24 -j RETURN`,
 * ` EVENT: # nft: ip nat POSTROUTING use 1 type nat hook ...`, ` EVENT: nft: NEW table: table nat ip ...`
 * or `NEWGEN: GENID=10 PID=4862 NAME=iptables-restor`.
 */
export function parseMonitorLine(line: string): MonitorEvent {
  const text = line.trim();
  if (text.startsWith("NEWGEN:")) return { kind: "newgen" };
  if (!text.startsWith("EVENT:")) return { kind: "other" };
  const words = text.slice(6).trim().split(/\s+/);
  const family = FAMILY_FLAG[words[0] ?? ""];
  if (family && words[1] === "-t") {
    return {
      kind: words[3] === "-N" || words[3] === "-X" ? "chain" : "rule",
      family,
      table: words[2],
      chain: words[4],
    };
  }
  if (words[0] === "#" && words[1] === "nft:") {
    return { kind: "chain", family: NFT_FAMILY[words[2] ?? ""], table: words[3], chain: words[4] };
  }
  const table = /^nft: (?:NEW|DEL) table: table (\S+) (\S+)/.exec(text.slice(6).trim());
  if (table) return { kind: "table", table: table[1], family: NFT_FAMILY[table[2] ?? ""] };
  return { kind: "other" };
}

/**
 * Events that may change what the reporter reads for our families: any chain of the last read
 * (`watched`: the POSTROUTING path), the agent chain, POSTROUTING, and table events.
 */
export function natEventFilter(
  watched: ReadonlySet<string>,
  chain: string,
  families: readonly Family[],
): (ev: MonitorEvent) => boolean {
  return (ev) => {
    if (ev.kind === "newgen") return false;
    if (ev.kind === "other") return false;
    if (ev.table !== "nat") return false;
    if (ev.family !== undefined && !families.includes(ev.family)) return false;
    return (
      ev.kind === "table" ||
      ev.chain === undefined ||
      ev.chain === chain ||
      ev.chain === "POSTROUTING" ||
      watched.has(ev.chain)
    );
  };
}

export interface WatcherOptions {
  /** argv printing one line per ruleset change (xtables-monitor); null: poll only. */
  monitorArgv: string[] | null;
  netns?: string;
  /** How a monitor line reads (default: xtables-monitor's; `nft monitor` has its own). */
  parseLine?: (line: string) => MonitorEvent;
  isRelevant: (ev: MonitorEvent) => boolean;
  onChange: (source: ChangeSource) => void;
  /** Fallback poll; 0 disables it. */
  pollIntervalMs: number;
  /** Quiet time that ends a burst (default 15 ms) … */
  debounceMs?: number;
  /** … but never wait longer than this after the first event (default 100 ms). */
  maxWaitMs?: number;
  /**
   * A monitor that just started may have missed changes: re-read once it has subscribed
   * (`subscribed`), or after this long at most (default MONITOR_SUBSCRIBE_MAX_MS).
   */
  settleMs?: number;
  /** Whether the monitor process has subscribed (default: from /proc, monitor-subscribed.ts). */
  subscribed?: (pid: number) => boolean | undefined;
  /** The monitor exited or failed to start: events may be missed until its restart settles. */
  onMonitorExit?: () => void;
  logger?: Logger;
}

export interface Watcher extends Watch {
  /** Resolves once the monitor has subscribed, or its wait ran out (immediately when polling only). */
  ready: Promise<void>;
}

/** Coalesces calls: fires after `debounceMs` of quiet, at most `maxWaitMs` after the first, or on flush(). */
export function coalescer(fire: () => void, debounceMs: number, maxWaitMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  const run = () => {
    timer = undefined;
    fire();
  };
  return {
    poke(now = Date.now()) {
      if (timer === undefined) first = now;
      else clearTimeout(timer);
      timer = setTimeout(run, Math.max(0, Math.min(debounceMs, first + maxWaitMs - now)));
    },
    /** Fires now if a burst is pending. */
    flush() {
      if (timer === undefined) return;
      clearTimeout(timer);
      run();
    },
    cancel() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}

/**
 * A monitor's output as lines, per process. A partial line longer than any event the parsers
 * know (unbounded otherwise) is dropped and `overflow` called: something changed, read again.
 */
function lineSplitter(onLine: (line: string) => void, overflow: () => void) {
  let rest = "";
  return (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const l of parts) onLine(l);
    if (rest.length > MAX_MONITOR_LINE_CHARS) {
      rest = "";
      overflow();
    }
  };
}

export function startWatcher(opts: WatcherOptions): Watcher {
  const log = opts.logger ?? silentLogger();
  const burst = coalescer(
    () => opts.onChange("event"),
    opts.debounceMs ?? 15,
    opts.maxWaitMs ?? 100,
  );
  // --poll-interval is a Go duration: any length (timers.ts).
  const poll =
    opts.pollIntervalMs > 0
      ? setLongInterval(() => opts.onChange("poll"), opts.pollIntervalMs)
      : undefined;
  let closed = false;
  let child: ChildProcess | undefined;
  let restartTimer: NodeJS.Timeout | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  let failures = 0;
  let markReady = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });

  // A transaction ends with NEWGEN: re-read right away instead of waiting for the quiet time.
  const parse = opts.parseLine ?? parseMonitorLine;
  const onLine = (line: string) => {
    const ev = parse(line);
    if (opts.isRelevant(ev)) burst.poke();
    else if (ev.kind === "newgen") burst.flush();
  };

  const start = () => {
    if (closed || !opts.monitorArgv) return;
    const startedAt = Date.now();
    const proc = spawnArgv(opts.monitorArgv, { netns: opts.netns });
    child = proc;
    proc.stdout?.setEncoding("utf8");
    proc.stdout?.on(
      "data",
      lineSplitter(onLine, () => burst.poke()),
    );
    proc.stderr?.on("data", (b: Buffer) =>
      log.debug({ stderr: b.toString().trim() }, "monitor stderr"),
    );
    proc.on("error", (e) => {
      opts.onMonitorExit?.();
      log.warn({ err: e.message }, "change monitor failed to start; polling only");
    });
    proc.on("close", (code, signal) => {
      if (child === proc) child = undefined;
      if (closed) return;
      opts.onMonitorExit?.();
      failures = Date.now() - startedAt > 60_000 ? 1 : failures + 1;
      const delay = retryDelay(failures, MONITOR_RESTART);
      log.warn({ code, signal, retryInMs: delay }, "change monitor exited; restarting");
      markReady();
      restartTimer = setTimeout(start, delay);
    });
    // Subscribing takes a moment; whatever changed before that is caught by one re-read.
    settleTimer = setTimeout(() => settle(proc, startedAt), 0);
  };

  // The re-read comes once the monitor has subscribed (every later change reaches it), not
  // after a guessed time: on a loaded node that takes longer than any fixed guess.
  const subscribed = opts.subscribed ?? monitorSubscribed;
  const settle = (proc: ChildProcess, startedAt: number) => {
    settleTimer = undefined;
    if (closed || child !== proc) return;
    const waited = Date.now() - startedAt;
    const known = proc.pid === undefined ? undefined : subscribed(proc.pid);
    const cap = opts.settleMs ?? MONITOR_SUBSCRIBE_MAX_MS;
    const assumed = known === undefined && waited >= Math.min(ASSUMED_SUBSCRIBE_MS, cap);
    if (known !== true && !assumed && waited < cap) {
      settleTimer = setTimeout(() => settle(proc, startedAt), SUBSCRIBE_CHECK_MS);
      return;
    }
    if (known === false)
      log.warn({ waitedMs: waited }, "change monitor not subscribed yet; re-reading anyway");
    markReady();
    opts.onChange("monitor-restart");
  };

  if (opts.monitorArgv) start();
  else markReady();

  return {
    ready,
    close() {
      closed = true;
      burst.cancel();
      poll?.clear();
      if (restartTimer) clearTimeout(restartTimer);
      if (settleTimer) clearTimeout(settleTimer);
      child?.kill("SIGTERM");
      child = undefined;
      markReady();
    },
  };
}
