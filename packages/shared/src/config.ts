// The ip-masq-agent config: its shape and defaults, validation as upstream's validate() plus
// what nodes can be sent (limits.ts), with errors that name the bad value, and warnings for
// configs that are legal but probably not meant or that upstream applies otherwise than it
// reads. Reading the ConfigMap text as upstream does is config-decode.ts.
import { stringify } from "yaml";
import { z } from "zod";
import {
  type Cidr,
  cidrLast,
  cidrOverlaps,
  formatIp,
  iptablesPrefix,
  maskOf,
  mustParseCidr,
  nonCanonicalReason,
  parseCidr,
} from "./cidr.js";
import { formatGoDuration, parseGoDuration } from "./duration.js";
import {
  DESIRED_ENVELOPE_BYTES,
  MAX_CHAIN_NAME_LENGTH,
  MAX_CIDR_CHARS,
  MAX_CONFIG_CIDRS,
  MAX_DURATION_CHARS,
  MAX_FRAME_BYTES,
  MAX_TO_PORTS_CHARS,
  MIN_RESYNC_INTERVAL_MS,
} from "./limits.js";

import {
  type DecisionEntry,
  decisionEntries,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  nearestHolders,
} from "./masquerade-decision.js";

/** RFC 1918. */
export const DEFAULT_NON_MASQ_CIDRS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"] as const;
/** Added to the defaults by the agent flag `nomasq-all-reserved-ranges`. */
export const RESERVED_RANGES = [
  "100.64.0.0/10", // RFC 6598
  "192.0.0.0/24", // RFC 6890
  "192.0.2.0/24", // RFC 5737
  "192.88.99.0/24", // RFC 7526
  "198.18.0.0/15", // RFC 6815
  "198.51.100.0/24", // RFC 5737
  "203.0.113.0/24", // RFC 5737
  "240.0.0.0/4", // RFC 5735, former class E
] as const;
export const DEFAULT_CIDR_LIMIT = 64;
export const DEFAULT_RESYNC_INTERVAL = "60s";

const cidrListSchema = z
  .array(z.string().max(MAX_CIDR_CHARS))
  .max(MAX_CONFIG_CIDRS, `at most ${MAX_CONFIG_CIDRS} CIDRs can be sent to nodes`);

/**
 * The effective config: every key resolved (defaults applied). `masqueradeCIDRs` (exceptions
 * inside the non-masquerade ranges, this product's extension; upstream ignores the key) is
 * optional: absent means none, and the config then renders byte-identical to upstream.
 */
export const masqConfigSchema = z.strictObject({
  nonMasqueradeCIDRs: cidrListSchema,
  masqueradeCIDRs: cidrListSchema.optional(),
  masqLinkLocal: z.boolean(),
  masqLinkLocalIPv6: z.boolean(),
  cidrLimit: z.number().int(),
  resyncInterval: z.string().max(MAX_DURATION_CHARS),
});
export type MasqConfig = z.infer<typeof masqConfigSchema>;

/** Agent flags: per-node command-line settings, not part of the ConfigMap. */
export const agentFlagsSchema = z.strictObject({
  masqChain: z
    .string()
    .regex(
      new RegExp(`^[A-Za-z0-9_.-]{1,${MAX_CHAIN_NAME_LENGTH}}$`),
      `chain names are 1-${MAX_CHAIN_NAME_LENGTH} letters, digits, _ . -`,
    ),
  randomFully: z.boolean(),
  /** Upstream `--to-ports` spec, e.g. "1024-29999,32768-65535"; empty means none. */
  toPorts: z.string().max(MAX_TO_PORTS_CHARS),
  enableIPv6: z.boolean(),
  noMasqAllReservedRanges: z.boolean(),
});
export type AgentFlags = z.infer<typeof agentFlagsSchema>;

export const DEFAULT_FLAGS: AgentFlags = {
  masqChain: "IP-MASQ-AGENT",
  randomFully: true,
  toPorts: "",
  enableIPv6: false,
  noMasqAllReservedRanges: false,
};

