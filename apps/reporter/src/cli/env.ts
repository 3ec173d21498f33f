// Empty means unset: an option's environment variable set to "" (or blanks), as a Helm value
// left empty renders, is not its value. Taken as one, IPMASQ_STATE_DIR="" kept the state in the
// working directory, IPMASQ_TOKEN="" clashed with a token file, IPMASQ_MASQ_CHAIN="" refused to
// start instead of taking the default.
import type { Command } from "commander";

/** Forgets, for this parse, the environment variable of every option whose value is blank. */
export function blankEnvIsUnset(cmd: Command, env: NodeJS.ProcessEnv = process.env): Command {
  for (const o of cmd.options) {
    const v = o.envVar === undefined ? undefined : env[o.envVar];
    if (v !== undefined && v.trim() === "") o.envVar = undefined;
  }
  for (const c of cmd.commands) blankEnvIsUnset(c, env);
  return cmd;
}
