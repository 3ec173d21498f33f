// The local demo fleet: dashboard + three reporters on three network namespaces.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const demoDir = join(root, ".demo");
const port = Number(process.env.DEMO_PORT ?? process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const adminToken = process.env.IPMASQ_ADMIN_TOKEN ?? randomBytes(18).toString("base64url");
const reporterToken = randomBytes(18).toString("base64url");
const nodes = [1, 2, 3].map((i) => ({ name: `demo-node-${i}`, netns: `masq-demo-${i}` }));
const children: ChildProcess[] = [];
const base = `http://127.0.0.1:${port}`;

function sh(cmd: string, args: string[], quiet = false): boolean {
  const r = spawnSync(cmd, args, { stdio: quiet ? "ignore" : ["ignore", "inherit", "inherit"] });
  return r.status === 0;
}

function cleanup(): void {
  for (const c of children) c.kill("SIGTERM");
  for (const n of nodes) sh("ip", ["netns", "delete", n.netns], true);
}

function start(name: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, args, {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  child.stderr?.on("data", (d: Buffer) => {
    const text = d.toString();
    if (/"level":(50|60)|Error|error:/.test(text)) process.stderr.write(`[${name}] ${text}`);
  });
  child.on("exit", (code, signal) => {
    if (!stopping) console.error(`[${name}] exited (${signal ?? code})`);
  });
  children.push(child);
  return child;
}

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function nodeStatus(name: string): Promise<string | undefined> {
  const r = await api("GET", `/api/nodes/${name}`);
  if (!r.ok) return undefined;
  return ((await r.json()) as { node: { status: string } }).node.status;
}

let stopping = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    stopping = true;
    console.log("\nstopping the demo: reporters, dashboard, network namespaces…");
    cleanup();
    process.exit(0);
  });
}

async function main(): Promise<void> {
  rmSync(join(demoDir, "state"), { recursive: true, force: true });
  mkdirSync(join(demoDir, "data"), { recursive: true });
  for (const n of nodes) {
    sh("ip", ["netns", "delete", n.netns], true);
    if (!sh("ip", ["netns", "add", n.netns]))
      throw new Error(`cannot create network namespace ${n.netns}`);
    sh("ip", ["-n", n.netns, "link", "set", "lo", "up"]);
  }
  start("dashboard", ["apps/dashboard/bin/ipmasq-dashboard.js"], {
    PORT: String(port),
    HOST: host,
    IPMASQ_STORE: "file",
    IPMASQ_DATA_DIR: join(demoDir, "data"),
    IPMASQ_ADMIN_TOKEN: adminToken,
    IPMASQ_REPORTER_TOKEN: reporterToken,
    IPMASQ_LOG_LEVEL: "warn",
  });
  await waitFor("the dashboard", async () => (await fetch(`${base}/readyz`)).ok);

  // A long resync interval keeps the hand-made drift visible until you click Resync.
  const current = (await (await api("GET", "/api/config")).json()) as {
    revision: string;
    config: Record<string, unknown>;
  };
  await api("PUT", "/api/config", {
    config: { ...current.config, resyncInterval: "10m" },
    revision: current.revision,
    message: "demo: resync every 10 minutes",
  });

  for (const n of nodes) {
    start(n.name, ["apps/reporter/bin/ipmasq.js", "run"], {
      IPMASQ_DASHBOARD: `ws://127.0.0.1:${port}/api/reporter`,
      NODE_NAME: n.name,
      IPMASQ_TOKEN: reporterToken,
      IPMASQ_NETNS: n.netns,
      IPMASQ_STATE_DIR: join(demoDir, "state", n.name),
      IPMASQ_LOG_LEVEL: "warn",
    });
  }
  for (const n of nodes)
    await waitFor(`${n.name} in sync`, async () => (await nodeStatus(n.name)) === "in-sync");

  // Drift on purpose: someone "fixes" node 3 by hand.
  const drifted = nodes[2]!;
  sh("ip", [
    "netns",
    "exec",
    drifted.netns,
    "iptables",
    "-w",
    "-t",
    "nat",
    "-D",
    "IP-MASQ-AGENT",
    "-d",
    "10.0.0.0/8",
    "-m",
    "comment",
    "--comment",
    "ip-masq-agent: local traffic is not subject to MASQUERADE",
    "-j",
    "RETURN",
  ]);
  sh("ip", [
    "netns",
    "exec",
    drifted.netns,
    "iptables",
    "-w",
    "-t",
    "nat",
    "-I",
    "IP-MASQ-AGENT",
    "1",
    "-d",
    "100.64.0.0/10",
    "-j",
    "RETURN",
  ]);
  await waitFor(
    `${drifted.name} drifted`,
    async () => (await nodeStatus(drifted.name)) === "drifted",
    10_000,
  );

  console.log(`
  masq-dashboard demo is running

  open      http://${host === "0.0.0.0" ? "localhost" : host}:${port}
  token     ${adminToken}

  nodes     ${nodes.map((n) => `${n.name} (netns ${n.netns})`).join(", ")}
            ${drifted.name} was edited by hand: 10.0.0.0/8 removed, 100.64.0.0/10 added.
            Open it, see what differs, click Resync.

  try       ip netns exec ${nodes[0]!.netns} iptables -t nat -S IP-MASQ-AGENT
            ip netns exec ${nodes[1]!.netns} iptables -t nat -D IP-MASQ-AGENT 2   # break a node
            node apps/reporter/bin/ipmasq.js why 10.1.2.3 --netns ${nodes[0]!.netns}

  Ctrl-C stops everything and deletes the namespaces.
`);
  await new Promise(() => {});
}

main().catch((e) => {
  console.error(`demo failed: ${(e as Error).message}`);
  cleanup();
  process.exit(1);
});