export type IssueCode =
  | "syntax"
  | "type"
  | "unknown-key"
  | "key-case"
  /** A key given more than once (upstream applies each in turn). */
  | "duplicate-key"
  /** A null list item (upstream's decoder keeps the default element there). */
  | "null-item"
  | "cidr-unparsable"
  | "cidr-misaligned"
  | "cidr-ipv4-mapped"
  /** Legal, but not written as iptables prints it (and upstream writes it as given). */
  | "cidr-not-canonical"
  | "cidr-limit"
  | "ipv6-disabled"
  | "duration"
  /** A resync interval the reporter does not follow as written (too short) or very long. */
  | "resync-interval"
  /** More than the protocol can carry to nodes (limits.ts). */
  | "undeliverable"
  | "duplicate"
  | "contained"
  | "all-traffic"
  | "link-local-overlap"
  /** The same block in nonMasqueradeCIDRs (or link-local) and masqueradeCIDRs. */
  | "both-lists"
  /** A masqueradeCIDRs entry no non-masquerade range contains: it changes nothing. */
  | "exception-redundant"
  /** The dashboard refuses masqueradeCIDRs while nodes run in observe mode (beside upstream). */
  | "observe-mode";

export interface Issue {
  code: IssueCode;
  /** A sentence for people, naming the offending value. */
  message: string;
  /** The offending value, when there is one. */
  value?: string;
  /** What the user probably meant (a corrected CIDR). */
  suggestion?: string;
  /** The error text upstream ip-masq-agent logs for the same input, when it rejects it. */
  upstream?: string;
}

export function defaultConfig(
  flags: Pick<AgentFlags, "noMasqAllReservedRanges"> = DEFAULT_FLAGS,
): MasqConfig {
  return {
    nonMasqueradeCIDRs: [
      ...DEFAULT_NON_MASQ_CIDRS,
      ...(flags.noMasqAllReservedRanges ? RESERVED_RANGES : []),
    ],
    masqLinkLocal: false,
    masqLinkLocalIPv6: false,
    cidrLimit: DEFAULT_CIDR_LIMIT,
    resyncInterval: DEFAULT_RESYNC_INTERVAL,
  };
}

export type ConfigResult =
  | { ok: true; config: MasqConfig; warnings: Issue[]; keys: (keyof MasqConfig)[] }
  | { ok: false; errors: Issue[]; warnings: Issue[] };

function cidrError(text: string, r: Extract<ReturnType<typeof parseCidr>, { ok: false }>): Issue {
  if (r.reason === "misaligned")
    return {
      code: "cidr-misaligned",
      message: `${text} is not aligned; did you mean ${r.suggestion}?`,
      value: text,
      suggestion: r.suggestion,
      upstream: r.message,
    };
  if (r.reason === "ipv4-mapped")
    // Upstream accepts it, files it under IPv4 (Go's To4) and iptables-restore then fails.
    return { code: "cidr-ipv4-mapped", message: r.message, value: text };
  return {
    code: "cidr-unparsable",
    message: `${text === "" ? '""' : text} is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`,
    value: text,
    upstream: r.message,
  };
}

/** Both CIDR lists of a config: nonMasqueradeCIDRs, then masqueradeCIDRs (when given). */
export function allCidrTexts(config: MasqConfig): string[] {
  return [...config.nonMasqueradeCIDRs, ...(config.masqueradeCIDRs ?? [])];
}

function cidrIssues(
  texts: readonly string[],
  flags: AgentFlags,
): { errors: Issue[]; parsed: Cidr[] } {
  const errors: Issue[] = [];
  const parsed: Cidr[] = [];
  for (const text of texts) {
    const r = parseCidr(text);
    if (!r.ok) {
      errors.push(cidrError(text, r));
      continue;
    }
    if (r.cidr.family === "ipv6" && !flags.enableIPv6) {
      const upstream = `ipv6 is not enabled, but ipv6 cidr ${text} provided. Enable ipv6 using --enable-ipv6 agent flag`;
      errors.push({
        code: "ipv6-disabled",
        message: `${text} is IPv6 but IPv6 is not enabled (agent flag --enable-ipv6)`,
        value: text,
        upstream,
      });
      continue;
    }
    parsed.push(r.cidr);
  }
  return { errors, parsed };
}

const byBlock = (a: Cidr, b: Cidr) =>
  a.family !== b.family
    ? a.family < b.family
      ? -1
      : 1
    : a.network !== b.network
      ? a.network < b.network
        ? -1
        : 1
      : a.prefix - b.prefix;

/**
 * For each block (by canonical text), the widest other block of the list holding it. Blocks
 * nest or are disjoint, so after sorting by start (widest first) the blocks holding the
 * current one are a chain: O(n log n).
 */
