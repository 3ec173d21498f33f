// `ipmasq run …` from source as a child process, with its output collected: how the CLI tests
// start the daemon exactly as the DaemonSets do (settings from the environment). One-shot
// commands (`apply`, `why`, …) run in-process with their output collected.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";

/** Runs one `ipmasq` command in this process: its exit code, stdout and stderr. */
export async function ipmasq(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    readStdin: async () => "",
  });
  return { code, stdout, stderr };
}

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
