// The real programs as child processes: the built `ipmasq run` reporter in a network
// namespace (what the DaemonSet runs) and helpers to find ports and stop cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import type { HealPolicy, Mode } from "@masq/shared";

export const REPO_ROOT = resolve(import.meta.dirname, "../../..");
export const REPORTER_BIN = join(REPO_ROOT, "apps/reporter/bin/ipmasq.js");
export const DASHBOARD_BIN = join(REPO_ROOT, "apps/dashboard/bin/ipmasq-dashboard.js");

/** Fails with a clear message when the build the process tests run is missing. */
export function requireBuilt(what: "reporter" | "dashboard-server" | "next"): void {
  const file = {
    reporter: "apps/reporter/dist/cli/main.js",
    "dashboard-server": "apps/dashboard/dist/server/main.js",
    next: "apps/dashboard/.next/BUILD_ID",
  }[what];
  if (!existsSync(join(REPO_ROOT, file)))
    throw new Error(`${file} is missing: run \`npm run build\` first`);
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

export interface ReporterOptions {
  node: string;
  /** Linux mode: the namespace whose iptables the reporter manages. */
  netns?: string;
  /** Windows mode: the CNI config file whose OutBoundNAT ExceptionList it manages. */
  windowsCni?: string;
  /** ws(s)://host:port/api/reporter */
  dashboard: string;
  token: string;
  stateDir: string;
  mode?: Mode;
  heal?: HealPolicy;
  /** Where stdout/stderr go (JSON logs); discarded when unset. */
  logFile?: string;
  env?: Record<string, string>;
}

export interface ChildHandle {
  child: ChildProcess;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      res();
    });
    child.kill("SIGTERM");
  });
}

/** Starts the built reporter daemon as the DaemonSets do, on a netns or a CNI file. */
export function startReporter(o: ReporterOptions): ChildHandle {
  requireBuilt("reporter");
  const out = o.logFile ? openSync(o.logFile, "a") : "ignore";
  const child = spawn(process.execPath, [REPORTER_BIN, "run"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", out, out],
    env: {
      ...process.env,
      NODE_NAME: o.node,
      IPMASQ_DASHBOARD: o.dashboard,
      IPMASQ_TOKEN: o.token,
      ...(o.netns ? { IPMASQ_NETNS: o.netns } : {}),
      ...(o.windowsCni ? { IPMASQ_WINDOWS_CNI: o.windowsCni } : {}),
      IPMASQ_STATE_DIR: o.stateDir,
      IPMASQ_MODE: o.mode ?? "enforce",
      IPMASQ_HEAL: o.heal ?? "next-resync",
      IPMASQ_LOG_LEVEL: "info",
      ...o.env,
    },
  });
  return { child, stop: (graceMs) => stopChild(child, graceMs) };
}

/** Starts the built dashboard bin (apps/dashboard/bin) with this environment (no UI unless asked). */
export function startDashboardProcess(o: {
  env: Record<string, string>;
  logFile?: string;
  /** Options for node itself (e.g. --cpu-prof, which NODE_OPTIONS may not carry). */
  nodeArgs?: string[];
}): ChildHandle {
  requireBuilt("dashboard-server");
  const out = o.logFile ? openSync(o.logFile, "a") : "ignore";
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), DASHBOARD_BIN], {
    cwd: REPO_ROOT,
    stdio: ["ignore", out, out],
    env: { ...process.env, IPMASQ_UI: "false", ...o.env },
  });
  return { child, stop: (graceMs) => stopChild(child, graceMs) };
}
