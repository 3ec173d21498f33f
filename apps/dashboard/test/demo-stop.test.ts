// `npm run demo` stopped with Ctrl-C (SIGINT) says so as its last line, once the cleanup is
// done: the namespaces it made are gone by the time the line is printed. Runs the real demo
// (root: network namespaces); the build it needs is the one the other integration tests use.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT } from "@masq/testkit/processes";
import { describe, expect, it, onTestFinished } from "vitest";

/** The environment of `npm run demo` typed in a shell: none of vitest's variables, no port. */
function demoEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("VITEST") || k === "NODE_ENV") delete env[k];
  // The first free port from 3000, as a demo started without DEMO_PORT takes.
  delete env.DEMO_PORT;
  delete env.PORT;
  return env;
}

function netnsList(): string {
  return spawnSync("ip", ["netns", "list"], { encoding: "utf8" }).stdout;
}

describe("npm run demo on Ctrl-C", () => {
  it("ends with a 'stopped' line after the cleanup finished", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "scripts/demo.ts"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env: demoEnv(),
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      err += b.toString();
    });
    const exited = new Promise<number | null>((res) => child.on("exit", (code) => res(code)));
    // A failed expectation before the SIGINT below must not leave the demo running.
    onTestFinished(() => {
      if (child.exitCode === null) child.kill("SIGINT");
    });
    const deadline = Date.now() + 100_000;
    while (!out.includes("demo is running") && child.exitCode === null) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out, err).toContain("demo is running");
    const namespaces = [...out.matchAll(/\(netns (\S+)\)/g)].map((m) => m[1]!);
    expect(namespaces).toHaveLength(4);
    // The dashboard's log is kept beside the reporters' (a new user had none to read).
    const logs = /^\s*logs\s+(\S+)/m.exec(out)?.[1];
    expect(logs, out).toBeDefined();
    const dashboardLog = readFileSync(join(logs!, "dashboard.log"), "utf8");
    expect(dashboardLog).toContain('"name":"ipmasq-dashboard"');
    // SIGUSR2 restarts the dashboard alone (the banner says so); the demo keeps running.
    expect(out).toContain(`kill -USR2 ${child.pid}`);
    child.kill("SIGUSR2");
    const back = Date.now() + 60_000;
    while (!out.includes("the dashboard is back") && child.exitCode === null && Date.now() < back)
      await new Promise((r) => setTimeout(r, 200));
    expect(out, err).toContain("the dashboard is back");
    expect(child.exitCode).toBeNull();
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    const lines = out.trimEnd().split("\n");
    expect(lines.at(-1)).toBe("demo stopped: reporters, dashboard and network namespaces are gone");
    const left = netnsList();
    for (const n of namespaces) expect(left).not.toContain(n);
  }, 150_000);
});
