// Reading a family snapshot (protocol v2): the lines of one chain, the whole snapshot as one
// `-S` text for the parser, and a snapshot built from the two chains the agent owns.
import type { Family } from "./cidr.js";
import { DEFAULT_FLAGS } from "./config.js";
import type { FamilySnapshot, IptablesBackend } from "./protocol.js";
import { POSTROUTING } from "./rules.js";

/** Lines of chain `name`: null when it does not exist, undefined when it was not read. */
export function chainLines(snap: FamilySnapshot, name: string): string[] | null | undefined {
  for (const c of snap.chains) if (c.name === name) return c.lines;
  return undefined;
}

/** Every chain that exists, joined as one `iptables -S` text (nat table) for parseIptables. */
export function snapshotText(snap: FamilySnapshot): string {
  const parts: string[] = [];
  for (const c of snap.chains) if (c.lines !== null) parts.push(c.lines.join("\n"));
  return parts.join("\n");
}

/** Rules (`-A`) in this backend's nat POSTROUTING. */
export function postroutingRuleCount(snap: FamilySnapshot): number {
  const prefix = `-A ${POSTROUTING} `;
  return (chainLines(snap, POSTROUTING) ?? []).filter((l) => l.startsWith(prefix)).length;
}

export interface TwoChains {
  family: Family;
  /** `-S CHAIN` lines, or null when the chain does not exist. */
  chain: string[] | null;
  /** `-S POSTROUTING` lines. */
  postrouting: string[];
  /** Default: upstream's IP-MASQ-AGENT. */
  masqChain?: string;
  /** Default nf_tables. */
  backend?: IptablesBackend;
  readError?: string;
}

/** A snapshot holding only POSTROUTING and the agent chain (a simulated node, a v1 report). */
export function snapshotOf(t: TwoChains): FamilySnapshot {
  return {
    family: t.family,
    backend: t.backend ?? "nf_tables",
    chains: [
      { name: POSTROUTING, lines: t.postrouting },
      { name: t.masqChain ?? DEFAULT_FLAGS.masqChain, lines: t.chain },
    ],
    ...(t.readError === undefined ? {} : { readError: t.readError }),
  };
}
