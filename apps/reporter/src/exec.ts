// Runs programs with argument arrays (never a shell), optionally inside a network namespace,
// with a timeout and an optional stdin payload.

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { setPriority } from "node:os";

export interface ExecOptions {
  /** Run inside this network namespace (`ip netns exec NS ...`). */
  netns?: string;
  /** Kill the process (SIGKILL) after this long. Default 30 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill the process (SIGKILL) once stdout passes this many bytes; `truncated` says so. */
  maxOutputBytes?: number;
  /** Nice value for background work (setpriority(2); kept through `ip netns exec`'s exec). */
  nice?: number;
}

export interface ExecResult {
  /** Exit code; 124 on timeout, 127 when the program could not be started. */
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** stdout passed `maxOutputBytes`: the process was killed and stdout is incomplete. */
  truncated?: boolean;
}

const NETNS_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
// Stable, parseable messages from iptables and friends regardless of the node's locale.
const CHILD_ENV = { ...process.env, LC_ALL: "C" };

export function assertNetnsName(netns: string): void {
  if (!NETNS_NAME.test(netns)) throw new Error(`invalid network namespace name "${netns}"`);
}

/**
 * A named network namespace exists when `ip netns add` made its file under /run/netns (the
 * place `ip netns exec` looks); a typo otherwise shows up later as "no iptables runs here".
 */
export function assertNetnsExists(netns: string, dir = "/run/netns"): void {
  assertNetnsName(netns);
  if (!existsSync(`${dir}/${netns}`))
    throw new Error(
      `network namespace "${netns}" does not exist (\`ip netns list\` shows the named ones)`,
    );
}

/** The argv that runs `argv` inside `netns` (or `argv` itself). */
export function netnsArgv(netns: string | undefined, argv: readonly string[]): string[] {
  if (argv.length === 0) throw new Error("empty command");
  if (netns === undefined) return [...argv];
  assertNetnsName(netns);
  return ["ip", "netns", "exec", netns, ...argv];
}

/** Starts a long-running process (e.g. xtables-monitor); the caller owns its lifetime. */
export function spawnArgv(argv: readonly string[], opts: { netns?: string } = {}): ChildProcess {
  const [cmd, ...args] = netnsArgv(opts.netns, argv);
  return spawn(cmd!, args, { stdio: ["ignore", "pipe", "pipe"], env: CHILD_ENV });
}

/** Best effort: a process that already exited, or no permission, leaves it as it was. */
function lowerPriority(pid: number, nice: number): void {
  try {
    setPriority(pid, nice);
  } catch {
    // The work runs at the normal priority.
  }
}

export function exec(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [cmd, ...args] = netnsArgv(opts.netns, argv);
  return new Promise((resolve) => {
    const child = spawn(cmd!, args, { stdio: ["pipe", "pipe", "pipe"], env: CHILD_ENV });
    if (opts.nice !== undefined && child.pid !== undefined) lowerPriority(child.pid, opts.nice);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let truncated = false;
    let outBytes = 0;
    let spawnError: Error | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 30_000);
    child.stdout.on("data", (b: Buffer) => {
      if (truncated) return;
      outBytes += b.length;
      if (opts.maxOutputBytes !== undefined && outBytes > opts.maxOutputBytes) {
        truncated = true;
        child.kill("SIGKILL");
        return;
      }
      out.push(b);
    });
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.stdin.on("error", () => {}); // EPIPE when the program exits without reading stdin
    child.on("error", (e) => {
      spawnError = e;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString("utf8") + (spawnError ? spawnError.message : "");
      const exit = timedOut ? 124 : spawnError ? 127 : (code ?? 128);
      const stdout = Buffer.concat(out).toString("utf8");
      resolve({ code: exit, stdout, stderr, timedOut, ...(truncated ? { truncated } : {}) });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** `ip netns exec` says this (exit 1) for a program it cannot find; without a namespace, 127. */
const NETNS_NOT_FOUND = /exec of "[^"]*" failed: No such file or directory/;

/** The program did not start: not installed (or not on PATH). */
export function programMissing(r: ExecResult): boolean {
  return r.code === 127 || (r.code === 1 && NETNS_NOT_FOUND.test(r.stderr));
}

/** Non-empty output lines, without the trailing newline. */
export function outputLines(text: string): string[] {
  return text.split("\n").filter((l) => l.trim() !== "");
}
