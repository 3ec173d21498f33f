// The desired IP-MASQ-AGENT chain, rendered exactly as upstream ip-masq-agent feeds it to
// `iptables-restore --noflush`, and the reporter's atomic apply payload built on it.
// Every rule text lives in a named constant; rules are built by small pure functions.
import { type Cidr, type Family, mustParseCidr } from "./cidr.js";
import type { AgentFlags, MasqConfig } from "./config.js";
import {
  bySpecificity,
  decisionEntries,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  usesExceptions,
} from "./masquerade-decision.js";
import { formatInterval, intervalSize, type PortInterval, parseToPorts } from "./ports.js";

export const NAT_TABLE = "nat";
export const POSTROUTING = "POSTROUTING";
export const NON_MASQ_RULE_COMMENT = "ip-masq-agent: local traffic is not subject to MASQUERADE";
export const MASQ_RULE_COMMENT =
  "ip-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)";
/**
 * On a masqueradeCIDRs rule (this product's extension), in upstream's wording: "ip-masq-agent:
 * <traffic> is [not] subject to MASQUERADE".
 */
export const EXCEPTION_MASQ_RULE_COMMENT =
  "ip-masq-agent: masqueradeCIDRs traffic is subject to MASQUERADE";
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
      /** A masqueradeCIDRs exception's destination; none on the final MASQUERADE. */
      cidr?: Cidr;
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

/** A masqueradeCIDRs rule's args: upstream's MASQUERADE args with the exception's comment and -d. */
function exceptionArgs(args: string[], cidr: Cidr): string[] {
  const comment = commentArgs(MASQ_RULE_COMMENT).length;
  return [
    ...commentArgs(EXCEPTION_MASQ_RULE_COMMENT),
    "-d",
    cidr.canonical,
    ...args.slice(comment),
  ];
}

/**
 * The MASQUERADE rules with the agent's flags (per-protocol `--to-ports` rules, then one for
 * every protocol); with `cidr`, those of a masqueradeCIDRs exception for that destination.
 */
function masqueradeRules(chain: string, flags: AgentFlags, cidr?: Cidr): DesiredRule[] {
  const own = (args: string[]) => (cidr ? exceptionArgs(args, cidr) : args);
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
        ...(cidr ? { cidr } : {}),
        line: ruleLine(chain, own(args)),
      });
      remaining -= size;
    });
  }
  // The catch-all keeps every other protocol (ICMP...) masqueraded and must stay last.
  rules.push({
    kind: "masquerade",
    randomFully: flags.randomFully,
    ...(cidr ? { cidr } : {}),
    line: ruleLine(chain, own(masqRuleArgs(flags.randomFully))),
  });
  return rules;
}

function returnRule(chain: string, cidr: Cidr): DesiredRule {
  return { kind: "return", cidr, line: ruleLine(chain, nonMasqRuleArgs(cidr.canonical)) };
}

/**
 * With masqueradeCIDRs: every entry most specific first (a RETURN, or an exception's MASQUERADE
 * rules), so the first rule a packet matches is its longest-prefix match; then the final
 * MASQUERADE. Blocks nest or are disjoint, so this order is the only one needed.
 */
function exceptionChain(config: MasqConfig, flags: AgentFlags, family: Family): DesiredRule[] {
  const chain = flags.masqChain;
  const ordered = decisionEntries(config, family).sort(bySpecificity);
  return [
    ...ordered.flatMap((e) =>
      e.masquerade ? masqueradeRules(chain, flags, e.cidr) : [returnRule(chain, e.cidr)],
    ),
    ...masqueradeRules(chain, flags),
  ];
}

/**
 * The desired chain for one family; the config must already be valid for these flags. Without
 * masqueradeCIDRs it is upstream's chain (link-local, then the config's order).
 */
export function desiredChain(config: MasqConfig, flags: AgentFlags, family: Family): DesiredChain {
  const chain = flags.masqChain;
  if (usesExceptions(config))
    return { family, chain, rules: exceptionChain(config, flags, family) };
  // Canonical text, never the config's: iptables reads `/016` as octal and prints IPv6 in RFC
  // 5952 form, so the config's own spelling could mean another block or never read back equal.
  const returns = nonMasqCidrs(config, family).map((text) =>
    returnRule(chain, mustParseCidr(text)),
  );
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
