// A family snapshot parsed chain by chain, each distinct chain text parsed once for every node
// that reports it: on a real fleet every node's rules are its own (flannel's RETURN for the
// node's pod /24, the AWS VPC CNI's SNAT to the node's address), yet the agent's chain and
// kube-proxy's are the same on all of them. The result is exactly parseIptables(snapshotText(
// snap), "nat"): the same chains in the same order, the same rules with the same line numbers,
// the same errors. Parsed rules are shared between the snapshots holding the same chain text
// at the same line: nothing may mutate them (nothing does: the analysis reads them).
import type { Family } from "./cidr.js";
import { type ParsedChain, type ParseError, type ParseResult, parseIptables } from "./parser.js";
import type { FamilySnapshot } from "./protocol.js";
import { NAT_TABLE } from "./rules.js";
import { snapshotText } from "./snapshot.js";

/** One chain's lines parsed at one line offset of the snapshot text. */
interface ParsedPart {
  /** The nat chains the lines made (normally the one chain), in order first seen. */
  chains: ReadonlyMap<string, ParsedChain>;
  errors: readonly ParseError[];
  /** Lines of the joined snapshot text this part takes ("\n"s in it plus one). */
  lineCount: number;
  /** A `*table` line: it changes how the next chains' lines parse, so no part stands alone. */
  tableHeader: boolean;
}

export interface ChainParseCacheLimits {
  /** Distinct (family, offset, chain text) entries kept. */
  maxEntries: number;
  /** Characters of chain text kept, summed over entries (parsed rules hold ~8–20 bytes each). */
  maxChars: number;
}

/**
 * Small on purpose: the chains every node shares are used by every node, so they stay however
 * small the cache; a node's own chains are met once per push, and keeping a large fleet's would
 * cost kilobytes per node (~10–20 bytes of parsed rules per character) for one parse each.
 */
export const CHAIN_PARSE_CACHE_LIMITS: ChainParseCacheLimits = {
  maxEntries: 1024,
  maxChars: 262_144,
};

/** A part's text longer than this is parsed but never kept (one chain must not flush the rest). */
const keepable = (limits: ChainParseCacheLimits, chars: number) => chars <= limits.maxChars / 8;

/** Number of lines `text` splits into on "\n" (as parseIptables splits it). */
function lineCountOf(text: string): number {
  let n = 1;
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) n++;
  return n;
}

/** Parses one chain's text as the lines starting at `offset` of the whole text would parse. */
function parsePart(text: string, offset: number): ParsedPart {
  const { ruleset, errors } = parseIptables(text, NAT_TABLE);
  const tableHeader = text.split("\n").some((l) => l.trim()[0] === "*");
  const chains = ruleset.tables.get(NAT_TABLE) ?? new Map<string, ParsedChain>();
  for (const c of chains.values()) for (const r of c.rules) r.line += offset;
  for (const e of errors) e.line += offset;
  return { chains, errors, lineCount: lineCountOf(text), tableHeader };
}

/** `into` with the part's chains added: a chain met again gets the later rules appended. */
function addChains(into: Map<string, ParsedChain>, part: ParsedPart): void {
  for (const [name, chain] of part.chains) {
    const prev = into.get(name);
    if (!prev) {
      into.set(name, chain);
      continue;
    }
    // Never the cached objects: a new chain for this snapshot alone.
    const policy = chain.policy ?? prev.policy;
    into.set(name, {
      name,
      ...(policy === undefined ? {} : { policy }),
      rules: [...prev.rules, ...chain.rules],
    });
  }
}

/**
 * Bounded LRU of parsed chains by (line offset, chain text); `parse` gives what
 * parseIptables(snapshotText(snap), "nat") gives, parsing only texts not seen before.
 */
export class ChainParseCache {
  private readonly parts = new Map<string, ParsedPart>();
  /**
   * A lines array parsed before, at which family and offset: found without joining its text.
   * Received lines are never mutated (the dashboard shares them between snapshots of the same
   * content), and an entry lives only as long as its array, which its snapshot holds: a node
   * whose chain is kept between pushes (rules by digest) parses its own chains once.
   */
  private readonly byLines = new WeakMap<
    readonly string[],
    { family: Family; offset: number; part: ParsedPart }
  >();
  private chars = 0;
  private readonly limits: ChainParseCacheLimits;

  constructor(limits: Partial<ChainParseCacheLimits> = {}) {
    this.limits = { ...CHAIN_PARSE_CACHE_LIMITS, ...limits };
  }

  /** Entries and characters held. */
  get size(): { entries: number; chars: number } {
    return { entries: this.parts.size, chars: this.chars };
  }

  /** The snapshot's chains parsed as one `-S` text (see the class comment). */
  parse(snap: FamilySnapshot): ParseResult {
    const nat = new Map<string, ParsedChain>();
    const errors: ParseError[] = [];
    let offset = 0;
    for (const c of snap.chains) {
      if (c.lines === null) continue;
      const part = this.partOf(snap.family, c.lines, offset);
      if (part.tableHeader) return parseIptables(snapshotText(snap), NAT_TABLE);
      addChains(nat, part);
      errors.push(...part.errors);
      offset += part.lineCount;
    }
    const tables = new Map<string, Map<string, ParsedChain>>();
    if (nat.size > 0) tables.set(NAT_TABLE, nat);
    return { ruleset: { tables }, errors };
  }

  private partOf(family: Family, lines: readonly string[], offset: number): ParsedPart {
    const known = this.byLines.get(lines);
    if (known && known.family === family && known.offset === offset) return known.part;
    const part = this.part(family, lines.join("\n"), offset);
    this.byLines.set(lines, { family, offset, part });
    return part;
  }

  /**
   * Keyed by family too: rules compiled for one family (path/matches.ts) are not the other's,
   * so parsed rules are never shared between them.
   */
  private part(family: Family, text: string, offset: number): ParsedPart {
    const key = `${family}\n${offset}\n${text}`;
    const hit = this.parts.get(key);
    if (hit) {
      this.parts.delete(key);
      this.parts.set(key, hit);
      return hit;
    }
    const part = parsePart(text, offset);
    if (!keepable(this.limits, key.length)) return part;
    this.parts.set(key, part);
    this.chars += key.length;
    this.evict();
    return part;
  }

  /** Drops the least recently used entries until both bounds hold. */
  private evict(): void {
    for (const [key] of this.parts) {
      if (this.parts.size <= this.limits.maxEntries && this.chars <= this.limits.maxChars) return;
      this.parts.delete(key);
      this.chars -= key.length;
    }
  }
}
