import { stat } from "node:fs/promises";
import {
  type AgentFlags,
  type ConfigResult,
  type Issue,
  type MasqConfig,
  parseConfigText,
  parseToPorts,
} from "@masq/shared";
import type { Command } from "commander";
import { readConfigDir } from "../enforce/config-dir.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatIssues } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR, EXIT_OK, exitCodesHelp, readInput } from "./io.js";

const HELP = `
Examples:
  ipmasq validate --config config.yaml
  kubectl -n kube-system get configmap ip-masq-agent -o jsonpath='{.data.config}' | ipmasq validate --config -
  ipmasq validate --config config.yaml --nomasq-all-reserved-ranges --json
  ipmasq validate --config /etc/config   # a mounted directory: its ip-masq* files merged
`;

interface ValidateOptions extends AgentFlagOptions {
  config: string;
  json?: boolean;
}

export function registerValidate(program: Command, io: CliIO): void {
  const cmd = program
    .command("validate")
    .description("check a config: exit 0 when valid (warnings on stderr), 1 with every error named")
    .requiredOption(
      "--config <file>",
      "ip-masq-agent config (YAML or JSON); a directory: its ip-masq* files merged; - for stdin",
    )
    .option("--json", "print {valid, errors, warnings, config} as JSON")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_OK, "valid (warnings on stderr)"],
        [EXIT_ERROR, "invalid (every error named), or the config could not be read"],
      ]),
    );
  addAgentFlagOptions(cmd).action(async (opts: ValidateOptions) => {
    const flags = agentFlagsFrom(opts);
    const r = await parseConfigAt(io, opts.config, flags);
    const ports = parseToPorts(flags.toPorts);
    const errors = [
      ...(r.ok ? [] : r.errors),
      ...(ports.ok
        ? []
        : [{ code: "syntax" as const, message: ports.message, value: flags.toPorts }]),
    ];
    const valid = errors.length === 0;
    if (opts.json) {
      io.stdout(
        `${JSON.stringify({ valid, errors, warnings: r.warnings, config: r.ok ? r.config : null }, null, 2)}\n`,
      );
      if (!valid) throw new CliExit(EXIT_ERROR);
      return;
    }
    io.stderr(formatIssues("warning", r.warnings));
    if (!valid) throw new CliExit(EXIT_ERROR, formatIssues("error", errors).trimEnd());
    io.stdout(`${opts.config}: valid\n`);
  });
}

type Checked =
  | Pick<Extract<ConfigResult, { ok: false }>, "ok" | "errors" | "warnings">
  | {
      ok: true;
      config: MasqConfig;
      warnings: Issue[];
    };

/**
 * A file (or stdin) parsed; a directory read as the agent reads a mounted one
 * (enforce/config-dir.ts): its `ip-masq*` files merged, a bad file or a conflict one error.
 */
async function parseConfigAt(io: CliIO, path: string, flags: AgentFlags): Promise<Checked> {
  const isDir = path !== "-" && (await stat(path).catch(() => undefined))?.isDirectory();
  if (!isDir) return parseConfigText(await readInput(io, path), flags);
  const dir = await readConfigDir(path, flags).catch((e: NodeJS.ErrnoException) => {
    throw new CliExit(EXIT_ERROR, `cannot read ${path}: ${e.code ?? e.message}`);
  });
  if (!dir) throw new CliExit(EXIT_ERROR, `${path}: no ip-masq* config file in the directory`);
  if (dir.ok) return { ok: true, config: dir.config, warnings: [] };
  return { ok: false, errors: [{ code: "syntax", message: dir.reason }], warnings: [] };
}
