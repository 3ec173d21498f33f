// The upstream agent flags, shared by every subcommand that renders or judges rules.
import { type AgentFlags, agentFlagsSchema, zodReason } from "@masq/shared";
import { type Command, InvalidArgumentError, Option } from "commander";

/** Go's strconv.ParseBool, which reads the value of upstream's bool flags (flag.Bool). */
const GO_TRUE: ReadonlySet<unknown> = new Set([true, "1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE: ReadonlySet<unknown> = new Set([false, "0", "f", "F", "FALSE", "false", "False"]);

export function parseBool(v: string | boolean): boolean {
  if (GO_TRUE.has(v)) return true;
  if (GO_FALSE.has(v)) return false;
  throw new InvalidArgumentError(`expected true or false, got "${String(v)}"`);
}

/**
 * Upstream's bool flags. As with Go's flag package, each works bare (true) and as
 * `--flag=VALUE`; `--flag VALUE` takes VALUE only when it is a bool (goBoolFlags).
 */
const BOOL_FLAGS = ["--random-fully", "--enable-ipv6", "--nomasq-all-reserved-ranges"];

/**
 * `argv` with each bare upstream bool flag written `--flag=true` unless the next word is a
 * bool: Go's flag package never gives a bool flag the next word (`ipmasq why --enable-ipv6
 * 10.0.0.1` names the address), while commander's optional value would take it.
 */
export function goBoolFlags(argv: readonly string[]): string[] {
  const out = [...argv];
  for (let i = 0; i < out.length && out[i] !== "--"; i++) {
    const next = out[i + 1];
    const isBool = next !== undefined && (GO_TRUE.has(next) || GO_FALSE.has(next));
    if (BOOL_FLAGS.includes(out[i]!) && !isBool) out[i] = `${out[i]}=true`;
  }
  return out;
}

/** An upstream bool flag: bare is true, `=VALUE` any Go bool, `env` as its value. */
function boolOption(flags: string, description: string, def: boolean, env: string): Option {
  return new Option(`${flags} [bool]`, description)
    .preset(true)
    .default(def)
    .argParser(parseBool)
    .env(env);
}

export function addAgentFlagOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option("--masq-chain <name>", "nat chain for the masquerade rules")
        .default("IP-MASQ-AGENT")
        .env("IPMASQ_MASQ_CHAIN"),
    )
    .addOption(
      boolOption("--random-fully", "add --random-fully to MASQUERADE", true, "IPMASQ_RANDOM_FULLY"),
    )
    .addOption(
      new Option(
        "--to-ports <spec>",
        'masquerade to these ports only, e.g. "1024-29999,32768-65535"',
      )
        .default("")
        .env("IPMASQ_TO_PORTS"),
    )
    .addOption(boolOption("--enable-ipv6", "manage ip6tables too", false, "IPMASQ_ENABLE_IPV6"))
    .addOption(
      boolOption(
        "--nomasq-all-reserved-ranges",
        "default to all RFC reserved ranges",
        false,
        "IPMASQ_NOMASQ_ALL_RESERVED_RANGES",
      ),
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