function widestHolders(blocks: readonly Cidr[]): Map<string, Cidr> {
  const out = new Map<string, Cidr>();
  const chain: Cidr[] = [];
  for (const c of [...blocks].sort(byBlock)) {
    while (chain.length > 0) {
      const top = chain[chain.length - 1]!;
      if (top.family === c.family && cidrLast(top) >= c.network) break;
      chain.pop();
    }
    if (chain[0]) out.set(c.canonical, chain[0]);
    chain.push(c);
  }
  return out;
}

const duplicateWarning = (c: Cidr): Issue => ({
  code: "duplicate",
  message: `${c.text} is listed more than once`,
  value: c.text,
});

/**
 * Duplicates, blocks without effect, whole-family blocks of nonMasqueradeCIDRs. A block inside
 * another is without effect only when no exception lies between them (10.0.0.0/8 ⊃
 * masqueradeCIDRs 10.100.0.0/16 ⊃ 10.100.10.0/24 needs all three): `nearest` holds the nearest
 * entry of either list around each block.
 */
function overlapWarnings(
  parsed: readonly Cidr[],
  nearest: ReadonlyMap<string, DecisionEntry>,
): Issue[] {
  const warnings: Issue[] = [];
  const first = new Map<string, Cidr>();
  for (const c of parsed) if (!first.has(c.canonical)) first.set(c.canonical, c);
  const holders = widestHolders([...first.values()]);
  const seen = new Set<string>();
  for (const c of parsed) {
    if (seen.has(c.canonical)) {
      warnings.push(duplicateWarning(c));
      continue;
    }
    seen.add(c.canonical);
    const outer = holders.get(c.canonical);
    if (outer && nearest.get(c.canonical)?.masquerade !== true)
      warnings.push({
        code: "contained",
        message: `${c.text} is inside ${outer.text} and has no effect`,
        value: c.text,
      });
    if (c.prefix === 0)
      warnings.push({
        code: "all-traffic",
        message: `${c.text} matches every destination: no ${c.family} traffic will be masqueraded`,
        value: c.text,
      });
  }
  return warnings;
}

function linkLocalWarnings(
  parsed: readonly Cidr[],
  config: MasqConfig,
  flags: AgentFlags,
): Issue[] {
  const warnings: Issue[] = [];
  const linkLocal = [
    { cidr: mustParseCidr(LINK_LOCAL_CIDR), masq: config.masqLinkLocal, key: "masqLinkLocal" },
    ...(flags.enableIPv6
      ? [
          {
            cidr: mustParseCidr(LINK_LOCAL_CIDR_IPV6),
            masq: config.masqLinkLocalIPv6,
            key: "masqLinkLocalIPv6",
          },
        ]
      : []),
  ];
  for (const c of parsed) {
    for (const ll of linkLocal) {
      if (c.prefix === 0 || !cidrOverlaps(c, ll.cidr)) continue;
      const message = ll.masq
        ? `${c.text} overlaps link-local ${ll.cidr.text}: that traffic stays unmasqueraded although ${ll.key} is true`
        : `${c.text} overlaps link-local ${ll.cidr.text}, which is already not masqueraded (${ll.key} is false)`;
      warnings.push({ code: "link-local-overlap", message, value: c.text });
    }
  }
  return warnings;
}

/**
 * masqueradeCIDRs against the non-masquerade entries (link-local included): a block in both
 * lists is an error; an exception no non-masquerade range contains, or one inside another
 * exception with no non-masquerade range between, changes nothing (warning).
 */
function exceptionIssues(
  exceptions: readonly Cidr[],
  entries: readonly DecisionEntry[],
  nearest: ReadonlyMap<string, DecisionEntry>,
): { errors: Issue[]; warnings: Issue[] } {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const nonMasq = new Map<string, DecisionEntry>();
  for (const e of entries) if (!e.masquerade) nonMasq.set(e.cidr.canonical, e);
  const seen = new Set<string>();
  for (const c of exceptions) {
    if (seen.has(c.canonical)) {
      warnings.push(duplicateWarning(c));
      continue;
    }
    seen.add(c.canonical);
    const same = nonMasq.get(c.canonical);
    if (same) {
      errors.push(bothListsError(c, same));
      continue;
    }
    const holder = nearest.get(c.canonical);
    if (holder?.masquerade)
      warnings.push({
        code: "contained",
        message: `${c.text} is inside masqueradeCIDRs ${holder.cidr.text} with no non-masquerade range between them, and has no effect`,
        value: c.text,
      });
    else if (!holder)
      warnings.push({
        code: "exception-redundant",
        message: `masqueradeCIDRs ${c.text} is inside no non-masquerade range: traffic to it is masqueraded anyway, so it has no effect`,
        value: c.text,
      });
  }
  return { errors, warnings };
}

