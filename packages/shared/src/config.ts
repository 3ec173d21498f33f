// The ip-masq-agent ConfigMap `config` key: parsing with upstream semantics (YAML or JSON,
// absent keys keep defaults, Go's case-insensitive key matching), validation with errors that
// name the bad value, and warnings for configs that are legal but probably not meant.
import { parseDocument, stringify } from "yaml";
import { z } from "zod";
import { type Cidr, cidrContains, cidrOverlaps, mustParseCidr, parseCidr } from "./cidr.js";
import { parseGoDuration } from "./duration.js";

export const LINK_LOCAL_CIDR = "169.254.0.0/16";
export const LINK_LOCAL_CIDR_IPV6 = "fe80::/10";
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

/** The effective config: every key resolved (defaults applied). */
export const masqConfigSchema = z.strictObject({
  nonMasqueradeCIDRs: z.array(z.string().max(64)).max(4096),
  masqLinkLocal: z.boolean(),
  masqLinkLocalIPv6: z.boolean(),
  cidrLimit: z.number().int(),
  resyncInterval: z.string().max(64),
});
export type MasqConfig = z.infer<typeof masqConfigSchema>;

/** Agent flags: per-node command-line settings, not part of the ConfigMap. */
export const agentFlagsSchema = z.strictObject({
  masqChain: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,28}$/, "chain names are 1-28 letters, digits, _ . -"),
  randomFully: z.boolean(),
  /** Upstream `--to-ports` spec, e.g. "1024-29999,32768-65535"; empty means none. */
  toPorts: z.string().max(256),
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
  | "cidr-unparsable"
  | "cidr-misaligned"
  | "cidr-ipv4-mapped"
  | "cidr-limit"
  | "ipv6-disabled"
  | "duration"
  | "duplicate"
  | "contained"
  | "all-traffic"
  | "link-local-overlap";

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

type Field = keyof MasqConfig;
const FIELDS: readonly Field[] = [
  "nonMasqueradeCIDRs",
  "masqLinkLocal",
  "masqLinkLocalIPv6",
  "cidrLimit",
  "resyncInterval",
];
const GO_TYPES: Record<Field, string> = {
  nonMasqueradeCIDRs: "[]string",
  masqLinkLocal: "bool",
  masqLinkLocalIPv6: "bool",
  cidrLimit: "int",
  resyncInterval: "Duration",
};

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v === "object" ? "object" : typeof v === "number" ? "number" : typeof v;
}

function typeError(field: Field, v: unknown): Issue {
  const got = describe(v);
  if (field === "resyncInterval") {
    const shown = typeof v === "string" ? v : JSON.stringify(v);
    return {
      code: "type",
      message: `resyncInterval must be a duration string such as "60s", got ${shown}`,
      value: String(shown),
      upstream: `expected string value for unmarshal to field of type Duration, got "${shown}"`,
    };
  }
  return {
    code: "type",
    message: `${field} must be ${GO_TYPES[field] === "[]string" ? "a list of CIDR strings" : `a ${GO_TYPES[field]}`}, got ${got}`,
    value: typeof v === "object" ? JSON.stringify(v) : String(v),
    upstream: `json: cannot unmarshal ${got} into Go struct field MasqConfig.${field} of type ${GO_TYPES[field]}`,
  };
}

/** Matches keys like Go's encoding/json: exact name first, then case-insensitively. */
function fieldFor(key: string): Field | undefined {
  return FIELDS.find((f) => f === key) ?? FIELDS.find((f) => f.toLowerCase() === key.toLowerCase());
}

