// Starts what the e2e specs run against: the production dashboard (bin/ipmasq-dashboard.js,
// i.e. the custom server hosting the Next build) on an ephemeral port with a file store in a
// temp dir and known tokens, and one real reporter (apps/reporter) per network namespace,
// each managing the real iptables nat table of its namespace. Everything is torn down
// afterwards — namespaces named `ime-*` are always deleted, also after a crash of a former run.
import { type ChildProcess, spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeToken } from "@masq/shared/node-token";
import { addNetns, deleteNetns } from "@masq/testkit/netns";
import {
  DASHBOARD_BIN,
  freePort,
  REPO_ROOT,
  requireBuilt,
  startReporter,
} from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { baseUrl, listOurNetns, NODES, nodeStatuses, TOKENS } from "./env.js";

const ROOT = REPO_ROOT;

function need(cond: boolean, what: string): void {
  if (!cond) throw new Error(`e2e prerequisite missing: ${what}`);
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
  for (const part of ["next", "dashboard-server", "reporter"] as const) requireBuilt(part);

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
    // The file store's data dir: sources.spec.ts adds config sources (ip-masq-* files) there.
    process.env.IME_DATA_DIR = join(tmp, "data");
    process.env.IME_LOGS_DIR = logs; // extra nodes' reporters log here too (kept on exit)
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
    await until(
      async () => {
        if (dash.exitCode !== null)
          throw new Error(`the dashboard exited with ${dash.exitCode} (see ${logs}/dashboard.log)`);
        return (await fetch(`${baseUrl()}/readyz`)).ok;
      },
      60_000,
      250,
      "the dashboard to be ready",
    );

    for (const node of NODES) {
      addNetns(node);
      created.push(node);
      const reporter = startReporter({
        node,
        netns: node,
        dashboard: `ws://127.0.0.1:${port}/api/reporter`,
        token: nodeToken(TOKENS.reporter, node),
        stateDir: join(tmp, "state", node),
        logFile: join(logs, `${node}.log`),
        env: { IPMASQ_POLL_INTERVAL: "2s" },
      });
      children.push(reporter.child);
    }
    await until(
      async () => {
        const s = await nodeStatuses();
        return NODES.every((n) => s[n] === "in-sync");
      },
      60_000,
      250,
      "every reporter to connect and be in sync",
    );
  } catch (e) {
    await cleanup();
    throw e;
  }
  return cleanup;
}
