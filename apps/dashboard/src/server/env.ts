// Environment of the `ipmasq-dashboard` bin (names shared with the Helm chart).
import {
  type AgentFlags,
  ALL_AT_ONCE,
  agentFlagsSchema,
  type Capability,
  DEFAULT_FLAGS,
  KNOWN_CAPABILITIES,
  parseGoDuration,
  rolloutStrategySchema,
  zodReason,
} from "@masq/shared";
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", ""])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** Unset or empty: undefined; else it must match `re`. */
const optionalMatching = (re: RegExp, what: string) =>
  z.preprocess(
    (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
    z.string().regex(re, `must be ${what}`).optional(),
  );

/** A whole number in [min, max], in decimal digits: not "0x50", "1e2" or "8 0" (Number's reading). */
const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().min(min).max(max));

/** A number above 0, at most `max`, in decimal digits ("0.5", "50"). */
const rate = (max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+(\.\d+)?$/, "must be a number")
    .transform(Number)
    .pipe(z.number().gt(0).max(max));

/** A Go duration ("24h", "90m", "0"), in milliseconds. */
const duration = z.string().transform((v, ctx) => {
  const d = parseGoDuration(v.trim());
  if (!d.ok || d.ms < 0) {
    ctx.addIssue({ code: "custom", message: d.ok ? "must not be negative" : d.message });
    return z.NEVER;
  }
  return d.ms;
});

/** The default rollout strategy: "all-at-once" (or empty), or the strategy as JSON. */
const strategy = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const t = v?.trim() ?? "";
    if (t === "" || t === "all-at-once") return ALL_AT_ONCE;
    let json: unknown;
    try {
      json = JSON.parse(t);
    } catch {
      ctx.addIssue({ code: "custom", message: 'not JSON and not "all-at-once"' });
      return z.NEVER;
    }
    const r = rolloutStrategySchema.safeParse(json);
    if (r.success) return r.data;
    ctx.addIssue({ code: "custom", message: zodReason(r.error, { issues: 3 }) });
    return z.NEVER;
  });

/**
 * Protocol capabilities granted to reporters that offer them (protocol-capabilities.ts): unset
 * or empty grants every known one, "none" grants none (every reporter then speaks the previous
 * release's wire), else a comma-separated list of known names.
 */
const capabilities = z
  .string()
  .optional()
  .transform((v, ctx): readonly Capability[] => {
    // Case-insensitive, as the handshake header is read (parseCapabilities).
    const t = v?.trim().toLowerCase() ?? "";
    if (t === "") return KNOWN_CAPABILITIES;
    if (t === "none") return [];
    const names = t.split(",").map((n) => n.trim());
    const unknown = names.filter((n) => !(KNOWN_CAPABILITIES as readonly string[]).includes(n));
    if (unknown.length === 0) return [...new Set(names)] as Capability[];
    ctx.addIssue({
      code: "custom",
      message: `unknown capability ${unknown.map((n) => JSON.stringify(n)).join(", ")}; known: ${KNOWN_CAPABILITIES.join(", ")}, or "none"`,
    });
    return z.NEVER;
  });