function assignField(config: MasqConfig, field: Field, v: unknown): Issue | undefined {
  switch (field) {
    case "nonMasqueradeCIDRs":
      if (v === null) config.nonMasqueradeCIDRs = [];
      else if (Array.isArray(v) && v.every((x) => typeof x === "string"))
        config.nonMasqueradeCIDRs = [...v];
      else if (Array.isArray(v)) {
        const bad = v.find((x) => typeof x !== "string");
        return {
          code: "type",
          message: `nonMasqueradeCIDRs entries must be strings, got ${describe(bad)} ${JSON.stringify(bad)}`,
          value: JSON.stringify(bad),
          upstream: `json: cannot unmarshal ${describe(bad)} into Go struct field MasqConfig.nonMasqueradeCIDRs of type string`,
        };
      } else return typeError(field, v);
      return undefined;
    case "masqLinkLocal":
    case "masqLinkLocalIPv6":
      if (v === null) return undefined; // Go leaves non-pointer fields unchanged on null
      if (typeof v !== "boolean") return typeError(field, v);
      config[field] = v;
      return undefined;
    case "cidrLimit":
      if (v === null) return undefined;
      if (typeof v !== "number" || !Number.isInteger(v)) return typeError(field, v);
      config.cidrLimit = v;
      return undefined;
    case "resyncInterval":
      if (typeof v !== "string") return typeError(field, v);
      config.resyncInterval = v;
      return undefined;
  }
}

export interface DecodeOptions {
  /** Reject keys that are not config fields (API bodies) instead of warning (ConfigMap text). */
  strictKeys?: boolean;
}

/** Applies a decoded YAML/JSON value onto the defaults, as upstream's json.Unmarshal does. */
export function decodeConfigValue(
  value: unknown,
  flags: AgentFlags = DEFAULT_FLAGS,
  opts: DecodeOptions = {},
): ConfigResult {
  const config = defaultConfig(flags);
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const keys: Field[] = [];
  if (value !== null && value !== undefined) {
    if (typeof value !== "object" || Array.isArray(value)) {
      const got = describe(value);
      return {
        ok: false,
        errors: [
          {
            code: "type",
            message: `the config must be a mapping of keys such as nonMasqueradeCIDRs, got ${got}`,
            upstream: `json: cannot unmarshal ${got} into Go value of type main.MasqConfig`,
          },
        ],
        warnings,
      };
    }
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      const field = fieldFor(key);
      if (!field) {
        const issue: Issue = {
          code: "unknown-key",
          message: `unknown key "${key}" is ignored by ip-masq-agent`,
          value: key,
        };
        (opts.strictKeys ? errors : warnings).push(issue);
        continue;
      }
      if (field !== key) {
        warnings.push({
          code: "key-case",
          message: `key "${key}" is read as "${field}" (ip-masq-agent matches keys case-insensitively); write "${field}"`,
          value: key,
          suggestion: field,
        });
      }
      const err = assignField(config, field, v);
      if (err) errors.push(err);
      else if (!keys.includes(field)) keys.push(field);
    }
  }
  if (errors.length > 0) return { ok: false, errors, warnings };
  const checked = validateConfig(config, flags);
  const allWarnings = [...warnings, ...checked.warnings];
  if (checked.errors.length > 0)
    return { ok: false, errors: checked.errors, warnings: allWarnings };
  return { ok: true, config, warnings: allWarnings, keys };
}

/** Parses the ConfigMap `config` text (YAML 1.1 like upstream's sigs.k8s.io/yaml, or JSON). */
export function parseConfigText(text: string, flags: AgentFlags = DEFAULT_FLAGS): ConfigResult {
  const doc = parseDocument(text, { version: "1.1", uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const where = pos ? ` (line ${pos.line}, column ${pos.col})` : "";
    return {
      ok: false,
      errors: [
        {
          code: "syntax",
          message: `the config is not valid YAML or JSON${where}: ${e.message.split("\n")[0]}`,
        },
      ],
      warnings: [],
    };
  }
  let value: unknown;
  try {
    // Unresolved or exploding aliases only surface when converting.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return {
      ok: false,
      errors: [
        {
          code: "syntax",
          message: `the config is not valid YAML or JSON: ${(e as Error).message}`,
        },
      ],
      warnings: [],
    };
  }
  return decodeConfigValue(value, flags);
}

