// Loads and validates a config file for a command; an invalid one stops the command. A
// directory is read as ip-masq-agent-v2 reads /etc/config: its `ip-masq*` files merged
// (enforce/config-dir.ts); a conflict between them stops the command too.
import { stat } from "node:fs/promises";
import { type AgentFlags, type MasqConfig, parseConfigText } from "@masq/shared";
import { readConfigDir } from "../enforce/config-dir.js";
import { formatIssues } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";

export async function loadConfig(io: CliIO, path: string, flags: AgentFlags): Promise<MasqConfig> {
  if (path !== "-" && (await stat(path).catch(() => undefined))?.isDirectory())
    return loadConfigDir(path, flags);
  const r = parseConfigText(await readInput(io, path), flags);
  if (r.warnings.length > 0) io.stderr(formatIssues("warning", r.warnings));
  if (!r.ok)
    throw new CliExit(EXIT_ERROR, `${path}: invalid config\n${formatIssues("error", r.errors)}`);
  return r.config;
}

async function loadConfigDir(dir: string, flags: AgentFlags): Promise<MasqConfig> {
  const r = await readConfigDir(dir, flags).catch((e: NodeJS.ErrnoException) => {
    throw new CliExit(EXIT_ERROR, `cannot read ${dir}: ${e.code ?? e.message}`);
  });
  if (!r) throw new CliExit(EXIT_ERROR, `${dir}: no ip-masq* config file in the directory`);
  if (!r.ok) throw new CliExit(EXIT_ERROR, r.reason);
  return r.config;
}