const envSchema = z.object({
  PORT: wholeNumber(0, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  IPMASQ_STORE: z.enum(["file", "kubernetes"]).default("file"),
  IPMASQ_DATA_DIR: z.string().min(1).default("./.data"),
  IPMASQ_ADMIN_TOKEN: optionalText,
  IPMASQ_VIEWER_TOKEN: optionalText,
  IPMASQ_REPORTER_TOKEN: optionalText,
  IPMASQ_ACCEPT_SHARED_REPORTER_TOKEN: bool.default(false),
  IPMASQ_CONFIGMAP: z.string().default("kube-system/ip-masq-agent"),
  IPMASQ_HISTORY_CONFIGMAP: optionalText,
  IPMASQ_RECREATE_CONFIGMAPS: bool.default(false),
  /** Further config sources: ConfigMaps (files of the data dir) named with this prefix; "" none. */
  IPMASQ_SOURCE_PREFIX: z
    .string()
    .regex(/^[a-z0-9.-]{0,200}$/, "a ConfigMap name prefix: lowercase letters, digits, '.', '-'")
    .default("ip-masq-"),
  /** ConfigMaps of the prefix the dashboard may edit, comma-separated (the primary one always). */
  IPMASQ_EDITABLE_SOURCES: z
    .string()
    .default("")
    .transform((v) =>
      v
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== ""),
    ),
  IPMASQ_KUBE_EVENTS: bool.default(true),
  /** Event API requests a second per replica, burst (kubelet eventRecordQPS 50, eventBurst 100). */
  /** Connections per API server origin for ordinary requests; more wait (kube/connection-reuse.ts). */
  IPMASQ_KUBE_API_CONNECTIONS: wholeNumber(1, 1024).default(32),
  IPMASQ_EVENT_QPS: rate(10_000).default(50),
  IPMASQ_EVENT_BURST: wholeNumber(1, 10_000).default(100),
  /** Where the reporter pods run, for the node page's kubectl commands (the chart sets both). */
  IPMASQ_REPORTER_NAMESPACE: optionalMatching(
    /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
    "a namespace name",
  ),
  IPMASQ_REPORTER_SELECTOR: optionalMatching(
    /^[A-Za-z0-9./_-]{1,253}=[A-Za-z0-9._-]{0,63}(,[A-Za-z0-9./_-]{1,253}=[A-Za-z0-9._-]{0,63}){0,15}$/,
    "key=value labels joined by commas",
  ),
  IPMASQ_REPORTER_AUDIENCE: z.string().min(1).default("ipmasq-dashboard"),
  IPMASQ_REPORTER_SERVICEACCOUNT: optionalText,
  IPMASQ_ENABLE_IPV6: bool.default(false),
  IPMASQ_MASQ_CHAIN: z.string().default(DEFAULT_FLAGS.masqChain),
  IPMASQ_NOMASQ_ALL_RESERVED_RANGES: bool.default(false),
  IPMASQ_OBSERVE_RESYNC: bool.default(false),
  IPMASQ_UPSTREAM_AGENT_SELECTOR: z.string().min(1).default("k8s-app=ip-masq-agent"),
  IPMASQ_UPSTREAM_AGENT_NAMESPACE: z.string().min(1).default("kube-system"),
  IPMASQ_LEADER_ELECTION: bool.default(false),
  IPMASQ_LEASE: z.string().min(1).default("ipmasq-dashboard"),
  // Every replica active (issue 17, docs/scale-out.md): NodeMasquerade status, the nodes other
  // replicas hold, cross-replica resync, replica Leases `<IPMASQ_LEASE>-replica-<pod>`.
  IPMASQ_REPLICA_SYNC: bool.default(false),
  IPMASQ_STATUS_WRITES_PER_SECOND: rate(10_000).default(50),
  IPMASQ_OFFLINE_NODE_TTL: duration.default(24 * 3600_000),
  /**
   * Heartbeat interval announced to reporters (ms): each sends one per interval, and a node
   * silent for 3 intervals is dropped. 1 s–5 min, the range reporters accept (link.ts).
   */
  IPMASQ_HEARTBEAT_INTERVAL: duration
    .pipe(z.number().min(1_000, "must be at least 1s").max(300_000, "must be at most 5m"))
    .default(10_000),
  IPMASQ_ROLLOUT_STRATEGY: strategy,
  IPMASQ_REPORTER_CAPABILITIES: capabilities,
  IPMASQ_UI: bool.default(true),
  IPMASQ_SECURE_COOKIES: z.enum(["true", "false", "auto"]).default("auto"),
  IPMASQ_LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  POD_NAME: optionalText,
  POD_NAMESPACE: optionalText,
  HOSTNAME: optionalText,
});

export type Env = z.infer<typeof envSchema>;

/** Variables whose empty value says something: IPMASQ_SOURCE_PREFIX "" is no further sources. */
const EMPTY_IS_A_VALUE = new Set(["IPMASQ_SOURCE_PREFIX"]);

/**
 * The environment with empty (or blank) variables left out: empty means unset (a Helm value left
 * empty renders ""), never port 0, false or an empty chain name.
 */
function withoutBlanks(env: Record<string, string | undefined>): Record<string, string> {
  const set = Object.entries(env).filter(
    (e): e is [string, string] =>
      e[1] !== undefined && (e[1].trim() !== "" || EMPTY_IS_A_VALUE.has(e[0])),
  );
  return Object.fromEntries(set);
}

export function parseEnv(env: Record<string, string | undefined>): Env {
  const r = envSchema.safeParse(withoutBlanks(env));
  if (!r.success)
    throw new Error(`bad environment: ${zodReason(r.error, { issues: 5, root: "environment" })}`);
  return r.data;
}

/** The fleet-wide agent flags configs are validated against. */
export function fleetFlags(env: Env): AgentFlags {
  return agentFlagsSchema.parse({
    ...DEFAULT_FLAGS,
    masqChain: env.IPMASQ_MASQ_CHAIN,
    enableIPv6: env.IPMASQ_ENABLE_IPV6,
    noMasqAllReservedRanges: env.IPMASQ_NOMASQ_ALL_RESERVED_RANGES,
  });
}
