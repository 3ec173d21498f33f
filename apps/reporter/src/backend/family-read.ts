// One family of one iptables backend as a snapshot: the POSTROUTING path (walk.ts) listed in
// as few processes as it takes (list.ts). A "missing" agent chain is only believed when no
// chain that was read jumps to it (the kernel refuses jumps to missing chains) and, on
// nf_tables, `nft list chain` agrees; otherwise the snapshot carries a readError and nothing
// is written blind.
import {
  chainNameSchema,
  type Family,
  type FamilySnapshot,
  type IptablesBackend,
  MAX_READ_ERROR_CHARS,
  MAX_SNAPSHOT_CHAINS,
  MAX_UNREAD_NOTE_LENGTH,
} from "@masq/shared";
import type { FamilyTools } from "./detect.js";
import { createLister, type Run } from "./list.js";
import { jumpsTo } from "./read.js";
import { type WalkBounds, walkChains } from "./walk.js";

export interface FamilyReadInput {
  run: Run;
  family: Family;
  backend: IptablesBackend;
  tools: FamilyTools;
  agentChain: string;
  /** The nft program, to tell a missing chain from one iptables cannot list (nf_tables only). */
  nft?: string;
  prefetch?: readonly string[];
  bounds?: Partial<WalkBounds>;
}

async function contradiction(
  input: FamilyReadInput,
  chains: FamilySnapshot["chains"],
  message: string,
  ambiguous: boolean,
): Promise<string | undefined> {
  const chain = input.agentChain;
  if (chains.some((c) => c.lines !== null && jumpsTo(c.lines, chain)))
    return `${chain} is jumped to but iptables cannot list it: ${message}`;
  if (!ambiguous || input.backend !== "nf_tables" || !input.nft) return undefined;
  const table = input.family === "ipv4" ? "ip" : "ip6";
  const r = await input.run([input.nft, "list", "chain", table, "nat", chain]);
  return r.code === 0
    ? `${chain} exists but holds rules iptables cannot show (inspect it with nft): ${message}`
    : undefined;
}

const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;

/** Reads one family of one backend; never throws (problems go to readError/unread). */
export async function readFamily(input: FamilyReadInput): Promise<FamilySnapshot> {
  const walk = await walkChains({
    list: createLister(input.run, input.tools, "nat"),
    agentChain: input.agentChain,
    prefetch: input.prefetch,
    bounds: input.bounds,
  });
  let readError = walk.problem;
  if (!readError && walk.agent.kind === "missing")
    readError = await contradiction(input, walk.chains, walk.agent.message, walk.agent.ambiguous);
  // Only names the protocol carries (a snapshot failing its schema would not be sent at all).
  const named = walk.unread.filter((n) => chainNameSchema.safeParse(n).success);
  const unread = named.slice(0, MAX_SNAPSHOT_CHAINS);
  const notes = [...walk.notes];
  if (named.length < walk.unread.length)
    notes.push(`${walk.unread.length - named.length} chains with names iptables never prints`);
  if (unread.length < named.length) notes.push(`${named.length - unread.length} more not named`);
  const note = notes.join("; ");
  return {
    family: input.family,
    backend: input.backend,
    chains: walk.chains,
    ...(unread.length > 0 ? { unread } : {}),
    ...(note ? { unreadNote: cut(note, MAX_UNREAD_NOTE_LENGTH) } : {}),
    ...(readError ? { readError: cut(readError, MAX_READ_ERROR_CHARS) } : {}),
  };
}
