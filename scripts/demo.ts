// The local demo fleet: the dashboard on its file store and four reporters, each managing the
// real rules of its own network namespace: three the iptables chain, one (with kube-proxy in
// nftables mode, so `--backend auto` picks it) the agent's nftables table. One node is edited
// by hand on purpose. Several demos can run on one machine: each has its own namespaces,
// directory and port (scripts/demo-runs.ts).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { HealSchedule } from "@masq/shared";
import { kubeProxyNftScript } from "@masq/testkit/kube-proxy-nft";
import { addNetns, deleteNetns, deleteReturnRule, inNetns } from "@masq/testkit/netns";
import {
  type ChildHandle,
  DASHBOARD_BIN,
  REPO_ROOT,
  REPORTER_BIN,
  startReporter,
  stopChild,
} from "@masq/testkit/processes";
import { until } from "@masq/testkit/wait";
import { healNote } from "./demo-banner.js";
import { type DemoEnv, parseDemoEnv } from "./demo-env.js";
import { claimRun, demoPort, processAlive, reapStaleRuns, releasePort } from "./demo-runs.js";

/** Checked before anything starts: a bad variable is said, and nothing is claimed or made. */
const env = ((): DemoEnv => {
  try {
    return parseDemoEnv(process.env);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
})();
const root = join(REPO_ROOT, ".demo");
const run = claimRun(root, process.pid, 4);
const demoDir = run.dir;
const host = env.host;
const wantedPort = env.port;
let port = 0;
const adminToken = env.adminToken ?? randomBytes(32).toString("base64url");
/** The dashboard's reporter secret: it never leaves the dashboard; nodes get tokens made from it. */
const reporterSecret = randomBytes(32).toString("base64url");
const secretFile = join(demoDir, "reporter-secret");
const nodes = run.netns.map((netns, i) => ({ name: `demo-node-${i + 1}`, netns }));
/** The node whose kube-proxy runs in nftables mode: its reporter manages the nftables table. */
const nftNode = nodes[3]!;
let base = "";
const reporters: ChildHandle[] = [];
let dashboard: ChildProcess | undefined;
let stopping = false;
/** Set while SIGUSR2 restarts the dashboard: its exit then is no reason to stop the demo. */
let restarting = false;

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function nodeStatus(name: string): Promise<string | undefined> {
  const r = await api("GET", `/api/nodes/${name}`);
  return r.ok ? ((await r.json()) as { node: { status: string } }).node.status : undefined;
}

async function stop(code: number): Promise<never> {
  stopping = true;
  await Promise.all(reporters.map((r) => r.stop()));
  if (dashboard) await stopChild(dashboard);
  for (const n of nodes) deleteNetns(n.netns);
  if (port) releasePort(root, port, process.pid);
  // A failed run keeps its logs until the next demo starts (it removes runs whose process is gone).
  if (code === 0) rmSync(demoDir, { recursive: true, force: true });
  else console.error(`logs: ${join(demoDir, "logs")}`);
  // Last, once everything above is done: Ctrl-C's "stopping…" alone left it unclear when it was.
  console.log("demo stopped: reporters, dashboard and network namespaces are gone");
  process.exit(code);
}

/**
 * The dashboard, its JSON log (info and up) in logs/dashboard.log beside the reporters' logs;
 * its stderr (a crash) stays on the terminal.
 */
function startDashboard(): ChildProcess {
  const log = openSync(join(demoDir, "logs", "dashboard.log"), "a");
  const child = spawn(process.execPath, [DASHBOARD_BIN], {
    cwd: REPO_ROOT,
    stdio: ["ignore", log, "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      HOST: host,
      IPMASQ_STORE: "file",
      IPMASQ_DATA_DIR: join(demoDir, "data"),
      IPMASQ_ADMIN_TOKEN: adminToken,
      IPMASQ_REPORTER_TOKEN: reporterSecret,
      IPMASQ_LOG_LEVEL: "info",
    },
  });
  closeSync(log); // the child holds its own copy
  child.on("exit", (code, signal) => {
    if (stopping || restarting) return;
    console.error(dashboardExitText(code, signal));
    // Stopped on purpose (exit 0, SIGTERM, SIGINT): no failure, so no logs kept; else kept.
    void stop(code === 0 || signal === "SIGTERM" || signal === "SIGINT" ? 0 : 1);
  });
  return child;
}

/** Why the demo stops when its dashboard exited on its own (stopped on purpose, or failed). */
function dashboardExitText(code: number | null, signal: NodeJS.Signals | null): string {
  const restart = `to restart the dashboard alone, send the demo SIGUSR2 (kill -USR2 ${process.pid})`;
  if (code === 0 || signal === "SIGTERM" || signal === "SIGINT")
    return `the dashboard stopped (${signal ?? "exit 0"}); the demo stops with it (${restart})`;
  return `the dashboard exited (${code}); is port ${port} free? (DEMO_PORT=… picks another; unset, the demo takes the first free one from 3000)`;
}

/**
 * SIGUSR2: the dashboard stopped and started again on the same port and data directory, the
 * reporters and namespaces left running, as a restart in a cluster does (they reconnect).
 */
async function restartDashboard(): Promise<void> {
  if (!dashboard || stopping || restarting) return;
  restarting = true;
  console.log("restarting the dashboard (reporters keep running and reconnect)…");
  await stopChild(dashboard);
  dashboard = startDashboard();
  restarting = false;
  await until(
    async () => (await fetch(`${base}/readyz`)).ok,
    60_000,
    250,
    "the dashboard to be ready",
  );
  console.log(
    `the dashboard is back: ${base.replace("127.0.0.1", host === "0.0.0.0" ? "localhost" : host)}`,
  );
}

/** A node's own reporter token, issued the way an operator does: `ipmasq token`. */
function issueToken(node: string): string {
  const r = spawnSync(
    process.execPath,
    [REPORTER_BIN, "token", "--node", node, "--secret-file", secretFile],
    { encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`ipmasq token --node ${node} failed: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** Cleans up after interrupted runs (their process is gone; live ones stay), picks the port. */
async function prepareRun(): Promise<void> {
  const reaped = reapStaleRuns(root, {
    alive: processAlive,
    deleteNetns,
    kill: (pid) => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {} // gone meanwhile
    },
    except: run.id,
  });
  if (reaped.length > 0) console.log(`cleaned up after interrupted demo runs ${reaped.join(", ")}`);
  port = await demoPort(root, {
    host,
    pid: process.pid,
    alive: processAlive,
    ...(wantedPort === undefined ? {} : { wanted: wantedPort }),
  });
  base = `http://127.0.0.1:${port}`;
}

async function main(): Promise<void> {
  await prepareRun();
  mkdirSync(join(demoDir, "logs"), { recursive: true });
  writeFileSync(secretFile, `${reporterSecret}\n`, { mode: 0o600 });
  for (const n of nodes) addNetns(n.netns);
  inNetns(nftNode.netns, ["nft", "-f", "-"], kubeProxyNftScript(20));
  dashboard = startDashboard();
  await until(
    async () => (await fetch(`${base}/readyz`)).ok,
    60_000,
    250,
    "the dashboard to be ready",
  );

  // The product's default config (resync every 60 s): the hand-made drift below heals on its
  // own at the node's next resync, as on a real node, unless Resync is clicked first.
  const { config } = (await (await api("GET", "/api/config")).json()) as {
    config: { resyncInterval: string };
  };

  for (const n of nodes) {
    const log = join(demoDir, "logs", `${n.name}.log`);
    reporters.push(
      startReporter({
        node: n.name,
        netns: n.netns,
        dashboard: `ws://127.0.0.1:${port}/api/reporter`,
        token: issueToken(n.name),
        stateDir: join(demoDir, "state", n.name),
        logFile: log,
      }),
    );
  }
  for (const n of nodes)
    await until(
      async () => (await nodeStatus(n.name)) === "in-sync",
      30_000,
      200,
      `${n.name} in sync`,
    );

  // Drift on purpose: someone "fixes" node 3 by hand.
  const drifted = nodes[2]!;
  const ipt = (...args: string[]) =>
    inNetns(drifted.netns, ["iptables", "-w", "-t", "nat", ...args]);
  deleteReturnRule(drifted.netns, "10.0.0.0/8");
  ipt("-I", "IP-MASQ-AGENT", "1", "-d", "100.64.0.0/10", "-j", "RETURN");
  await until(
    async () => (await nodeStatus(drifted.name)) === "drifted",
    10_000,
    100,
    `${drifted.name} drifted`,
  );

  const { heal } = (await (await api("GET", `/api/nodes/${drifted.name}`)).json()) as {
    heal: HealSchedule;
  };
  printBanner(drifted, healNote(heal, config.resyncInterval));
}

/** What runs where, and what to try. */
function printBanner(drifted: (typeof nodes)[number], heals: string): void {
  console.log(`
  masq-dashboard demo is running

  open      http://${host === "0.0.0.0" ? "localhost" : host}:${port}
  token     ${adminToken}

  nodes     ${nodes.map((n) => `${n.name} (netns ${n.netns})`).join(", ")}
            ${drifted.name} was edited by hand: 10.0.0.0/8 removed, 100.64.0.0/10 added.
            Open it, see what differs, click Resync; or watch it heal on its own
            ${heals}.
            Break a node again with the second command below.
            ${nftNode.name} runs kube-proxy in nftables mode: its reporter manages the agent's
            own nftables table (backend nftables).

  tokens    each node has its own reporter token, e.g.
            npx ipmasq token --node ${nodes[0]!.name} --secret-file ${secretFile}

  try       ip netns exec ${nodes[0]!.netns} iptables -t nat -S IP-MASQ-AGENT
            ip netns exec ${nodes[1]!.netns} iptables -t nat -D IP-MASQ-AGENT 2   # break a node
            ip netns exec ${nftNode.netns} nft list table inet ip_masq_agent
            ip netns exec ${nftNode.netns} nft delete element inet ip_masq_agent nonmasq_v4 '{ 10.0.0.0/8 }'
            npx ipmasq why 10.1.2.3 --netns ${nodes[0]!.netns}

  freeze    kill -STOP ${reporters[1]?.child.pid}   # ${nodes[1]!.name}'s reporter hangs (kill -CONT ${reporters[1]?.child.pid} resumes it,
            kill ${reporters[1]?.child.pid} stops it: then restart the dashboard and see the node still listed)

  logs      ${join(demoDir, "logs")} (dashboard.log and one per node)
  restart   kill -USR2 ${process.pid}   # the dashboard alone; reporters reconnect
  Ctrl-C stops everything and deletes the namespaces and ${demoDir}.
`);
}

// npm run demo execs its way down to this process (scripts/demo.sh), and npm forwards SIGINT
// and SIGTERM to it, so a signal to npm, bash or this process ends here.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(sig, () => {
    if (stopping) return; // Ctrl-C reaches npm (which forwards it) and us: handle it once
    console.log("\nstopping the demo: reporters, dashboard, network namespaces…");
    void stop(0);
  });
}
process.on("SIGUSR2", () => {
  restartDashboard().catch((e) =>
    console.error(`restarting the dashboard failed: ${(e as Error).message}`),
  );
});
main().catch(async (e) => {
  console.error(`demo failed: ${(e as Error).message}`);
  await stop(1);
});
