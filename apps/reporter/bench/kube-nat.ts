// A kube-proxy-style nat table (iptables mode) with `rules` rules and unique chain names, to load
// into a real namespace with iptables-restore, plus helpers shared by the reporter benchmarks.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

import { type CniPod, kubeNatTable } from "@masq/testkit/kube-proxy-table";

/** Pods of the CNI bridge plugin on the big node: each adds a chain to the POSTROUTING path. */
export const BENCH_PODS: CniPod[] = [1, 2, 3].map((i) => ({
  ip: `10.244.0.${10 + i}`,
  subnet: "10.244.0.0/24",
  id: `${i}`.repeat(64),
}));

let built = false;

/** Builds shared and the reporter (dist/), once per process: benchmarks measure what ships. */
export function buildReporter(): void {
  if (built) return;
  const root = join(import.meta.dirname, "../../..");
  for (const project of [
    "packages/shared/tsconfig.build.json",
    "apps/reporter/tsconfig.build.json",
  ]) {
    const r = run([
      process.execPath,
      join(root, "node_modules/typescript/bin/tsc"),
      "-p",
      join(root, project),
    ]);
    if (r.code !== 0) throw new Error(`build of ${project} failed: ${r.stdout}${r.stderr}`);
  }
  built = true;
}

export function run(
  argv: string[],
  input?: string,
): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

export interface BigNode {
  ns: string;
  /** `-A` rules actually in the nat table. */
  rules: number;
}

const nodes = new Map<number, BigNode>();

/**
 * A namespace holding a kube-proxy nat table of `rules` rules and the CNI chains of
 * BENCH_PODS. Loading 100k rules takes ~15 s,
 * so one namespace is shared by every benchmark of the process and deleted when it exits.
 */
export function bigNode(rules: number): BigNode {
  const known = nodes.get(rules);
  if (known) return known;
  const ns = `imr-${process.pid}-bench-${rules}`;
  run(["ip", "netns", "del", ns]);
  if (run(["ip", "netns", "add", ns]).code !== 0) throw new Error(`cannot create netns ${ns}`);
  const cleanup = () => {
    for (const pid of run(["ip", "netns", "pids", ns]).stdout.split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
    run(["ip", "netns", "del", ns]);
  };
  process.once("exit", cleanup);
  const r = run(
    ["ip", "netns", "exec", ns, "iptables-restore", "-w"],
    kubeNatTable(rules, { cniPods: BENCH_PODS }),
  );
  if (r.code !== 0) {
    cleanup();
    throw new Error(`loading the nat table failed: ${r.stderr}`);
  }
  const loaded = run(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"])
    .stdout.split("\n")
    .filter((l) => l.startsWith("-A ")).length;
  const node = { ns, rules: loaded };
  nodes.set(rules, node);
  return node;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** CPU ms of a process and of its reaped children (utime+stime, cutime+cstime). */
export function readProcStat(pid: number | "self"): { self: number; children: number } {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // After the command: state(0) ... utime(11) stime(12) cutime(13) cstime(14)
  const n = (i: number) => Number(f[i]);
  return { self: (n(11) + n(12)) * TICK_MS, children: (n(13) + n(14)) * TICK_MS };
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}
