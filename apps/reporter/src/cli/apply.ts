// `ipmasq apply --config FILE`: one atomic, verified apply (rolled back when the read-back
// differs). Exit 0 only when the node verifiably has the config's rules.
import { type Command, Option } from "commander";
import { createIptablesBackend, type IptablesVariant } from "../backend/iptables.js";
import { loadConfig } from "./config-file.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { CliExit, type CliIO, EXIT_ERROR, processIO } from "./io.js";

interface ApplyOptions extends AgentFlagOptions {
  config: string;
  netns?: string;
  iptables: IptablesVariant;
  json?: boolean;
}

export function registerApply(program: Command, io: CliIO = processIO()): void {
  const cmd = program
    .command("apply")
    .description(
      "apply a config to this node (or --netns) atomically and verify it; exit 0 when verified",
    )
    .requiredOption("--config <file>", "ip-masq-agent config (YAML or JSON); - for stdin")
    .addOption(
      new Option("--netns <name>", "apply inside this network namespace").env("IPMASQ_NETNS"),
    )
    .addOption(
      new Option("--iptables <variant>", "auto, nft or legacy")
        .choices(["auto", "nft", "legacy"])
        .default("auto")
        .env("IPMASQ_IPTABLES"),
    )
    .option("--json", "print the outcome as JSON");
  addAgentFlagOptions(cmd).action(async (opts: ApplyOptions) => {
    const flags = agentFlagsFrom(opts);
    const config = await loadConfig(io, opts.config, flags);
    const backend = createIptablesBackend({ netns: opts.netns, flags, variant: opts.iptables });
    const o = await backend.apply(config, "cli");
    if (opts.json) {
      const { snapshots: _s, ...summary } = o;
      io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    } else if (o.ok) {
      io.stdout(
        `applied and verified (${o.changed ? "rules written" : "already in place"}) in ${Math.round(o.durationMs)} ms\n`,
      );
    }
    if (!o.ok) throw new CliExit(EXIT_ERROR, `apply failed: ${o.error ?? "unknown error"}`);
  });
}
