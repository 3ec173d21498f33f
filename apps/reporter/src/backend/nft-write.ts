// The write half of the nftables backend. One apply:
//   1. read the node (the agent's table, and the agent's iptables chain if one is there);
//   2. if an iptables chain is there (upstream's, or ours before a migration) and acts other
//      than the config says, bring it to the config first (the iptables writer: one atomic,
//      verified iptables-restore), so from here on every agent rule set on the node agrees;
//   3. write the table: ONE `nft -f -` transaction (shared render; the kernel commits all of
//      it or nothing), read back, verify; on a mismatch restore the previous table content in
//      one `nft -j -f -` transaction;
//   4. only once the table is verified, remove the iptables chain and its jumps (one
//      iptables-restore transaction).
// Between 2 and 4 both rule sets are present and agree: the first nat chain at the hook that
// masquerades binds the address, one that returns hands the packet to the next, so a packet is
// masqueraded exactly when the config says, whichever runs first. Nothing is half-applied.
import {
  type AgentFlags,
  type ApplyTrigger,
  analyzeSnapshot,
  chainLines,
  type FamilySnapshot,
  type MasqConfig,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  POSTROUTING,
  renderNftApply,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import type { Logger } from "../log.js";
import { logApplyFinished } from "./apply-log.js";
import type { Nft } from "./nft-exec.js";
import { ownObjects, ownTableNeedsWrite, ownTableProblems, planFor } from "./nft-own.js";
import { ruleSpec } from "./plan.js";
import type { ApplyOutcome, NftObserved } from "./types.js";

export interface NftWriteOps {
  nft: Nft;
  read(): Promise<NftObserved>;
  /** The iptables writer of the same node, when iptables is installed. */
  iptables?: {
    apply(config: MasqConfig): Promise<ApplyOutcome>;
    /** One `iptables-restore --noflush` transaction into this backend and family. */
    restore(snap: FamilySnapshot, payload: string): Promise<string | undefined>;
  };
  log: Logger;
}

export type NftWriteOutcome = Omit<ApplyOutcome<NftObserved | undefined>, "durationMs">;

const TABLE = { family: NFT_TABLE_FAMILY, name: NFT_TABLE };

/** The JSON transaction that puts the agent's table back as `before` held it (or removes it). */
export function restoreTableJson(before: readonly unknown[]): string {
  const own = ownObjects(before);
  const strip = (o: Record<string, unknown>) => {
    const { handle: _h, ...rest } = o;
    return rest;
  };
  const commands: unknown[] = [{ add: { table: TABLE } }, { delete: { table: TABLE } }];
  if (own.table) {
    commands.push({ add: { table: TABLE } });
    for (const s of own.sets) commands.push({ add: { set: strip(s) } });
    for (const m of own.maps) commands.push({ add: { map: strip(m) } });
    for (const c of own.chains) commands.push({ add: { chain: strip(c) } });
    for (const r of own.rules) commands.push({ add: { rule: strip(r) } });
  }
  return JSON.stringify({ nftables: commands });
}

/** The agent's iptables chains on the node (one per family and iptables backend holding one). */
export function iptablesChains(o: NftObserved, chain: string): FamilySnapshot[] {
  return o.linux.filter((s) => chainLines(s, chain) != null);
}

/** One transaction that deletes the chain's jumps, then the chain. */
export function removeChainPayload(snap: FamilySnapshot, chain: string): string {
  const jumps = analyzeSnapshot(snap, chain).jumps;
  const lines = ["*nat", ...jumps.map((j) => `-D ${POSTROUTING} ${ruleSpec(j.rule)}`)];
  lines.push(`-F ${chain}`, `-X ${chain}`, "COMMIT", "");
  return lines.join("\n");
}

/**
 * The agent's table was not read (nft list chains or the table's listing failed: the ruleset is
 * empty). A chain of another table that could not be listed also sets readError, but leaves the
 * agent's table read: writing it is not blind.
 */
const blind = (o: NftObserved) =>
  o.nftables.readError !== undefined && o.nftables.ruleset.length === 0;

const failure = (error: string, snapshots: NftObserved | undefined, changed = false) => ({
  ok: false,
  changed,
  rolledBack: false,
  error,
  snapshots,
});

/** Step 3: the table in one transaction, verified, restored on a mismatch. */
async function writeTable(
  ops: NftWriteOps,
  config: MasqConfig,
  flags: AgentFlags,
  before: NftObserved,
): Promise<{ error?: string; rolledBack: boolean; written: boolean; after?: NftObserved }> {
  const plan = planFor(config, flags, before.nftables.ruleset);
  const error = await ops.nft.apply(renderNftApply(config, flags, plan));
  if (error)
    return {
      error: `${error}; nothing was changed (one transaction)`,
      rolledBack: false,
      written: false,
    };
  const after = await ops.read();
  const problems = blind(after)
    ? [`could not read back: ${after.nftables.readError}`]
    : ownTableProblems(config, flags, after.nftables.ruleset);
  if (problems.length === 0) return { rolledBack: false, written: true, after };
  const failed = `verification failed (${problems.join("; ")})`;
  const rb = await ops.nft.apply(restoreTableJson(before.nftables.ruleset), true);
  ops.log.error({ problems, rollbackError: rb }, "nftables apply verification failed");
  return rb
    ? {
        error: `${failed}; restoring the previous table also failed: ${rb}`,
        rolledBack: false,
        written: true,
      }
    : { error: `${failed}; previous table restored`, rolledBack: true, written: true };
}

/** Step 4: the iptables chains retired, each family and backend in one transaction. */
async function retireChains(ops: NftWriteOps, before: NftObserved, chain: string) {
  const errors: string[] = [];
  for (const snap of iptablesChains(before, chain)) {
    const e = await ops.iptables?.restore(snap, removeChainPayload(snap, chain));
    if (e)
      errors.push(
        `the nftables table is in place, but removing ${chain} from iptables (${snap.family}) failed: ${e}; both agree, the next apply retries`,
      );
  }
  return errors;
}

/** One apply (see the file comment), logged once; never throws for what the node says. */
export async function writeNft(
  ops: NftWriteOps,
  config: MasqConfig,
  flags: AgentFlags,
  trigger: ApplyTrigger,
): Promise<NftWriteOutcome> {
  const { migrated, ...o } = await writeNftOnce(ops, config, flags);
  // As every backend's, plus whether the agent's iptables chain was retired into the table.
  logApplyFinished(ops.log, trigger, o, { migrated: migrated ?? false });
  return o;
}

async function writeNftOnce(
  ops: NftWriteOps,
  config: MasqConfig,
  flags: AgentFlags,
): Promise<NftWriteOutcome & { migrated?: boolean }> {
  const refused = refusal(config, flags);
  if (refused) return failure(refused, undefined);
  const before = await ops.read();
  if (blind(before))
    return failure(`cannot read current rules: ${before.nftables.readError}`, before);
  const stale = iptablesChains(before, flags.masqChain);
  const tableOff = ownTableNeedsWrite(config, flags, before.nftables.ruleset);
  if (!tableOff && stale.length === 0)
    return { ok: true, changed: false, rolledBack: false, snapshots: before };
  if (stale.length > 0 && !ops.iptables)
    return failure(`${flags.masqChain} is in iptables, but iptables cannot be run`, before);
  if (stale.length > 0) {
    const agreed = await ops.iptables!.apply(config);
    if (!agreed.ok)
      return failure(
        `bringing the iptables chain to the config before the table goes in failed: ${agreed.error}; the nftables table was not written`,
        await ops.read(),
        agreed.changed,
      );
  }
  const t = tableOff
    ? await writeTable(ops, config, flags, before)
    : { rolledBack: false, written: false, after: undefined };
  const errors = t.error ? [t.error] : await retireChains(ops, before, flags.masqChain);
  // The verified read-back is the node's state unless the iptables chain was retired since.
  const after = t.after && stale.length === 0 ? t.after : await ops.read();
  return {
    migrated: stale.length > 0,
    ok: errors.length === 0,
    changed: t.written || stale.length > 0,
    rolledBack: t.rolledBack,
    snapshots: after,
    ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
  };
}
