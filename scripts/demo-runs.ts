// Several `npm run demo` on one machine: each run gets its own id, network namespace names,
// directory and port, and cleans up after itself. A run interrupted without cleaning up (killed
// with SIGKILL, the machine restarted) is cleaned up by the next run, which knows it is over
// because its process is gone; a run whose process lives is never touched.
import {
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export interface DemoRun {
  id: string;
  /** .demo/runs/<id>: the dashboard's data, the nodes' state, the logs. */
  dir: string;
  /** The network namespace of each demo node, unique to this run. */
  netns: string[];
}

/** `masq-demo-<id>-<i>`: under 32 characters for ids up to 15. */
export const netnsName = (id: string, i: number) => `masq-demo-${id}-${i}`;

/**
 * Claims a run directory under `root` for process `pid`: `runs/<pid>`, with an `owner` file
 * (the pid) and a `netns` file (one name a line) written before any namespace exists, so a
 * later run can clean up whatever this one leaves.
 */
export function claimRun(root: string, pid: number, nodes: number): DemoRun {
  const id = String(pid);
  const dir = join(root, "runs", id);
  rmSync(dir, { recursive: true, force: true }); // a dead run with a reused pid
  mkdirSync(dir, { recursive: true });
  const netns = Array.from({ length: nodes }, (_, i) => netnsName(id, i + 1));
  writeFileSync(join(dir, "netns"), `${netns.join("\n")}\n`);
  writeFileSync(join(dir, "owner"), `${pid}\n`);
  return { id, dir, netns };
}

/** Whether a process lives (signal 0: no signal sent, only the check). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the runs under `root` whose owner process is gone: the processes it left (a demo
 * killed with SIGKILL leaves its dashboard and reporters running: found by the run directory in
 * their command line or environment, under `procRoot`) through `kill`, each of its namespaces
 * through `deleteNetns`, then its directory. Returns the ids removed. A run without a readable
 * owner is being set up right now (owner is written last) and is left alone, as is `except`.
 */
export function reapStaleRuns(
  root: string,
  o: {
    alive: (pid: number) => boolean;
    deleteNetns: (name: string) => void;
    kill: (pid: number) => void;
    except?: string;
    procRoot?: string;
  },
): string[] {
  const runs = join(root, "runs");
  if (!existsSync(runs)) return [];
  const reaped: string[] = [];
  for (const id of readdirSync(runs)) {
    const dir = join(runs, id);
    if (id === o.except || !ownerGone(dir, o.alive)) continue;
    for (const left of processesMentioning(`${dir}/`, o.procRoot ?? "/proc")) o.kill(left);
    for (const name of (readText(join(dir, "netns")) ?? "").split("\n"))
      if (/^masq-demo-[0-9]+-[0-9]+$/.test(name)) o.deleteNetns(name);
    rmSync(dir, { recursive: true, force: true });
    reaped.push(id);
  }
  return reaped;
}

/** Whether the run in `dir` has an owner and that process is gone. */
function ownerGone(dir: string, alive: (pid: number) => boolean): boolean {
  const pid = Number(readText(join(dir, "owner"))?.trim());
  return Number.isInteger(pid) && pid > 0 && !alive(pid);
}

/** Pids whose command line or environment contains `text` (NUL-separated in /proc). */
export function processesMentioning(text: string, procRoot: string): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return pids;
  }
  for (const e of entries) {
    if (!/^[0-9]+$/.test(e)) continue;
    const files = ["cmdline", "environ"].map((f) => readText(join(procRoot, e, f)) ?? "");
    if (files.some((t) => t.includes(text))) pids.push(Number(e));
  }
  return pids;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * The port the dashboard listens on: `wanted` when given (taken or not: the dashboard then says
 * so), else the first one of `from`…`from + 19` that is free on `host` and that no live demo run
 * has claimed. The claim (`ports/<port>` holding the pid, created exclusively) keeps two demos
 * started at once from both finding the same port free; `releasePort` gives it back, and a
 * claim whose process is gone is taken over.
 */
export async function demoPort(
  root: string,
  o: {
    host: string;
    wanted?: number;
    pid: number;
    alive: (pid: number) => boolean;
    from?: number;
    /** Whether nothing listens on the port (default: try to listen on it). */
    free?: (host: string, port: number) => Promise<boolean>;
  },
): Promise<number> {
  const free = o.free ?? portFree;
  if (o.wanted !== undefined) return o.wanted;
  const from = o.from ?? 3000;
  mkdirSync(join(root, "ports"), { recursive: true });
  for (let port = from; port < from + 20; port++)
    if (claimPort(root, port, o.pid, o.alive) && (await free(o.host, port))) return port;
    else releasePort(root, port, o.pid);
  throw new Error(`ports ${from}–${from + 19} are all taken on ${o.host}: set DEMO_PORT`);
}

/** A claim without a pid older than this was left by a demo killed while making it. */
const UNWRITTEN_CLAIM_MS = 10_000;

/**
 * Creates `ports/<port>` for `pid` unless a live process holds it (a dead one's is taken). The
 * claim appears with its pid in it (written aside, then linked: link fails when it exists), and
 * a claim without a pid (an older demo's, between its create and its write) is another demo's
 * until it is old: taken for a dead one's, it was removed and both demos took the port (break6).
 */
function claimPort(root: string, port: number, pid: number, alive: (pid: number) => boolean) {
  const file = join(root, "ports", String(port));
  const mine = `${file}.${pid}`;
  writeFileSync(mine, `${pid}\n`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, file);
        return true;
      } catch {
        const text = readText(file)?.trim();
        const holder = Number(text);
        if (holder === pid) return true;
        if (Number.isInteger(holder) && holder > 0 && alive(holder)) return false;
        if (!text && youngerThan(file, UNWRITTEN_CLAIM_MS)) return false;
        rmSync(file, { force: true }); // its demo is gone
      }
    }
    return false;
  } finally {
    rmSync(mine, { force: true });
  }
}

function youngerThan(path: string, ms: number): boolean {
  try {
    return Date.now() - statSync(path).mtimeMs < ms;
  } catch {
    return false;
  }
}

/** Removes `pid`'s claim of `port` (another process's claim stays). */
export function releasePort(root: string, port: number, pid: number): void {
  const file = join(root, "ports", String(port));
  if (Number(readText(file)?.trim()) === pid) rmSync(file, { force: true });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}
