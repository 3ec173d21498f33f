import {
  type AgentFlags,
  assessLinux,
  computeDrift,
  type Difference,
  desiredChain,
  driftReport,
  familiesFor,
  type MasqConfig,
  type Unknown,
  windowsDrift,
} from "@masq/shared";
import type { Command } from "commander";
import { assessObserved } from "../assess.js";
import { loadConfig } from "./config-file.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatReport, formatUnknowns } from "./format.js";
import {
  CliExit,
  type CliIO,
  ERROR_EXIT,
  EXIT_DRIFTED,
  EXIT_ERROR,
  EXIT_OK,
  exitCodesHelp,
} from "./io.js";
import { addBackendOption, type BackendOption, nftSource } from "./nft-source.js";
import { addSourceOptions, readAnalyses, readLive, type SourceOptions } from "./source.js";
import {
  addWindowsCniOption,
  checkWindowsExclusive,
  readWindowsCni,
  type WindowsCniOption,
} from "./windows.js";

const HELP = `
Drift is about behaviour first: the same effect written with other comments or in another
order is only cosmetic. Besides the agent's chain and its jump, it follows the nat path: a
NAT or ACCEPT by another component before the agent's chain is reached (a CNI chain
masquerading some pods first: warning; everything masqueraded first: critical), or a NAT after
the agent returned, is reported with the rule, its component and whom it affects, when it
treats traffic otherwise than the config says. What could not be seen is listed as notes.
Without POSTROUTING in the input (\`iptables -t nat -S IP-MASQ-AGENT\` alone), the jump is not
judged.

Examples:
  iptables-save -t nat | ipmasq drift --config config.yaml --from -
  ipmasq drift --config config.yaml --netns node-a --json
`;

type DriftOptions = AgentFlagOptions &
  SourceOptions &
  BackendOption &
  WindowsCniOption & { config: string; json?: boolean };

export function registerDrift(program: Command, io: CliIO): void {
  const cmd = program
    .command("drift")
    .description("compare a node's rules with a config: exit 0 in sync, 3 drifted, 1 error")
    .requiredOption("--config <file>", "ip-masq-agent config (YAML or JSON)")
    .option("--json", "print the report as JSON")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_OK, "in sync"],
        [EXIT_DRIFTED, "drifted (what differs on stdout)"],
        ERROR_EXIT,
      ]),
    );
  addWindowsCniOption(addBackendOption(addSourceOptions(cmd)), "compare");
  addAgentFlagOptions(cmd).action(async (opts: DriftOptions, c: Command) => {
    checkWindowsExclusive(opts, c);
    const flags = agentFlagsFrom(opts);
    const config = await loadConfig(io, opts.config, flags);
    let differences: Difference[];
    let unknowns: Unknown[] = [];
    if (opts.windowsCni !== undefined) {
      const { snapshot } = await readWindowsCni(opts.windowsCni, flags);
      differences = windowsDrift(config, snapshot.lists);
    } else {
      ({ differences, unknowns } = await linuxDrift(io, opts, flags, config));
    }
    const report = driftReport(differences);
    io.stdout(
      opts.json
        ? `${JSON.stringify({ ...report, unknowns }, null, 2)}\n`
        : `${formatReport(report)}${formatUnknowns(unknowns)}`,
    );
    if (report.status === "drifted") throw new CliExit(EXIT_DRIFTED);
  });
}

/** The differences of a Linux source: a live nftables node, nft -j text, or iptables. */
async function linuxDrift(
  io: CliIO,
  opts: DriftOptions,
  flags: AgentFlags,
  config: MasqConfig,
): Promise<{ differences: Difference[]; unknowns: Unknown[] }> {
  const live = opts.netns !== undefined && opts.from === undefined;
  const nft = await nftSource(io, opts, flags);
  if (nft)
    return { differences: assessObserved(config, flags, nft).report.differences, unknowns: [] };
  if (live) {
    const a = assessLinux(config, flags, await readLive(opts.netns!, flags));
    return {
      differences: a.report.differences,
      unknowns: a.families.flatMap((f) => f.observed.unknowns),
    };
  }
  const [observed] = await readAnalyses(io, opts, flags);
  if (!observed || !familiesFor(flags).includes(observed.family))
    throw new CliExit(EXIT_ERROR, `${observed?.family} rules need --enable-ipv6`);
  return {
    differences: computeDrift(desiredChain(config, flags, observed.family), observed),
    unknowns: observed.unknowns,
  };
}
