// Loads and validates a config file for a command; an invalid one stops the command.
import { type AgentFlags, type MasqConfig, parseConfigText } from "@masq/shared";
import { formatIssues } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";

export async function loadConfig(io: CliIO, path: string, flags: AgentFlags): Promise<MasqConfig> {
  const r = parseConfigText(await readInput(io, path), flags);
  if (r.warnings.length > 0) io.stderr(formatIssues("warning", r.warnings));
  if (!r.ok)
    throw new CliExit(EXIT_ERROR, `${path}: invalid config\n${formatIssues("error", r.errors)}`);
  return r.config;
}