function bothListsError(c: Cidr, same: DecisionEntry): Issue {
  const where =
    same.list === "link-local"
      ? `link-local ${same.cidr.text}, which is not masqueraded (set ${same.cidr.family === "ipv4" ? "masqLinkLocal" : "masqLinkLocalIPv6"}: true to masquerade it)`
      : "nonMasqueradeCIDRs";
  return {
    code: "both-lists",
    message: `${c.text} is in masqueradeCIDRs and in ${where}: a destination must be decided by one list; remove it from one of them`,
    value: c.text,
  };
}

/**
 * Text that is not the canonical block. Upstream writes the text as given into the rule, and
 * iptables reads a prefix with a leading zero as octal (`/016` is /14, `/08` is refused); this
 * product always writes the canonical text (rules.ts), so say what each one does.
 */
function canonicalWarning(c: Cidr): Issue | undefined {
  const reason = nonCanonicalReason(c);
  if (!reason) return undefined;
  const base = { code: "cidr-not-canonical" as const, value: c.text, suggestion: c.canonical };
  const p = iptablesPrefix(c);
  const digits = c.text.slice(c.text.lastIndexOf("/") + 1);
  if (p === null)
    return {
      ...base,
      message: `${c.text}: iptables reads a prefix with a leading zero as octal and refuses /${digits}, so ip-masq-agent (which writes the text as given) fails to apply the config; this reporter writes ${c.canonical}. Write ${c.canonical}`,
    };
  if (p !== undefined && p !== c.prefix) {
    const block = `${formatIp(c.family, c.network & maskOf(c.family, p))}/${p}`;
    return {
      ...base,
      message: `${c.text}: iptables reads the prefix /${digits} as octal (/${p}), so ip-masq-agent (which writes the text as given) makes a rule for ${block}; this reporter writes ${c.canonical}. Write ${c.canonical}`,
    };
  }
  return {
    ...base,
    message: `${c.text} is not in canonical form (${reason}); rules are written as ${c.canonical}`,
  };
}

/** What a node can be sent: the protocol's limits (limits.ts). Upstream has none of these. */
function deliveryErrors(config: MasqConfig): Issue[] {
  const errors: Issue[] = [];
  const texts = allCidrTexts(config);
  const n = texts.length;
  if (n > MAX_CONFIG_CIDRS)
    errors.push({
      code: "undeliverable",
      message: `${n} CIDRs are more than the ${MAX_CONFIG_CIDRS} a config can carry to nodes; nodes would refuse it`,
      value: String(n),
    });
  for (const text of texts)
    if (text.length > MAX_CIDR_CHARS)
      errors.push({
        code: "undeliverable",
        message: `${text.slice(0, 24)}… is ${text.length} characters, more than the ${MAX_CIDR_CHARS} nodes accept for one CIDR`,
        value: text,
      });
  if (config.resyncInterval.length > MAX_DURATION_CHARS)
    errors.push({
      code: "undeliverable",
      message: `resyncInterval is ${config.resyncInterval.length} characters, more than the ${MAX_DURATION_CHARS} nodes accept`,
      value: config.resyncInterval,
    });
  if (errors.length > 0) return errors;
  const bytes = new TextEncoder().encode(JSON.stringify(config)).length + DESIRED_ENVELOPE_BYTES;
  if (bytes > MAX_FRAME_BYTES)
    errors.push({
      code: "undeliverable",
      message: `the config needs ${bytes} bytes as a message to nodes, more than the ${MAX_FRAME_BYTES} a message may have; remove CIDRs`,
    });
  return errors;
}

/** Longer intervals than this get a warning: nodes rarely re-apply. */
const LONG_RESYNC_MS = 24 * 3600 * 1000;

