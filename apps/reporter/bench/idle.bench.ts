// Issue 3: an idle reporter stays small (RSS ≤ 80 MB) and uses about no CPU between events.
// The built `ipmasq run` (dist/, as shipped) watches the 100,000-rule node with the default
// 10 s fallback poll and an open dashboard link; CPU and memory come from /proc.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { defaultConfig, PROTOCOL_VERSION } from "@masq/shared";
import type { BenchResult } from "../../../bench/types.js";
import { type FakeDashboard, startFakeDashboard } from "../test/helpers/dashboard.js";
import { bigNode, buildReporter, readProcStat, run } from "./kube-nat.js";

const WINDOW_MS = 30_000;
const TUNED = "--max-semi-space-size=1";
const root = join(import.meta.dirname, "../../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (key: string) =>
    Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rss: kb("VmRSS") / 1024, hwm: kb("VmHWM") / 1024 };
}

function monitorPids(ns: string): number[] {
  const pids = run(["ip", "netns", "pids", ns]).stdout.split("\n").filter(Boolean).map(Number);
  return pids.filter((p) => readFileSync(`/proc/${p}/cmdline`, "utf8").includes("xtables-monitor"));
}

interface Usage {
  rss: number;
  hwm: number;
  cpuPct: number;
}

interface Reporter {
  name: string;
  child: ChildProcess;
  c0?: { self: number; children: number };
}

/** Starts the built `ipmasq run` with these Node flags; resolves once it applied the config. */
async function startReporter(
  dash: FakeDashboard,
  ns: string,
  name: string,
  nodeFlags: string[],
): Promise<Reporter> {
  const env = {
    ...process.env,
    NODE_NAME: name,
    IPMASQ_DASHBOARD: dash.url,
    IPMASQ_NETNS: ns,
    IPMASQ_STATE_DIR: join(root, ".tools/bench-state", name),
    IPMASQ_LOG_LEVEL: "warn",
  };
  const child = spawn(
    process.execPath,
    [...nodeFlags, join(root, "apps/reporter/bin/ipmasq.js"), "run"],
    { env, stdio: "ignore" },
  );
  await dash.waitFor("hello", (h) => h.node === name, 15_000);
  return { name, child };
}

export default async function idleBench(): Promise<BenchResult[]> {
  buildReporter();
  const node = bigNode(100_000);
  const dash = await startFakeDashboard();
  const reporters: Reporter[] = [];
  try {
    // Side by side: Node's defaults, and the young-revision cap the DaemonSet should set
    // (NODE_OPTIONS=--max-semi-space-size=1); same node, same config, no writes once in sync.
    // One at a time: two reporters writing one node at once would race each other's jump.
    const desired = {
      type: "desired",
      v: PROTOCOL_VERSION,
      revision: 1,
      resourceVersion: "r1",
      config: defaultConfig(),
    } as const;
    reporters.push(await startReporter(dash, node.ns, "idle-default", []));
    dash.send(desired);
    await dash.waitFor("apply-result", (r) => r.ok, 10_000);
    const applied = dash.messages.length;
    reporters.push(await startReporter(dash, node.ns, "idle-tuned", [TUNED]));
    dash.send(desired);
    await dash.waitFor("apply-result", (r) => r.ok && dash.messages.indexOf(r) >= applied, 10_000);
    await sleep(3_000);
    const mon = monitorPids(node.ns);
    for (const r of reporters) r.c0 = readProcStat(r.child.pid!);
    const m0 = mon.reduce((t, p) => t + readProcStat(p).self, 0);
    await sleep(WINDOW_MS);
    const m1 = mon.reduce((t, p) => t + readProcStat(p).self, 0);
    const [base, tuned] = reporters.map((r) => {
      const c1 = readProcStat(r.child.pid!);
      // The reporter's own CPU plus the iptables reads it ran (reaped children).
      const cpuPct = ((c1.self + c1.children - r.c0!.self - r.c0!.children) / WINDOW_MS) * 100;
      return { ...rssMb(r.child.pid!), cpuPct };
    }) as [Usage, Usage];
    const monitorPct = ((m1 - m0) / WINDOW_MS / Math.max(1, mon.length)) * 100;
    return [
      {
        id: "reporter-idle-rss",
        issue: 3,
        name: "idle reporter resident memory",
        value: Number(tuned.rss.toFixed(1)),
        unit: "MB",
        target: "≤ 80 MB",
        pass: tuned.rss <= 80 && tuned.hwm <= 80,
        notes: `built \`ipmasq run\` (Node ${process.version}, ${TUNED}) on the ${node.rules}-rule node, dashboard link open, after one apply; peak ${tuned.hwm.toFixed(1)} MB. With Node's default flags: ${base.rss.toFixed(1)} MB, peak ${base.hwm.toFixed(1)} MB (bigger young revision).`,
      },
      {
        id: "reporter-idle-cpu",
        issue: 3,
        name: "idle reporter CPU between events",
        value: Number(tuned.cpuPct.toFixed(2)),
        unit: "% of a core",
        target: "≈ 0",
        pass: tuned.cpuPct < 1,
        notes: `${WINDOW_MS / 1000} s without events: 3 fallback polls of 10 s (reads through \`--netns\`) and heartbeats, iptables children included; default flags ${base.cpuPct.toFixed(2)} %; xtables-monitor ${monitorPct.toFixed(2)} %.`,
      },
    ];
  } finally {
    for (const r of reporters) r.child.kill("SIGTERM");
    await Promise.all(
      reporters.map(
        (r) =>
          new Promise((done) =>
            r.child.exitCode === null ? r.child.once("exit", done) : done(null),
          ),
      ),
    );
    await dash.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  console.log(JSON.stringify(await idleBench(), null, 2));
  process.exit(0);
}
