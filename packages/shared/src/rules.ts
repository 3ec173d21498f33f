// The desired IP-MASQ-AGENT chain, rendered exactly as upstream ip-masq-agent feeds it to
// `iptables-restore --noflush`, and the reporter's atomic apply payload built on it.
// Every rule text lives in a named constant; rules are built by small pure functions.
import { type Cidr, type Family, mustParseCidr } from "./cidr.js";
import {
  type AgentFlags,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  type MasqConfig,
} from "./config.js";
import { formatInterval, intervalSize, type PortInterval, parseToPorts } from "./ports.js";

export const NAT_TABLE = "nat";
export const POSTROUTING = "POSTROUTING";
export const NON_MASQ_RULE_COMMENT = "ip-masq-agent: local traffic is not subject to MASQUERADE";
export const MASQ_RULE_COMMENT =
  "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)";
/** Written by older agents, which also put `-m addrtype ! --dst-type LOCAL` on each rule. */
export const LEGACY_NON_MASQ_RULE_COMMENT =
  "ip-masq-agent: cluster-local traffic should not be subject to MASQUERADE";
/** Protocols that get per-interval rules when `--to-ports` is set (upstream's toPortsProtocols). */
export const TO_PORTS_PROTOCOLS = ["tcp", "udp", "sctp"] as const;
export type ToPortsProtocol = (typeof TO_PORTS_PROTOCOLS)[number];

/**
 * Upstream's postRoutingMasqChainCommentFormat keeps literal double quotes inside the comment
 * (a workaround for an old iptables parser bug), so the kernel stores them and `iptables -S`
 * prints `--comment "\"ip-masq-agent: ...\""`. Keeping them lets upstream's `iptables -C`
 * find our jump, so the two never add a second one.
 */
export function postroutingJumpComment(chain: string): string {
  return `"ip-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom ${chain} chain"`;
}

export type DesiredRule =
  | { kind: "return"; cidr: Cidr; line: string }
  | {
      kind: "masquerade";
      protocol?: ToPortsProtocol;
      probability?: number;
      toPorts?: string;
      randomFully: boolean;
      line: string;
    };

export interface DesiredChain {
  family: Family;
  chain: string;
  rules: DesiredRule[];
}

