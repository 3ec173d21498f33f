import { parseConfigText, parseToPorts } from "@masq/shared";
import type { Command } from "commander";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatIssues } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";

const HELP = `
Examples:
  ipmasq validate --config config.yaml
  kubectl -n kube-system get configmap ip-masq-agent -o jsonpath='{.data.config}' | ipmasq validate --config -
  ipmasq validate --config config.yaml --nomasq-all-reserved-ranges --json
`;

interface ValidateOptions extends AgentFlagOptions {
  config: string;
  json?: boolean;
}

export function registerValidate(program: Command, io: CliIO): void {
  const cmd = program
    .command("validate")
    .description("check a config: exit 0 when valid (warnings on stderr), 1 with every error named")
    .requiredOption("--config <file>", "ip-masq-agent config (YAML or JSON); - for stdin")
    .option("--json", "print {valid, errors, warnings, config} as JSON")
    .addHelpText("after", HELP);
  addAgentFlagOptions(cmd).action(async (opts: ValidateOptions) => {
    const flags = agentFlagsFrom(opts);
    const r = parseConfigText(await readInput(io, opts.config), flags);
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
