// `ipmasq apply --config FILE`: one atomic, verified apply (rolled back when the read-back
// differs). Exit 0 only when the node verifiably has the config's rules. With --windows-cni FILE
// the OutBoundNAT ExceptionList of that CNI config is rewritten instead (previous file kept).
import { type Command, Option } from "commander";
import type { BackendChoiceFlag } from "../backend/choose.js";
import type { IptablesVariant } from "../backend/iptables.js";
import { createLinuxNodeBackend } from "../backend/linux.js";
import type { ApplyOutcome } from "../backend/types.js";
import { createWindowsCniBackend } from "../backend/windows-cni.js";
import { assertNetnsExists } from "../exec.js";
import { loadConfig } from "./config-file.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { CliExit, type CliIO, EXIT_ERROR, EXIT_OK, exitCodesHelp, processIO } from "./io.js";
import { backendOption } from "./run-options.js";
import { addWindowsCniOption, checkWindowsExclusive, type WindowsCniOption } from "./windows.js";

const HELP = `
Examples:
  ipmasq apply --config config.yaml
  ipmasq apply --config config.yaml --netns node-a --random-fully false
  ipmasq apply --config config.yaml --backend nftables   # migrates from the iptables chain
  ipmasq apply --config config.yaml --windows-cni 'C:\\etc\\cni\\net.d\\10-flannel.conf'
`;

interface ApplyOptions extends AgentFlagOptions, WindowsCniOption {
  config: string;
  netns?: string;
  iptables: IptablesVariant;
  backend: BackendChoiceFlag;
  json?: boolean;
}

export function registerApply(program: Command, io: CliIO = processIO()): void {
  const cmd = program
    .command("apply")
    .description(
      "apply a config to this node (or --netns) atomically and verify it; exit 0 when verified",
    )
    .requiredOption("--config <file>", "ip-masq-agent config (YAML or JSON); - for stdin")
    .addOption(
      new Option("--netns <name>", "apply inside this network namespace").env("IPMASQ_NETNS"),
    )
    .addOption(
      new Option(
        "--iptables <variant>",
        "where to write: auto (the backend holding the node's rules), nft or legacy; never a second agent chain next to the other backend's",
      )
        .choices(["auto", "nft", "legacy"])
        .default("auto")
        .env("IPMASQ_IPTABLES"),
    )
    .addOption(backendOption())
    .option("--json", "print the outcome as JSON")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([
        [EXIT_OK, "applied and verified: the node has the config's rules"],
        [EXIT_ERROR, "not applied or not verified (the previous rules restored), or an error"],
      ]),
    );
  addWindowsCniOption(cmd, "rewrite");
  addAgentFlagOptions(cmd).action(async (opts: ApplyOptions, c: Command) => {
    checkWindowsExclusive(opts, c);
    const flags = agentFlagsFrom(opts);
    const config = await loadConfig(io, opts.config, flags);
    const path = opts.windowsCni;
    if (path !== undefined) {
      const o = await createWindowsCniBackend({ path, flags }).apply(config, "cli");
      const written = `ExceptionList rewritten; previous file kept at ${o.backupPath}`;
      return report(io, o, opts.json, written);
    }
    if (opts.netns !== undefined) {
      try {
        assertNetnsExists(opts.netns);
      } catch (e) {
        throw new CliExit(EXIT_ERROR, (e as Error).message);
      }
    }
    const { backend, choice } = await createLinuxNodeBackend({
      backend: opts.backend,
      netns: opts.netns,
      flags,
      variant: opts.iptables,
    });
    const written = choice.kind === "nftables" ? "nftables table written" : "rules written";
    report(io, await backend.apply(config, "cli"), opts.json, written);
  });
}

/** The outcome on stdout (JSON without the snapshots, or one line when it worked); exit 1 when not. */
function report(
  io: CliIO,
  o: ApplyOutcome<unknown>,
  json: boolean | undefined,
  written: string,
): void {
  if (json) {
    const { snapshots: _s, ...summary } = o;
    io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  } else if (o.ok) {
    const what = o.changed ? written : "already in place";
    io.stdout(`applied and verified (${what}) in ${Math.round(o.durationMs)} ms\n`);
  }
  if (!o.ok) throw new CliExit(EXIT_ERROR, `apply failed: ${o.error ?? "unknown error"}`);
}
