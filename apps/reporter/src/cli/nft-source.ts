// `--backend` for inspect, drift and why: on a live node (`--netns`) whose backend is nftables
// (forced, or `auto` finding kube-proxy's nftables tables or no iptables), the read is the
// nftables backend's (the agent's table, every other nat postrouting path, and the node's
// iptables side), analysed by the shared nftables analysis. `--from` with `nft -j list ruleset`
// output (JSON) is read the same way.
import {
  type AgentFlags,
  analyzeNftFamily,
  BACKEND_LABELS,
  evaluateNft,
  type Family,
  type NftFamilyAnalysis,
  type NftSnapshot,
  type PacketFields,
  parseNftJson,
  type Verdict,
  withIptablesHooks,
} from "@masq/shared";
import type { Command } from "commander";
import { type BackendChoiceFlag, chooseBackend } from "../backend/choose.js";
import { createNftablesBackend } from "../backend/nftables.js";
import type { NftObserved } from "../backend/types.js";
import { assertNetnsExists, exec } from "../exec.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";
import { backendOption } from "./run-options.js";

export interface BackendOption {
  backend?: BackendChoiceFlag;
}

export function addBackendOption(cmd: Command): Command {
  return cmd.addOption(backendOption());
}

/**
 * The live nftables read of `netns` when its backend is nftables, else undefined (the
 * iptables path reads it). Throws CliExit when the ruleset could not be read.
 */
export async function liveNftObserved(
  netns: string,
  flags: AgentFlags,
  flag: BackendChoiceFlag = "auto",
): Promise<NftObserved | undefined> {
  assertNetnsExists(netns);
  const choice = await chooseBackend(flag, (argv) => exec(argv, { netns }));
  if (choice.kind !== "nftables") return undefined;
  const o = await createNftablesBackend({ netns, flags, monitor: false }).read();
  if (o.nftables.readError)
    throw new CliExit(EXIT_ERROR, `cannot read the nftables ruleset: ${o.nftables.readError}`);
  const failed = o.linux.find((s) => s.readError);
  if (failed)
    throw new CliExit(
      EXIT_ERROR,
      `cannot read ${failed.family} rules (${BACKEND_LABELS[failed.backend]}): ${failed.readError}`,
    );
  return o;
}

/** `nft -j list ruleset` text as an observed node (no iptables side). */
export function nftFromText(text: string): NftObserved {
  let doc: { nftables?: unknown[] };
  try {
    doc = JSON.parse(text) as { nftables?: unknown[] };
  } catch (e) {
    throw new CliExit(EXIT_ERROR, `--from: not JSON: ${(e as Error).message}`);
  }
  const ruleset = (doc.nftables ?? []).filter((o) => !("metainfo" in (o as object)));
  return { nftables: { backend: "nftables", ruleset } as NftSnapshot, linux: [] };
}

/**
 * The nftables read a command's source names: a live node whose backend is nftables (`--netns`,
 * `--backend` auto or nftables), or `--from FILE --backend nftables`; else undefined.
 */
export async function nftSource(
  io: CliIO,
  opts: BackendOption & { netns?: string; from?: string },
  flags: AgentFlags,
): Promise<NftObserved | undefined> {
  if (opts.netns !== undefined && opts.from === undefined)
    return liveNftObserved(opts.netns, flags, opts.backend);
  if (opts.from === undefined || opts.backend !== "nftables") return undefined;
  return nftFromText(await readInput(io, opts.from));
}

export function nftAnalysis(o: NftObserved, family: Family): NftFamilyAnalysis {
  return analyzeNftFamily(parseNftJson(o.nftables.ruleset), family, o.nftables.unread ?? []);
}

/**
 * Would a pod's packet to `ip` be masqueraded: every nft nat postrouting chain of the family,
 * and iptables' nat POSTROUTING of each iptables backend holding rules (shared
 * withIptablesHooks), in priority order.
 */
export function nftWhy(
  o: NftObserved,
  family: Family,
  ip: string,
  fields: PacketFields,
  agentChain: string,
): Verdict | { error: string } {
  return evaluateNft(withIptablesHooks(nftAnalysis(o, family), o.linux, agentChain), ip, fields);
}
