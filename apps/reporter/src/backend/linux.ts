// The Linux node backend `--backend iptables|nftables|auto` asks for: the agent's own nftables
// table, or the iptables chain (which retires the agent's nftables table when one is there).
import type { AgentFlags } from "@masq/shared";
import { exec } from "../exec.js";
import { type Logger, silentLogger } from "../log.js";
import { type BackendChoiceFlag, chooseBackend, type ManagedChoice } from "./choose.js";
import { createIptablesBackend, type IptablesVariant } from "./iptables.js";
import { retiringNftTable } from "./nft-retire.js";
import { createNftablesBackend } from "./nftables.js";
import type { LinuxBackend, NftablesBackend } from "./types.js";

export interface LinuxNodeOptions {
  backend: BackendChoiceFlag;
  netns?: string;
  flags: AgentFlags;
  logger?: Logger;
  pollIntervalMs?: number;
  /** `--iptables`: which iptables backend the chain is written to. */
  variant?: IptablesVariant;
}

export interface LinuxNode {
  choice: ManagedChoice;
  backend: LinuxBackend | NftablesBackend;
}

/** Decides (auto probes the node: choose.ts) and builds the backend. */
export async function createLinuxNodeBackend(o: LinuxNodeOptions): Promise<LinuxNode> {
  const log = o.logger ?? silentLogger();
  const choice = await chooseBackend(o.backend, (argv) => exec(argv, { netns: o.netns }));
  log.info({ backend: choice.kind, reason: choice.reason }, "backend chosen");
  if (choice.kind === "nftables") {
    const backend = createNftablesBackend({
      netns: o.netns,
      flags: o.flags,
      logger: log.child({ module: "nftables" }),
      pollIntervalMs: o.pollIntervalMs,
      reason: choice.reason,
      iptablesVariant: o.variant,
    });
    return { choice, backend };
  }
  const iptables = createIptablesBackend({
    netns: o.netns,
    flags: o.flags,
    logger: log.child({ module: "iptables" }),
    pollIntervalMs: o.pollIntervalMs,
    variant: o.variant,
  });
  return { choice, backend: retiringNftTable(iptables, { netns: o.netns, flags: o.flags, log }) };
}

export const BACKEND_FLAG_HELP =
  "what the reporter manages: iptables (the IP-MASQ-AGENT chain), nftables (its own inet table), or auto (nftables when no iptables program exists or kube-proxy's nftables tables do, else iptables)";
