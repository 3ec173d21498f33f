// Starts what the e2e specs run against: the production dashboard (bin/ipmasq-dashboard.js,
// i.e. the custom server hosting the Next build) on an ephemeral port with a file store in a
// temp dir and known tokens, and one real reporter (apps/reporter) per network namespace,
// each managing the real iptables nat table of its namespace. Everything is torn down
// afterwards — namespaces named `ime-*` are always deleted, also after a crash of a former run.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { deleteNetns } from "@masq/testkit/netns";
import { freePort } from "@masq/testkit/processes";
import { baseUrl, listOurNetns, NODES, nodeStatuses, TOKENS } from "./env.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const DASHBOARD_BIN = join(ROOT, "apps/dashboard/bin/ipmasq-dashboard.js");
const REPORTER_BIN = join(ROOT, "apps/reporter/bin/ipmasq.js");

function need(cond: boolean, what: string): void {
  if (!cond) throw new Error(`e2e prerequisite missing: ${what}`);
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function deleteNetnsAll(names: string[]): void {
  for (const ns of names) deleteNetns(ns);
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  need(process.getuid?.() === 0, "run as root (network namespaces and iptables)");
  need(
    existsSync("/usr/sbin/iptables") || existsSync("/sbin/iptables"),
    "iptables (apt-get install iptables)",
  );
  need(
    existsSync(join(ROOT, "apps/dashboard/.next/BUILD_ID")),
    "the Next build: run `npm run build` first",
  );
  need(
    existsSync(join(ROOT, "apps/dashboard/dist/server/main.js")),
    "the dashboard server build: run `npm run build` first",
  );
  need(
    existsSync(join(ROOT, "apps/reporter/dist")),
    "the reporter build: run `npm run build` first",
  );

  // Leftovers of an interrupted run.
  deleteNetnsAll(listOurNetns());

  const tmp = mkdtempSync(join(tmpdir(), "ime-e2e-"));
  const logs = join(tmp, "logs");
  mkdirSync(logs);
  const children: ChildProcess[] = [];
  const created: string[] = [];
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    for (const c of children.reverse()) if (c.exitCode === null && c.pid) c.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
    for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGKILL");
    deleteNetnsAll(created);
    // Keep the processes' logs with the test artifacts.
    try {
      cpSync(logs, join(ROOT, "test-results", "e2e-logs"), { recursive: true });
    } catch {
      // no test-results dir
    }
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once("exit", () => {
    for (const c of children) if (c.exitCode === null && c.pid) c.kill("SIGKILL");
    deleteNetnsAll(created);
  });

  try {
    const port = await freePort();
    process.env.IME_BASE_URL = `http://127.0.0.1:${port}`;
    const out = openSync(join(logs, "dashboard.log"), "a");
    const dash = spawn(process.execPath, [DASHBOARD_BIN], {
      cwd: join(ROOT, "apps/dashboard"),
      env: {
        ...process.env,
        PORT: String(port),
        HOST: "127.0.0.1",
        IPMASQ_STORE: "file",
        IPMASQ_DATA_DIR: join(tmp, "data"),
        IPMASQ_ADMIN_TOKEN: TOKENS.admin,
        IPMASQ_VIEWER_TOKEN: TOKENS.viewer,
        IPMASQ_REPORTER_TOKEN: TOKENS.reporter,
        IPMASQ_LOG_LEVEL: "info",
        NEXT_TELEMETRY_DISABLED: "1",
        NODE_ENV: "production",
      },
      stdio: ["ignore", out, out],
    });
    children.push(dash);
    await waitFor("the dashboard to be ready", 60_000, async () => {
      if (dash.exitCode !== null)
        throw new Error(`the dashboard exited with ${dash.exitCode} (see ${logs}/dashboard.log)`);
      const r = await fetch(`${baseUrl()}/readyz`);
      return r.ok ? true : undefined;
    });

    for (const node of NODES) {
      execFileSync("ip", ["netns", "add", node]);
      created.push(node);
      execFileSync("ip", ["-n", node, "link", "set", "lo", "up"]);
      const state = join(tmp, "state", node);
      mkdirSync(state, { recursive: true });
      const log = openSync(join(logs, `${node}.log`), "a");
      const r = spawn(
        process.execPath,
        [
          REPORTER_BIN,
          "run",
          "--dashboard",
          `ws://127.0.0.1:${port}/api/reporter`,
          "--node",
          node,
          "--token",
          TOKENS.reporter,
          "--netns",
          node,
          "--state-dir",
          state,
          "--poll-interval",
          "2s",
          "--log-level",
          "info",
        ],
        { cwd: ROOT, env: { ...process.env }, stdio: ["ignore", log, log] },
      );
      children.push(r);
    }
    await waitFor("every reporter to connect and be in sync", 60_000, async () => {
      const s = await nodeStatuses();
      return NODES.every((n) => s[n] === "in-sync") ? true : undefined;
    });
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cleanup;
}