function cidrIssues(config: MasqConfig, flags: AgentFlags): { errors: Issue[]; parsed: Cidr[] } {
  const errors: Issue[] = [];
  const parsed: Cidr[] = [];
  for (const text of config.nonMasqueradeCIDRs) {
    const r = parseCidr(text);
    if (!r.ok) {
      const code =
        r.reason === "misaligned"
          ? "cidr-misaligned"
          : r.reason === "ipv4-mapped"
            ? "cidr-ipv4-mapped"
            : "cidr-unparsable";
      const message =
        r.reason === "misaligned"
          ? `${text} is not aligned; did you mean ${r.suggestion}?`
          : r.reason === "ipv4-mapped"
            ? r.message
            : `${text} is not a valid CIDR (expected e.g. 10.0.0.0/8 or fd00::/8)`;
      errors.push({ code, message, value: text, suggestion: r.suggestion, upstream: r.message });
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

function overlapWarnings(parsed: Cidr[], config: MasqConfig, flags: AgentFlags): Issue[] {
  const warnings: Issue[] = [];
  parsed.forEach((c, i) => {
    const earlier = parsed.slice(0, i);
    const dup = earlier.find((o) => o.canonical === c.canonical);
    if (dup) {
      warnings.push({
        code: "duplicate",
        message: `${c.text} is listed more than once`,
        value: c.text,
      });
      return;
    }
    const outer = parsed.find(
      (o, j) => j !== i && o.canonical !== c.canonical && cidrContains(o, c),
    );
    if (outer) {
      warnings.push({
        code: "contained",
        message: `${c.text} is inside ${outer.text} and has no effect`,
        value: c.text,
      });
    }
    if (c.prefix === 0) {
      warnings.push({
        code: "all-traffic",
        message: `${c.text} matches every destination: no ${c.family} traffic will be masqueraded`,
        value: c.text,
      });
    }
  });
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

/** Upstream's validate() (limit, CIDR syntax and alignment, IPv6 gate) plus our checks. */
export function validateConfig(
  config: MasqConfig,
  flags: AgentFlags = DEFAULT_FLAGS,
): { errors: Issue[]; warnings: Issue[] } {
  const errors: Issue[] = [];
  const n = config.nonMasqueradeCIDRs.length;
  if (n > config.cidrLimit) {
    errors.push({
      code: "cidr-limit",
      message: `${n} CIDRs exceed cidrLimit ${config.cidrLimit}; remove some or raise cidrLimit`,
      value: String(n),
      upstream: `the daemon can only accept up to ${config.cidrLimit} CIDRs (excluding link-local), but got ${n} CIDRs (excluding link local)`,
    });
  }
  const { errors: cidrErrors, parsed } = cidrIssues(config, flags);
  errors.push(...cidrErrors);
  const d = parseGoDuration(config.resyncInterval);
  if (!d.ok) {
    errors.push({
      code: "duration",
      message: `resyncInterval "${config.resyncInterval}" is not a duration (use e.g. 60s, 5m, 1h30m)`,
      value: config.resyncInterval,
      upstream: d.message,
    });
  } else if (d.ms <= 0) {
    // Upstream accepts this and then resyncs in a tight loop; refuse it.
    errors.push({
      code: "duration",
      message: `resyncInterval "${config.resyncInterval}" must be longer than zero`,
      value: config.resyncInterval,
    });
  }
  return { errors, warnings: overlapWarnings(parsed, config, flags) };
}

/** Resync interval in milliseconds (the config must be valid). */
export function resyncIntervalMs(config: MasqConfig): number {
  const d = parseGoDuration(config.resyncInterval);
  if (!d.ok || d.ms <= 0) throw new Error(`invalid resyncInterval ${config.resyncInterval}`);
  return d.ms;
}

/** Writes a config in the upstream ConfigMap format (every key explicit). */
export function serializeConfig(config: MasqConfig): string {
  return stringify(
    {
      nonMasqueradeCIDRs: config.nonMasqueradeCIDRs,
      masqLinkLocal: config.masqLinkLocal,
      masqLinkLocalIPv6: config.masqLinkLocalIPv6,
      cidrLimit: config.cidrLimit,
      resyncInterval: config.resyncInterval,
    },
    { version: "1.1" },
  );
}