/** Quotes one argument the way iptables-save does (only when needed). */
export function quoteArg(arg: string): string {
  if (arg !== "" && !/[\s"'\\]/.test(arg)) return arg;
  return `"${arg.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

function ruleLine(chain: string, args: readonly string[]): string {
  return ["-A", chain, ...args.map(quoteArg)].join(" ");
}

export function commentArgs(comment: string): string[] {
  return ["-m", "comment", "--comment", comment];
}

export function nonMasqRuleArgs(cidr: string): string[] {
  return [...commentArgs(NON_MASQ_RULE_COMMENT), "-d", cidr, "-j", "RETURN"];
}

export function masqRuleArgs(randomFully: boolean): string[] {
  return [
    ...commentArgs(MASQ_RULE_COMMENT),
    "-j",
    "MASQUERADE",
    ...(randomFully ? ["--random-fully"] : []),
  ];
}

/**
 * Go's strconv.FormatFloat(p, 'f', -1, 64): the shortest text that reads back as p, never in
 * exponent form. JavaScript's shortest form only switches to exponents below 1e-6, and a share
 * of a port range is at least 1/65535.
 */
export function formatProbability(p: number): string {
  const text = String(p);
  return text.includes("e") ? p.toFixed(20).replace(/0+$/, "") : text;
}

/**
 * Upstream's writeMasqToPortsRules: the catch-all's args, then `-p PROTO`, the interval's share
 * of the remaining port space (none for the last one), and `--to-ports`.
 */
export function toPortsRuleArgs(
  protocol: ToPortsProtocol,
  ports: PortInterval,
  probability: number | undefined,
  randomFully: boolean,
): string[] {
  return [
    ...masqRuleArgs(randomFully),
    "-p",
    protocol,
    ...(probability === undefined
      ? []
      : ["-m", "statistic", "--mode", "random", "--probability", formatProbability(probability)]),
    "--to-ports",
    formatInterval(ports),
  ];
}

/** Args of the POSTROUTING jump, for iptables -A/-C/-D argv or a restore line. */
export function jumpRuleArgs(chain: string): string[] {
  return [
    ...commentArgs(postroutingJumpComment(chain)),
    "-m",
    "addrtype",
    "!",
    "--dst-type",
    "LOCAL",
    "-j",
    chain,
  ];
}

export function jumpRuleLine(chain: string): string {
  return ruleLine(POSTROUTING, jumpRuleArgs(chain));
}

export function linkLocalFor(family: Family): string {
  return family === "ipv4" ? LINK_LOCAL_CIDR : LINK_LOCAL_CIDR_IPV6;
}

/** Non-masquerade CIDRs of one family in upstream's order: link-local first, then the config's. */
export function nonMasqCidrs(config: MasqConfig, family: Family): string[] {
  const masqLinkLocal = family === "ipv4" ? config.masqLinkLocal : config.masqLinkLocalIPv6;
  const own = config.nonMasqueradeCIDRs.filter((c) => mustParseCidr(c).family === family);
  return [...(masqLinkLocal ? [] : [linkLocalFor(family)]), ...own];
}

function masqueradeRules(chain: string, flags: AgentFlags): DesiredRule[] {
  const ports = parseToPorts(flags.toPorts);
  if (!ports.ok) throw new Error(ports.message);
  const rules: DesiredRule[] = [];
  for (const protocol of ports.intervals.length > 0 ? TO_PORTS_PROTOCOLS : []) {
    let remaining = ports.intervals.reduce((n, i) => n + intervalSize(i), 0);
    ports.intervals.forEach((interval) => {
      const size = intervalSize(interval);
      // As upstream: no statistic match once this interval is all that remains.
      const probability = size === remaining ? undefined : size / remaining;
      const args = toPortsRuleArgs(protocol, interval, probability, flags.randomFully);
      rules.push({
        kind: "masquerade",
        protocol,
        probability,
        toPorts: formatInterval(interval),
        randomFully: flags.randomFully,
        line: ruleLine(chain, args),
      });
      remaining -= size;
    });
  }
  // The catch-all keeps every other protocol (ICMP...) masqueraded and must stay last.
  rules.push({
    kind: "masquerade",
    randomFully: flags.randomFully,
    line: ruleLine(chain, masqRuleArgs(flags.randomFully)),
  });
  return rules;
}

/** The desired chain for one family; the config must already be valid for these flags. */
export function desiredChain(config: MasqConfig, flags: AgentFlags, family: Family): DesiredChain {
  const chain = flags.masqChain;
  // Canonical text, never the config's: iptables reads `/016` as octal and prints IPv6 in RFC
  // 5952 form, so the config's own spelling could mean another block or never read back equal.
  const returns: DesiredRule[] = nonMasqCidrs(config, family).map((text) => {
    const cidr = mustParseCidr(text);
    return { kind: "return", cidr, line: ruleLine(chain, nonMasqRuleArgs(cidr.canonical)) };
  });
  return { family, chain, rules: [...returns, ...masqueradeRules(chain, flags)] };
}

/** Families the agent manages with these flags. */
export function familiesFor(flags: Pick<AgentFlags, "enableIPv6">): Family[] {
  return flags.enableIPv6 ? ["ipv4", "ipv6"] : ["ipv4"];
}

/**
 * Byte-identical to upstream's iptables-restore payload for this config, flags and family when
 * the CIDRs are written canonically (upstream writes them as given; see desiredChain).
 */
export function renderRestorePayload(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
): string {
  const d = desiredChain(config, flags, family);
  return ["*nat", `:${d.chain} - [0:0]`, ...d.rules.map((r) => r.line), "COMMIT", ""].join("\n");
}

export interface ApplyPlan {
  /** Add the canonical jump (it is missing). */
  addJump: boolean;
  /** Exact rule specs (without `-A POSTROUTING`) of surplus jumps to delete in the same transaction. */
  deleteJumps: string[];
}

/**
 * One atomic transaction: redeclaring the chain flushes it, its rules are rewritten, and the
 * POSTROUTING jump is fixed up to exactly one. Nothing else is touched.
 */
export function renderApplyPayload(
  config: MasqConfig,
  flags: AgentFlags,
  family: Family,
  plan: ApplyPlan,
): string {
  const d = desiredChain(config, flags, family);
  return [
    "*nat",
    `:${d.chain} - [0:0]`,
    ...d.rules.map((r) => r.line),
    ...plan.deleteJumps.map((spec) => `-D ${POSTROUTING} ${spec}`),
    ...(plan.addJump ? [jumpRuleLine(d.chain)] : []),
    "COMMIT",
    "",
  ].join("\n");
}

/** Restores a previously read chain verbatim (rollback after a failed verification). */
export function renderRestoreChainPayload(chain: string, ruleLines: readonly string[]): string {
  return [
    "*nat",
    `:${chain} - [0:0]`,
    ...ruleLines.filter((l) => l.startsWith(`-A ${chain} `)),
    "COMMIT",
    "",
  ].join("\n");
}
