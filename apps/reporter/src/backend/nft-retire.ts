// Migration back, nftables → iptables (`--backend iptables` on a node that has the agent's
// nftables table): the mirror of nft-write.ts. The table is first brought to the config (one
// nft transaction) if it acts otherwise, then the iptables chain is applied and verified (the
// iptables writer), and only then the table is deleted (one nft transaction). While both are
// present they agree, so no packet is masqueraded other than the config says.
import {
  type AgentFlags,
  type ApplyTrigger,
  type MasqConfig,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  renderNftApply,
  renderNftRemove,
} from "@masq/shared";
import { exec } from "../exec.js";
import type { Logger } from "../log.js";
import { createNft, type Nft } from "./nft-exec.js";
import { ownTableNeedsWrite, planFor } from "./nft-own.js";
import type { ApplyOutcome, LinuxBackend } from "./types.js";

export interface RetireOptions {
  netns?: string;
  flags: AgentFlags;
  log: Logger;
  nft?: string;
  timeoutMs?: number;
}

/** The agent's table as listed, or undefined when it is absent or nft does not run. */
async function agentTable(nft: Nft, log: Logger): Promise<unknown[] | undefined> {
  const t = await nft.list("table", { family: NFT_TABLE_FAMILY, table: NFT_TABLE });
  if (t.kind === "ok") return t.objects;
  if (t.kind === "error") log.debug({ err: t.message }, "agent's nftables table not read");
  return undefined;
}

const failed = (o: ApplyOutcome, error: string): ApplyOutcome => ({ ...o, ok: false, error });

/** The iptables backend, retiring the agent's nftables table once the chain is verified. */
export function retiringNftTable(inner: LinuxBackend, o: RetireOptions): LinuxBackend {
  const nft = createNft(
    (argv, input, maxOutputBytes) =>
      exec(argv, { netns: o.netns, timeoutMs: o.timeoutMs, input, maxOutputBytes }),
    o.nft,
  );
  async function apply(config: MasqConfig, trigger: ApplyTrigger): Promise<ApplyOutcome> {
    const table = await agentTable(nft, o.log);
    if (!table) return inner.apply(config, trigger);
    if (ownTableNeedsWrite(config, o.flags, table)) {
      const e = await nft.apply(renderNftApply(config, o.flags, planFor(config, o.flags, table)));
      if (e) {
        const error = `bringing the agent's nftables table to the config before the iptables chain goes in failed: ${e}; nothing was changed`;
        return {
          ok: false,
          changed: false,
          rolledBack: false,
          durationMs: 0,
          error,
          snapshots: [],
        };
      }
    }
    const applied = await inner.apply(config, trigger);
    if (!applied.ok) return applied;
    const e = await nft.apply(renderNftRemove());
    o.log.info({ trigger, ok: !e }, "agent's nftables table retired");
    if (e)
      return failed(
        applied,
        `the iptables chain is in place, but deleting the agent's nftables table failed: ${e}; both agree, the next apply retries`,
      );
    return { ...applied, changed: true, snapshots: await inner.read() };
  }
  return { ...inner, apply };
}
