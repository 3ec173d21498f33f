// Streams and exit codes of one CLI invocation, so commands run in-process in tests.
import { readFile } from "node:fs/promises";

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Reads all of standard input (for `--from -`). */
  readStdin: () => Promise<string>;
}

export const EXIT_OK = 0;
export const EXIT_ERROR = 1;
export const EXIT_DRIFTED = 3;

/** A code and what it means, for a command's "Exit codes:" help section. */
export type ExitCodeHelp = readonly [code: number, meaning: string];

/** What every command exits with on bad usage or a failure (commander's errors included). */
export const ERROR_EXIT: ExitCodeHelp = [
  EXIT_ERROR,
  "error: bad options or input, or the command failed (the reason on stderr)",
];

/**
 * The "Exit codes:" section of a command's help, one code a line (a meaning's newlines are
 * indented under it). cli.test.ts checks every subcommand has one.
 */
export function exitCodesHelp(codes: readonly ExitCodeHelp[]): string {
  const lines = codes.map(([c, m]) => `  ${String(c).padEnd(3)} ${m.replaceAll("\n", "\n      ")}`);
  return `\nExit codes:\n${lines.join("\n")}\n`;
}

/** Thrown by commands to stop with a message and an exit code. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = "",
  ) {
    super(message);
  }
}

export async function readInput(io: CliIO, path: string): Promise<string> {
  if (path === "-") return io.readStdin();
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new CliExit(
      EXIT_ERROR,
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}

export function processIO(): CliIO {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}
