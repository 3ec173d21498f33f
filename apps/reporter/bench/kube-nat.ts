// A kube-proxy-style nat table (iptables mode) with `rules` rules and unique chain names, to load
// into a real namespace with iptables-restore, plus helpers shared by the reporter benchmarks.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** 10 rules per service: 1 in KUBE-SERVICES, 3 endpoint picks, 3 × (mark + DNAT). */
export function kubeNatTable(rules: number): string {
  const out = [
    "*nat",
    ":KUBE-SERVICES - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
  ];
  const body: string[] = [
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully',
  ];
  const name = (kind: string, n: number) =>
    `KUBE-${kind}-${n.toString(36).toUpperCase().padStart(16, "0")}`;
  for (let svc = 0; body.length < rules; svc++) {
    const ip = `10.${96 + ((svc >> 16) & 31)}.${(svc >> 8) & 255}.${svc & 255}`;
    const svcChain = name("SVC", svc);
    out.push(`:${svcChain} - [0:0]`);
    body.push(
      `-A KUBE-SERVICES -d ${ip}/32 -p tcp -m comment --comment "ns-${svc % 50}/svc-${svc}:http cluster IP" -m tcp --dport 80 -j ${svcChain}`,
    );
    for (let e = 0; e < 3; e++) {
      const sep = name("SEP", svc * 3 + e);
      const podIp = `10.${128 + ((svc >> 14) & 63)}.${(svc >> 6) & 255}.${((svc & 63) << 2) | e}`;
      const prob =
        e === 0
          ? " -m statistic --mode random --probability 0.33333333349"
          : e === 1
            ? " -m statistic --mode random --probability 0.50000000000"
            : "";
      out.push(`:${sep} - [0:0]`);
      body.push(
        `-A ${svcChain} -m comment --comment "ns-${svc % 50}/svc-${svc}:http -> ${podIp}:8080"${prob} -j ${sep}`,
      );
      body.push(
        `-A ${sep} -s ${podIp}/32 -m comment --comment "ns-${svc % 50}/svc-${svc}:http" -j KUBE-MARK-MASQ`,
      );
      body.push(
        `-A ${sep} -p tcp -m comment --comment "ns-${svc % 50}/svc-${svc}:http" -m tcp -j DNAT --to-destination ${podIp}:8080`,
      );
    }
  }
  return [...out, ...body, "COMMIT", ""].join("\n");
}

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
 * A namespace holding a kube-proxy nat table of `rules` rules. Loading 100k rules takes ~15 s,
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
  const r = run(["ip", "netns", "exec", ns, "iptables-restore", "-w"], kubeNatTable(rules));
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
