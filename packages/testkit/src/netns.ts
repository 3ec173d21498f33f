// Network namespaces for tests and the demo: unique names per suite prefix (imr- reporter,
// imd- dashboard, ime- e2e), always deleted together with the processes inside.
import { execFileSync, spawnSync } from "node:child_process";
import { nonMasqRuleArgs } from "@masq/shared";

let counter = 0;

export function uniqueNetnsName(tag = "t", prefix = "imr"): string {
  return `${prefix}-${process.pid}-${tag}-${counter++}`;
}

/** Runs a command (argv, no shell) and returns stdout; throws with stderr on failure. */
export function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input,
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C" },
  });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

export function inNetns(ns: string, argv: string[], input?: string): string {
  return sh(["ip", "netns", "exec", ns, ...argv], input);
}

export function addNetns(name: string = uniqueNetnsName()): string {
  sh(["ip", "netns", "add", name]);
  sh(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"]);
  return name;
}

/** Kills whatever still runs in the namespace, then deletes it. Never throws. */
export function deleteNetns(name: string): void {
  try {
    const pids = execFileSync("ip", ["netns", "pids", name], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    })
      .split("\n")
      .filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {}
    }
  } catch {}
  spawnSync("ip", ["netns", "del", name], { stdio: "ignore" });
}

/** Namespaces created by one test file; call cleanup() in afterEach. */
export function netnsPool(prefix = "imr") {
  const made: string[] = [];
  return {
    add(tag?: string): string {
      const n = addNetns(uniqueNetnsName(tag, prefix));
      made.push(n);
      return n;
    },
    track(name: string) {
      made.push(name);
    },
    cleanup() {
      while (made.length > 0) deleteNetns(made.pop()!);
    },
  };
}

/** `iptables -t nat -S CHAIN` lines in a namespace ([] when the chain is missing). */
export function natRules(ns: string, chain: string, tool = "iptables"): string[] {
  const r = spawnSync("ip", ["netns", "exec", ns, tool, "-w", "-t", "nat", "-S", chain], {
    encoding: "utf8",
  });
  return r.status === 0 ? r.stdout.split("\n").filter(Boolean) : [];
}

export function jumpCount(ns: string, chain = "IP-MASQ-AGENT", tool = "iptables"): number {
  return natRules(ns, "POSTROUTING", tool).filter((l) => l.endsWith(`-j ${chain}`)).length;
}

/** Edits a namespace's nat table by hand (`iptables -w -t nat ARGS`), as an operator would. */
export function natEdit(ns: string, args: string[], tool = "iptables"): void {
  inNetns(ns, [tool, "-w", "-t", "nat", ...args]);
}

/** Deletes the agent's RETURN rule for `cidr` by hand, as an operator or another component might. */
export function deleteReturnRule(ns: string, cidr: string, chain = "IP-MASQ-AGENT"): void {
  inNetns(ns, ["iptables", "-w", "-t", "nat", "-D", chain, ...nonMasqRuleArgs(cidr)]);
}
