// `ipmasq run`: the node daemon. Runs until SIGTERM/SIGINT, then stops cleanly (the monitor
// child, the link and the metrics port are closed; the node's rules stay as they are). With
// --windows-cni FILE it manages that CNI config's OutBoundNAT ExceptionList instead of iptables.
import type { Command } from "commander";
import { createAgent } from "../agent.js";
import { createLinuxNodeBackend } from "../backend/linux.js";
import type { Backend } from "../backend/types.js";
import { createWindowsCniBackend } from "../backend/windows-cni.js";
import { createLogger, type Logger } from "../log.js";
import { addAgentFlagOptions } from "./flags.js";
import { EXIT_ERROR, EXIT_OK, exitCodesHelp } from "./io.js";
import {
  addRunOptions,
  agentDashboard,
  type RunCliOptions,
  type RunSettings,
  runSettingsFrom,
} from "./run-options.js";

const HELP = `
Every option can also be set by its environment variable (apps/reporter/README.md).

Examples:
  ipmasq run --dashboard wss://dashboard.example/api/reporter --node node-a --token-file /etc/ipmasq/token
  ipmasq run --dashboard ws://127.0.0.1:3000/api/reporter --node node-a --token-file token --mode observe
  ipmasq run --node node-a --config-file /etc/config/ip-masq-agent   # no dashboard: enforce the mounted ConfigMap
  ipmasq run --node node-a --config-file /etc/config   # its ip-masq* files merged, as ip-masq-agent-v2
`;

export function registerRun(program: Command): void {
  const cmd = program
    .command("run")
    .description(
      "run the node reporter: report the rules to the dashboard and enforce the desired config",
    )
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_OK, "stopped by SIGTERM or SIGINT (the node's rules stay as they are)"],
        [EXIT_ERROR, "bad options (named on stderr), or the reporter could not start"],
      ]),
    );
  addAgentFlagOptions(addRunOptions(cmd)).action(async (opts: RunCliOptions) => {
    const settings = runSettingsFrom(opts);
    const log = createLogger({ level: settings.logLevel, base: { node: settings.nodeName } });
    await runUntilSignalled(settings, log);
  });
}

/** The Windows CNI backend with --windows-cni, else the iptables chain or the nftables table. */
export async function backendFor(s: RunSettings, log: Logger): Promise<Backend> {
  if (s.windowsCni) {
    log.info(
      { path: s.windowsCni },
      "Windows mode: managing the CNI config's OutBoundNAT ExceptionList",
    );
    return createWindowsCniBackend({
      path: s.windowsCni,
      flags: s.flags,
      logger: log.child({ module: "windows-cni" }),
      pollIntervalMs: s.pollIntervalMs,
    });
  }
  const node = await createLinuxNodeBackend({
    backend: s.backend,
    netns: s.netns,
    flags: s.flags,
    logger: log,
    pollIntervalMs: s.pollIntervalMs,
    variant: s.variant,
  });
  return node.backend;
}

export async function runUntilSignalled(s: RunSettings, log: Logger): Promise<void> {
  if (!s.dashboard)
    log.warn("no --dashboard: enforcing the persisted config and --config-file only");
  const backend = await backendFor(s, log);
  const agent = createAgent({
    nodeName: s.nodeName,
    backend,
    mode: s.mode,
    heal: s.heal,
    stateDir: s.stateDir,
    configFile: s.configFile,
    fileCheckMs: s.pollIntervalMs,
    dashboard: agentDashboard(s.dashboard),
    metricsPort: s.metricsPort,
    staleReadMs: Math.max(60_000, 3 * s.pollIntervalMs),
    logger: log,
  });
  await agent.start();
  log.info({ metricsPort: agent.status().opsPort }, "reporter running");
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      log.info({ signal }, "stopping");
      agent.stop().then(resolve, (e: Error) => {
        log.error({ err: e.message }, "stop failed");
        resolve();
      });
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
}
