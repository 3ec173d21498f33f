// The upstream agent flags, shared by every subcommand that renders or judges rules.
import { type AgentFlags, agentFlagsSchema, zodReason } from "@masq/shared";
import { type Command, InvalidArgumentError, Option } from "commander";

export function parseBool(v: string | boolean): boolean {
  if (v === true || v === "true" || v === "1") return true;
  if (v === false || v === "false" || v === "0") return false;
  throw new InvalidArgumentError(`expected true or false, got "${String(v)}"`);
}

export function addAgentFlagOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--masq-chain <name>", "nat chain for the masquerade rules")
        .default("IP-MASQ-AGENT")
        .env("IPMASQ_MASQ_CHAIN"),
    )
    .addOption(
      new Option("--random-fully <bool>", "add --random-fully to MASQUERADE")
        .default(true)
        .argParser(parseBool)
        .env("IPMASQ_RANDOM_FULLY"),
    )
    .addOption(
      new Option(
        "--to-ports <spec>",
        'masquerade to these ports only, e.g. "1024-29999,32768-65535"',
      )
        .default("")
        .env("IPMASQ_TO_PORTS"),
    )
    .addOption(
      new Option("--enable-ipv6 [bool]", "manage ip6tables too")
        .preset(true)
        .default(false)
        .argParser(parseBool)
        .env("IPMASQ_ENABLE_IPV6"),
    )
    .addOption(
      new Option("--nomasq-all-reserved-ranges [bool]", "default to all RFC reserved ranges")
        .preset(true)
        .default(false)
        .argParser(parseBool)
        .env("IPMASQ_NOMASQ_ALL_RESERVED_RANGES"),
    );
}

export interface AgentFlagOptions {
  masqChain: string;
  randomFully: boolean;
  toPorts: string;
  enableIpv6: boolean;
  nomasqAllReservedRanges: boolean;
}

/** Validated agent flags from parsed options; throws a readable error. */
export function agentFlagsFrom(opts: AgentFlagOptions): AgentFlags {
  const r = agentFlagsSchema.safeParse({
    masqChain: opts.masqChain,
    randomFully: opts.randomFully,
    toPorts: opts.toPorts,
    enableIPv6: opts.enableIpv6,
    noMasqAllReservedRanges: opts.nomasqAllReservedRanges,
  });
  if (!r.success) throw new InvalidArgumentError(`invalid agent flags: ${zodReason(r.error)}`);
  return r.data;
}
