// The `ipmasq` command line: one module per subcommand, run in-process by runCli.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { registerApply } from "./apply.js";
import { registerDrift } from "./drift.js";
import { blankEnvIsUnset } from "./env.js";
import { goBoolFlags } from "./flags.js";
import { registerInspect } from "./inspect.js";
import { CliExit, type CliIO, EXIT_ERROR } from "./io.js";
import { registerRender } from "./render.js";
import { registerRun } from "./run.js";
import { registerToken } from "./token.js";
import { registerValidate } from "./validate.js";
import { registerWhy } from "./why.js";

export const VERSION = "0.1.0";

export function buildProgram(io: CliIO): Command {
  const program = new Command("ipmasq")
    .description(
      "ip-masq-agent compatible masquerade rules: render, validate, inspect, drift, why, apply, run, token",
    )
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();
  registerRender(program, io);
  registerValidate(program, io);
  registerInspect(program, io);
  registerDrift(program, io);
  registerWhy(program, io);
  registerApply(program, io);
  registerRun(program);
  registerToken(program, io);
  for (const c of program.commands)
    c.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  return blankEnvIsUnset(program);
}

/** Runs one invocation and returns its exit code (never calls process.exit). */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    await buildProgram(io).parseAsync(goBoolFlags(argv), { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) io.stderr(`${e.message}\n`);
      return e.code;
    }
    // A check in an action throwing commander's InvalidArgumentError (a bad --liveness-*,
    // --dashboard-ca or agent flag): commander printed nothing of it, unlike its own parse
    // errors (thrown as plain CommanderError once printed). Unsaid, the command exited 1
    // silently (break6).
    if (e instanceof InvalidArgumentError) {
      io.stderr(`ipmasq: ${e.message}\n`);
      return EXIT_ERROR;
    }
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_ERROR;
    io.stderr(`ipmasq: ${(e as Error).message}\n`);
    return EXIT_ERROR;
  }
}