/** resyncInterval: Go's parse (its errors), and what the reporter really does with odd values. */
function durationIssues(text: string): { errors: Issue[]; warnings: Issue[] } {
  const d = parseGoDuration(text);
  if (!d.ok)
    return {
      errors: [
        {
          code: "duration",
          message: `resyncInterval "${text}" is not a duration (use e.g. 60s, 5m, 1h30m)`,
          value: text,
          upstream: d.message,
        },
      ],
      warnings: [],
    };
  const floor = formatGoDuration(BigInt(MIN_RESYNC_INTERVAL_MS) * 1_000_000n);
  const warn = (message: string) => ({
    errors: [],
    warnings: [{ code: "resync-interval" as const, message, value: text }],
  });
  if (d.ns <= 0n)
    return warn(
      `resyncInterval "${text}" is not positive: ip-masq-agent would re-apply its rules without pause; this reporter re-applies every ${floor}`,
    );
  if (d.ms < MIN_RESYNC_INTERVAL_MS)
    return warn(
      `resyncInterval "${text}" is shorter than ${floor}: ip-masq-agent would re-apply every ${formatGoDuration(d.ns)}, almost without pause; this reporter re-applies every ${floor}`,
    );
  if (d.ms > LONG_RESYNC_MS)
    return warn(
      `resyncInterval "${text}" is long: nodes re-apply the config only every ${formatGoDuration(d.ns)}; drift is still reported at once, and healed by a resync or, with --heal immediate, at once`,
    );
  return { errors: [], warnings: [] };
}

/** cidrLimit counts both lists (upstream, which reads only nonMasqueradeCIDRs, counts that one). */
function cidrLimitError(config: MasqConfig): Issue | undefined {
  const own = config.nonMasqueradeCIDRs.length;
  const n = own + (config.masqueradeCIDRs?.length ?? 0);
  if (n <= config.cidrLimit) return undefined;
  return {
    code: "cidr-limit",
    message: `${n} CIDRs exceed cidrLimit ${config.cidrLimit}; remove some or raise cidrLimit`,
    value: String(n),
    ...(own > config.cidrLimit
      ? {
          upstream: `the daemon can only accept up to ${config.cidrLimit} CIDRs (excluding link-local), but got ${own} CIDRs (excluding link local)`,
        }
      : {}),
  };
}

/**
 * Upstream's validate() (limit, CIDR syntax and alignment, IPv6 gate), Go's duration parse, what
 * nodes can be sent, plus warnings; masqueradeCIDRs gets the same checks, and the two lists are
 * checked against each other (exceptionIssues). O(n log n) in the number of CIDRs.
 */
export function validateConfig(
  config: MasqConfig,
  flags: AgentFlags = DEFAULT_FLAGS,
): { errors: Issue[]; warnings: Issue[] } {
  const limit = cidrLimitError(config);
  const errors: Issue[] = limit ? [limit] : [];
  const { errors: cidrErrors, parsed } = cidrIssues(config.nonMasqueradeCIDRs, flags);
  const exc = cidrIssues(config.masqueradeCIDRs ?? [], flags);
  errors.push(...cidrErrors, ...exc.errors, ...deliveryErrors(config));
  const duration = durationIssues(config.resyncInterval);
  errors.push(...duration.errors);
  const entries = familiesOf([...parsed, ...exc.parsed]).flatMap((f) => decisionEntries(config, f));
  const nearest = nearestHolders(entries);
  const exceptions = exceptionIssues(exc.parsed, entries, nearest);
  errors.push(...exceptions.errors);
  const canonical = [...parsed, ...exc.parsed]
    .map(canonicalWarning)
    .filter((w): w is Issue => w !== undefined);
  return {
    errors,
    warnings: [
      ...canonical,
      ...overlapWarnings(parsed, nearest),
      ...exceptions.warnings,
      ...linkLocalWarnings(parsed, config, flags),
      ...duration.warnings,
    ],
  };
}

const familiesOf = (cidrs: readonly Cidr[]): Cidr["family"][] => [
  ...new Set(cidrs.map((c) => c.family)),
];

/**
 * resyncInterval in milliseconds, as written (zero or negative too: the reporter raises it to
 * MIN_RESYNC_INTERVAL_MS). Throws when it is not a Go duration.
 */
export function resyncIntervalMs(config: MasqConfig): number {
  const d = parseGoDuration(config.resyncInterval);
  if (!d.ok) throw new Error(`invalid resyncInterval ${config.resyncInterval}`);
  return d.ms;
}

/** Writes a config in the upstream ConfigMap format (every key explicit). */
export function serializeConfig(config: MasqConfig): string {
  return stringify(
    {
      nonMasqueradeCIDRs: config.nonMasqueradeCIDRs,
      // Only when used, so a config without exceptions is written as upstream writes it.
      ...(config.masqueradeCIDRs?.length ? { masqueradeCIDRs: config.masqueradeCIDRs } : {}),
      masqLinkLocal: config.masqLinkLocal,
      masqLinkLocalIPv6: config.masqLinkLocalIPv6,
      cidrLimit: config.cidrLimit,
      resyncInterval: config.resyncInterval,
    },
    { version: "1.1" },
  );
}
