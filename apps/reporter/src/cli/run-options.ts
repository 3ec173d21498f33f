// `ipmasq run` options (flags and their environment variables) turned into agent settings.
// Pure, so the Helm chart's env contract is unit-tested without starting anything.
import { readFile } from "node:fs/promises";
import {
  type AgentFlags,
  type HealPolicy,
  type Mode,
  modeSchema,
  nodeNameSchema,
  parseToPorts,
} from "@masq/shared";
import { type Command, InvalidArgumentError, Option } from "commander";
import type { DashboardOptions } from "../agent.js";
import type { BackendChoiceFlag } from "../backend/choose.js";
import type { IptablesVariant } from "../backend/iptables.js";
import { BACKEND_FLAG_HELP } from "../backend/linux.js";
import type { TokenSource } from "../link.js";
import type { LivenessPolicy } from "../link-liveness.js";
import { isLogLevel, type LogLevel } from "../log.js";
import { DEFAULT_STATE_DIR } from "../state.js";
import { type AgentFlagOptions, agentFlagsFrom } from "./flags.js";
import {
  addLinkOptions,
  dashboardCaFrom,
  type LinkCliOptions,
  livenessFrom,
  parseInterval,
} from "./link-options.js";

export interface RunCliOptions extends AgentFlagOptions, LinkCliOptions {
  dashboard?: string;
  node?: string;
  token?: string;
  tokenFile?: string;
  netns?: string;
  windowsCni?: string;
  mode: string;
  stateDir: string;
  metricsPort?: string;
  heal: string;
  pollInterval: string;
  configFile?: string;
  logLevel: string;
  iptables: string;
  backend: string;
}

export interface RunSettings {
  nodeName: string;
  dashboard?: {
    url: string;
    token?: TokenSource;
    liveness: LivenessPolicy;
    /** Trusted CAs for wss:// (public roots + --dashboard-ca), when a CA file is given. */
    ca?: string[];
  };
  netns?: string;
  /** Windows node: the CNI config whose OutBoundNAT ExceptionList is managed (no iptables). */
  windowsCni?: string;
  mode: Mode;
  heal: HealPolicy;
  stateDir: string;
  metricsPort?: number;
  pollIntervalMs: number;
  configFile?: string;
  logLevel: LogLevel;
  variant: IptablesVariant;
  /** `--backend`: the iptables chain, the agent's nftables table, or auto. */
  backend: BackendChoiceFlag;
  flags: AgentFlags;
}

export function addRunOptions(cmd: Command): Command {
  const opt = (flags: string, help: string, env: string) => new Option(flags, help).env(env);
  return addLinkOptions(cmd)
    .addOption(opt("--dashboard <url>", "ws(s)://HOST/api/reporter", "IPMASQ_DASHBOARD"))
    .addOption(opt("--node <name>", "this node's name", "NODE_NAME"))
    .addOption(opt("--token <token>", "bearer token for the dashboard", "IPMASQ_TOKEN"))
    .addOption(
      opt(
        "--token-file <file>",
        "file holding the token, re-read on every connect (projected ServiceAccount token)",
        "IPMASQ_TOKEN_FILE",
      ),
    )
    .addOption(
      opt("--netns <name>", "run every iptables command in this network namespace", "IPMASQ_NETNS"),
    )
    .addOption(
      opt(
        "--windows-cni <file>",
        "Windows node: manage the OutBoundNAT ExceptionList of this CNI config instead of iptables",
        "IPMASQ_WINDOWS_CNI",
      ),
    )
    .addOption(
      opt("--mode <mode>", "enforce (apply and heal) or observe (never write)", "IPMASQ_MODE")
        .choices(["enforce", "observe"])
        .default("enforce"),
    )
    .addOption(
      opt("--state-dir <dir>", "where the last applied config is kept", "IPMASQ_STATE_DIR").default(
        DEFAULT_STATE_DIR,
      ),
    )
    .addOption(
      opt(
        "--metrics-port <port>",
        "serve /healthz and /metrics on this port (off when unset)",
        "IPMASQ_METRICS_PORT",
      ),
    )
    .addOption(
      opt("--heal <when>", "heal drift at the next resync or immediately", "IPMASQ_HEAL")
        .choices(["next-resync", "immediate"])
        .default("next-resync"),
    )
    .addOption(
      opt(
        "--poll-interval <duration>",
        "fallback poll of the chains (Go duration or ms)",
        "IPMASQ_POLL_INTERVAL",
      ).default("10s"),
    )
    .addOption(
      opt(
        "--config-file <path>",
        "mounted ip-masq-agent ConfigMap file, or a directory whose ip-masq* files are merged as ip-masq-agent-v2 does; used when the dashboard is away",
        "IPMASQ_CONFIG_FILE",
      ),
    )
    .addOption(
      opt(
        "--log-level <level>",
        "fatal|error|warn|info|debug|trace|silent",
        "IPMASQ_LOG_LEVEL",
      ).default("info"),
    )
    .addOption(
      opt(
        "--iptables <variant>",
        "where to write: auto (the backend holding the node's rules, as iptables-wrappers decides), nft or legacy; every backend holding nat rules is read",
        "IPMASQ_IPTABLES",
      )
        .choices(["auto", "nft", "legacy"])
        .default("auto"),
    )
    .addOption(backendOption());
}

