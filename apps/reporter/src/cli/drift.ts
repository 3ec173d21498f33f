import {
  assessLinux,
  computeDrift,
  type Difference,
  desiredChain,
  driftReport,
  familiesFor,
  windowsDrift,
} from "@masq/shared";
import type { Command } from "commander";
import { loadConfig } from "./config-file.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatReport } from "./format.js";
import { CliExit, type CliIO, EXIT_DRIFTED, EXIT_ERROR } from "./io.js";
import { addSourceOptions, readAnalyses, readLive, type SourceOptions } from "./source.js";
import {
  addWindowsCniOption,
  checkWindowsExclusive,
  readWindowsCni,
  type WindowsCniOption,
} from "./windows.js";

type DriftOptions = AgentFlagOptions &
  SourceOptions &
  WindowsCniOption & { config: string; json?: boolean };

export function registerDrift(program: Command, io: CliIO): void {
  const cmd = program
    .command("drift")
    .description("compare a node's rules with a config: exit 0 in sync, 3 drifted, 1 error")
    .requiredOption("--config <file>", "ip-masq-agent config (YAML or JSON)")
    .option("--json", "print the report as JSON");
  addWindowsCniOption(addSourceOptions(cmd), "compare");
  addAgentFlagOptions(cmd).action(async (opts: DriftOptions, c: Command) => {
    checkWindowsExclusive(opts, c);
    const flags = agentFlagsFrom(opts);
    const config = await loadConfig(io, opts.config, flags);
    let differences: Difference[];
    if (opts.windowsCni !== undefined) {
      const { snapshot } = await readWindowsCni(opts.windowsCni, flags);
      differences = windowsDrift(config, snapshot.lists);
    } else if (opts.netns !== undefined && opts.from === undefined) {
      differences = assessLinux(config, flags, await readLive(opts.netns, flags)).report
        .differences;
    } else {
      const [observed] = await readAnalyses(io, opts, flags);
      if (!observed || !familiesFor(flags).includes(observed.family))
        throw new CliExit(EXIT_ERROR, `${observed?.family} rules need --enable-ipv6`);
      differences = computeDrift(desiredChain(config, flags, observed.family), observed);
    }
    const report = driftReport(differences);
    io.stdout(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    if (report.status === "drifted") throw new CliExit(EXIT_DRIFTED);
  });
}
