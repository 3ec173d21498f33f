// The dashboard under benchmark in its own process (fleet-server.ts), so its CPU, RSS and
// event-loop lag are its own: started over IPC, asked for stats, called over HTTP as admin.
import { type ChildProcess, fork } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export const ADMIN = "bench-admin-token";
export const REPORTER = "bench-reporter-token";

/**
 * Children run TypeScript sources, with global.gc for memory after a full collection;
 * FLEET_BENCH_PROF=DIR writes CPU profiles, FLEET_BENCH_HEAP_PROF=DIR heap profiles.
 */
export function childArgs(name: string, extra: readonly string[] = []): string[] {
  const prof = process.env.FLEET_BENCH_PROF;
  const heap = process.env.FLEET_BENCH_HEAP_PROF;
  return [
    "--conditions=source",
    "--import",
    "tsx",
    "--expose-gc",
    ...extra,
    ...(prof ? ["--cpu-prof", `--cpu-prof-dir=${prof}/${name}`] : []),
    ...(heap ? ["--heap-prof", `--heap-prof-dir=${heap}/${name}`] : []),
  ];
}

/**
 * Open files this process (and the children it forks) may hold: the soft RLIMIT_NOFILE, from
 * /proc/self/limits. The dashboard holds one socket per connected node, so it bounds the
 * fleet one dashboard process can be measured with (raising it takes CAP_SYS_RESOURCE).
 */
export function openFileLimit(): number {
  const line = readFileSync("/proc/self/limits", "utf8")
    .split("\n")
    .find((l) => l.startsWith("Max open files"));
  const soft = line?.split(/\s+/)[3];
  return soft === undefined || soft === "unlimited" ? Number.POSITIVE_INFINITY : Number(soft);
}

/**
 * Node flags of the dashboard process: the image's (docker/dashboard.Dockerfile), or
 * FLEET_BENCH_DASHBOARD_FLAGS (space-separated) to compare others.
 */
export function dashboardFlags(): string[] {
  const env = process.env.FLEET_BENCH_DASHBOARD_FLAGS;
  return env === undefined ? [...DASHBOARD_NODE_FLAGS] : env.split(" ").filter(Boolean);
}

/** The flags the dashboard image starts node with (keep equal to the Dockerfile's). */
export const DASHBOARD_NODE_FLAGS: readonly string[] = [];

/**
 * The dashboard runs as the image runs it, compiled (dist/ of the dashboard's server and of the
 * packages), unless FLEET_BENCH_SOURCES=1: its TypeScript sources through tsx. tsx compiles
 * with esbuild's keepNames, which gives every named function it creates an own `name`
 * property (a property array, ~250 bytes per closure): per connection that is kilobytes the
 * product does not hold, and CPU it does not spend.
 */
export const DASHBOARD_SOURCES = process.env.FLEET_BENCH_SOURCES === "1";

const APP = join(import.meta.dirname, "..");
const REPO = join(APP, "..", "..");

/** Newest modification time of the .ts files under `dir` (tests left out), ms. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" }))
    if (f.endsWith(".ts") && !f.endsWith(".test.ts"))
      newest = Math.max(newest, statSync(join(dir, f)).mtimeMs);
  return newest;
}

/** Throws when a compiled output the dashboard runs is older than its sources. */
export function assertBuilt(): void {
  const builds = [
    [join(APP, "src/server"), join(APP, "dist/server/http-server.js")],
    [join(REPO, "packages/shared/src"), join(REPO, "packages/shared/dist/index.js")],
    [join(REPO, "packages/node-util/src"), join(REPO, "packages/node-util/dist/index.js")],
  ] as const;
  for (const [src, out] of builds) {
    let built = 0;
    try {
      built = statSync(out).mtimeMs;
    } catch {}
    if (built < newestSource(src))
      throw new Error(
        `${out} is missing or older than ${src}: build first (npm run build -w packages/shared -w packages/node-util; cd apps/dashboard && npx tsc -p tsconfig.server.json), or measure the sources with FLEET_BENCH_SOURCES=1`,
      );
  }
}

export class Dashboard {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<Dashboard> {
    if (!DASHBOARD_SOURCES) assertBuilt();
    // Compiled: without the "source" condition the packages resolve to their dist/.
    const args = childArgs("dashboard", dashboardFlags()).filter(
      (a) => DASHBOARD_SOURCES || a !== "--conditions=source",
    );
    const proc = fork(join(import.meta.dirname, "fleet-server.ts"), [], {
      execArgv: args,
      env: { ...process.env, BENCH_ADMIN_TOKEN: ADMIN, BENCH_REPORTER_TOKEN: REPORTER },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const first = await new Promise<{ url: string }>((resolve, reject) => {
      proc.once("message", (m) => resolve(m as { url: string }));
      proc.once("exit", (code) => reject(new Error(`dashboard exited with ${code}`)));
    });
    return new Dashboard(proc, first.url);
  }

  ask<T>(msg: string): Promise<T> {
    return new Promise((resolve) => {
      this.proc.once("message", (m) => resolve(m as T));
      this.proc.send(msg);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.send("stop");
    await exited;
  }

  async api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await fetch(this.url + path, {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** Fleet counts without listing nodes (a query that matches none). */
  async byStatus(): Promise<Record<string, number>> {
    return (await this.api<{ summary: { byStatus: Record<string, number> } }>("/api/nodes?q=~"))
      .summary.byStatus;
  }
}
