// `ipmasq run …` from source as a child process, with its output collected: how the CLI tests
// start the daemon exactly as the DaemonSets do (settings from the environment). One-shot
// commands (`apply`, `why`, …) run in-process with their output collected (run-cli.ts).
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far (JSON log lines). */
  output: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv): CliProcess {
  const main = join(import.meta.dirname, "../../src/cli/main.ts");
  const child = spawn(
    process.execPath,
    ["--conditions", "source", "--import", "tsx", main, ...args],
    {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout?.on("data", (b) => {
    output += b;
  });
  child.stderr?.on("data", (b) => {
    output += b;
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => output, exited };
}