/** `--backend iptables|nftables|auto` (IPMASQ_BACKEND), for every command that reads a node. */
export function backendOption(): Option {
  return new Option("--backend <kind>", BACKEND_FLAG_HELP)
    .choices(["iptables", "nftables", "auto"])
    .default("auto")
    .env("IPMASQ_BACKEND");
}

/** Decimal digits only: Number() reads "0x50" as 80 and "1e3" as 1000. */
function parsePort(text: string): number {
  const n = /^\d{1,5}$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 65535))
    throw new InvalidArgumentError(
      `--metrics-port (IPMASQ_METRICS_PORT): "${text}" is not a port (0–65535)`,
    );
  return n;
}

export function tokenSource(
  o: Pick<RunCliOptions, "token" | "tokenFile">,
): TokenSource | undefined {
  if (o.token !== undefined && o.tokenFile !== undefined)
    throw new InvalidArgumentError("give --token or --token-file, not both");
  const file = o.tokenFile;
  if (file !== undefined) return async () => (await readFile(file, "utf8")).trim();
  return o.token;
}

/** The checks of options that do not parse into a value; the first failure throws. */
function checkRunOptions(o: RunCliOptions): asserts o is RunCliOptions & { logLevel: LogLevel } {
  if (o.dashboard !== undefined && !/^wss?:\/\/[^\s]+$/.test(o.dashboard))
    throw new InvalidArgumentError(`--dashboard: "${o.dashboard}" is not a ws:// or wss:// URL`);
  if (!isLogLevel(o.logLevel))
    throw new InvalidArgumentError(`--log-level: unknown level "${o.logLevel}"`);
  if (o.windowsCni && o.netns)
    throw new InvalidArgumentError(
      "--windows-cni (IPMASQ_WINDOWS_CNI) manages a Windows CNI config and cannot be combined with --netns (IPMASQ_NETNS)",
    );
}

export function runSettingsFrom(o: RunCliOptions): RunSettings {
  const node = nodeNameSchema.safeParse(o.node ?? "");
  if (!node.success)
    throw new InvalidArgumentError(`--node (NODE_NAME): "${o.node ?? ""}" is not a node name`);
  checkRunOptions(o);
  const pollIntervalMs = parseInterval(o.pollInterval, "--poll-interval");
  if (pollIntervalMs < 100)
    throw new InvalidArgumentError("--poll-interval must be at least 100ms");
  const dashboard = dashboardFrom(o);
  const flags = agentFlagsFrom(o);
  const ports = parseToPorts(flags.toPorts);
  if (!ports.ok) throw new InvalidArgumentError(`--to-ports: ${ports.message}`);
  return {
    nodeName: node.data,
    ...(dashboard ? { dashboard } : {}),
    ...(o.netns ? { netns: o.netns } : {}),
    ...(o.windowsCni ? { windowsCni: o.windowsCni } : {}),
    mode: modeSchema.parse(o.mode),
    heal: o.heal === "immediate" ? "immediate" : "next-resync",
    stateDir: o.stateDir,
    ...(o.metricsPort !== undefined && o.metricsPort !== ""
      ? { metricsPort: parsePort(o.metricsPort) }
      : {}),
    pollIntervalMs,
    ...(o.configFile ? { configFile: o.configFile } : {}),
    logLevel: o.logLevel,
    variant: o.iptables as IptablesVariant,
    backend: (o.backend ?? "auto") as BackendChoiceFlag,
    flags,
  };
}

/** The dashboard settings: URL, token, liveness timings, and the CA bundle (wss:// only). */
function dashboardFrom(o: RunCliOptions): RunSettings["dashboard"] {
  const token = tokenSource(o);
  const liveness = livenessFrom(o);
  const ca = o.dashboardCa ? dashboardCaFrom(o.dashboardCa) : undefined;
  if (ca && !o.dashboard?.startsWith("wss://"))
    throw new InvalidArgumentError(
      "--dashboard-ca (IPMASQ_DASHBOARD_CA) is for a wss:// --dashboard URL; this one is not",
    );
  if (o.dashboard === undefined) return undefined;
  return {
    url: o.dashboard,
    liveness,
    ...(token !== undefined ? { token } : {}),
    ...(ca ? { ca } : {}),
  };
}

/** The agent's dashboard link from the settings: the liveness policy, and the CA for wss://. */
export function agentDashboard(d: RunSettings["dashboard"]): DashboardOptions | undefined {
  if (!d) return undefined;
  const link = { liveness: d.liveness, ...(d.ca ? { ws: { ca: d.ca } } : {}) };
  return { url: d.url, ...(d.token !== undefined ? { token: d.token } : {}), link };
}
