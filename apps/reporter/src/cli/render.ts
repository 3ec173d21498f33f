import {
  defaultConfig,
  type Family,
  familiesFor,
  jumpRuleLine,
  type MasqConfig,
  renderNftApply,
  renderRestorePayload,
  windowsExceptionList,
} from "@masq/shared";
import { type Command, Option } from "commander";
import { loadConfig } from "./config-file.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { CliExit, type CliIO, EXIT_ERROR, EXIT_OK, exitCodesHelp } from "./io.js";

const HELP = `
Without --config it renders upstream's defaults, as the agent does with no config file:
the RFC 1918 ranges (plus the reserved ranges with --nomasq-all-reserved-ranges).

Examples:
  ipmasq render
  ipmasq render --config config.yaml --with-jump
  kubectl -n kube-system get configmap ip-masq-agent -o jsonpath='{.data.config}' | ipmasq render --config -
  ipmasq render --config config.yaml --enable-ipv6 --family ipv6
  ipmasq render --config config.yaml --backend nftables | nft -f -

With --backend nftables it prints the nft -f script the nftables backend applies: one
transaction that creates the inet ip_masq_agent table if missing, empties it and fills it (both
families at once; --family and --with-jump do not apply).

  ipmasq render --config config.yaml --windows

--windows prints the OutBoundNAT ExceptionList a Windows node gets instead, as JSON. With
masqueradeCIDRs it is the equivalent list (an ExceptionList cannot say "except"): the
non-masquerade ranges minus the exceptions, as the fewest CIDRs; a list longer than the bound
is refused (exit 1) with the reason.
`;

interface RenderOptions extends AgentFlagOptions {
  config?: string;
  family: Family;
  withJump?: boolean;
  backend: "iptables" | "nftables";
  windows?: boolean;
}

/** The ExceptionList for Windows nodes, as JSON (the CNI config's own form). */
function renderWindows(config: MasqConfig): string {
  const r = windowsExceptionList(config);
  if (!r.ok) throw new CliExit(EXIT_ERROR, r.reason);
  return `${JSON.stringify(r.list, null, 2)}\n`;
}

export function registerRender(program: Command, io: CliIO): void {
  const cmd = program
    .command("render")
    .description("print the iptables-restore payload upstream ip-masq-agent applies for a config")
    .option(
      "--config <file>",
      "ip-masq-agent config (YAML or JSON); - for stdin (default: upstream's defaults)",
    )
    .addOption(
      new Option("--family <family>", "address family").choices(["ipv4", "ipv6"]).default("ipv4"),
    )
    .option("--with-jump", "also add the POSTROUTING jump rule (upstream ensures it separately)")
    .addOption(
      new Option("--backend <kind>", "the rules of this backend")
        .choices(["iptables", "nftables"])
        .default("iptables"),
    )
    .option("--windows", "print the OutBoundNAT ExceptionList of a Windows node instead")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_OK, "rendered"],
        [EXIT_ERROR, "the config is invalid, or an error"],
      ]),
    );
  addAgentFlagOptions(cmd).action(async (opts: RenderOptions) => {
    const flags = agentFlagsFrom(opts);
    if (!familiesFor(flags).includes(opts.family))
      throw new CliExit(
        EXIT_ERROR,
        "ipv6 rules are only rendered with --enable-ipv6 (as upstream does)",
      );
    const config =
      opts.config === undefined ? defaultConfig(flags) : await loadConfig(io, opts.config, flags);
    if (opts.windows) {
      io.stdout(renderWindows(config));
      return;
    }
    let payload: string;
    try {
      if (opts.backend === "nftables") {
        io.stdout(renderNftApply(config, flags));
        return;
      }
      payload = renderRestorePayload(config, flags, opts.family);
    } catch (e) {
      throw new CliExit(EXIT_ERROR, (e as Error).message);
    }
    io.stdout(
      opts.withJump
        ? payload.replace(/COMMIT\n$/, `${jumpRuleLine(flags.masqChain)}\nCOMMIT\n`)
        : payload,
    );
  });
}
