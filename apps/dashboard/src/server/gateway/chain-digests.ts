// Snapshots that name each chain by its digest (capability `chain-digests`, chain-digest.ts).
// A chain resolves from the connection's last chains (a node's own per-node chains, unchanged
// by a config push, never need the shared cache) or from the dashboard's shared cache (the new
// agent chain after a push: sent whole by the first node, then known for every node). Chains
// enter either only when received whole and their digests computed here matched the ones
// claimed beside them, so a reporter cannot place content under another content's digest.
// "The connection's last chains": those of its last resolved snapshot, or where
// `digest-history` was granted of its last DIGEST_HISTORY_SNAPSHOTS distinct resolved ones
// (a snapshot whose digest set is one kept moves up to the newest and keeps that entry; a new
// set drops the least recently resolved past the bound). The reporter counts the snapshots it
// wrote by the same rule (link-outbox.ts); this side counts only those it resolved, so it holds
// all the reporter believes shown but a snapshot it could not resolve, which it asks for (the
// reporter then believes only its answer shown).
import {
  type ChainSnapshot,
  canonicalChain,
  type FamilyChainDigests,
  type FamilySnapshot,
  linuxChainDigests,
  MAX_SNAPSHOT_LINES,
  RulesDigestCache,
  sameChainDigests,
} from "@masq/shared";

/**
 * Distinct chains kept for every connection. Shared chains (agent chains of each revision and
 * node pool, kube-proxy's, the CNI's cluster-wide ones) are used at every push and stay; a
 * node's own chains are reachable through its connection however small this is, and are
 * pushed out first.
 */
export const CHAIN_CACHE_ENTRIES = 4096;
/** Canonical characters of those chains in all. */
export const CHAIN_CACHE_CHARS = 4 * 1024 * 1024;

export function chainCache(): RulesDigestCache<ChainSnapshot> {
  return new RulesDigestCache({ maxEntries: CHAIN_CACHE_ENTRIES, maxChars: CHAIN_CACHE_CHARS });
}

export type ChainResolution =
  | { kind: "whole"; linux: FamilySnapshot[] }
  /** `missing`: the digests not held; `chains`: their chains' names. */
  | { kind: "unknown"; missing: string[]; chains: string[] }
  | { kind: "refused"; reason: string };

/**
 * One connection's chains: those of its last `keep` distinct resolved snapshots (one where
 * `digest-history` was not granted), by digest, the newest first.
 */
export class ChainDigestSession {
  private held: Map<string, ChainSnapshot>[] = [];

  constructor(
    private readonly cache: RulesDigestCache<ChainSnapshot>,
    private readonly hash: (text: string) => string,
    private readonly keep = 1,
  ) {}

  /** A chain of one of the connection's last snapshots. */
  private own(digest: string): ChainSnapshot | undefined {
    for (const m of this.held) {
      const c = m.get(digest);
      if (c) return c;
    }
    return undefined;
  }

  /**
   * `next` resolved: its chains the newest held. A set held already moves up and is kept as it
   * was (no map more per snapshot of unchanged rules); a new one drops the oldest past `keep`.
   */
  private remember(next: Map<string, ChainSnapshot>): void {
    const held = this.held;
    const i = held.findIndex((m) => sameKeys(m, next));
    if (i === 0) return;
    if (i > 0) held.unshift(held.splice(i, 1)[0]!);
    else {
      held.unshift(next);
      if (held.length > this.keep) held.length = this.keep;
    }
  }

  /** Distinct snapshots held (at most `keep`). */
  get snapshotsHeld(): number {
    return this.held.length;
  }

  /** Chains named by digest, resolved from what this connection and the dashboard hold. */
  resolve(parts: readonly FamilyChainDigests[]): ChainResolution {
    const next = new Map<string, ChainSnapshot>();
    const missing: { name: string; digest: string }[] = [];
    const linux: FamilySnapshot[] = [];
    for (const f of parts) {
      const chains: ChainSnapshot[] = [];
      let lines = 0;
      for (const ref of f.chains) {
        const c = next.get(ref.digest) ?? this.own(ref.digest) ?? this.cache.get(ref.digest);
        if (!c) {
          missing.push(ref);
          continue;
        }
        // The digest covers the name: another name here is a reporter misnaming content.
        if (c.name !== ref.name)
          return {
            kind: "refused",
            reason: `linuxChains: ${ref.name} named by another chain's digest`,
          };
        lines += c.lines?.length ?? 0;
        next.set(ref.digest, c);
        chains.push(c);
      }
      if (lines > MAX_SNAPSHOT_LINES)
        return {
          kind: "refused",
          reason: `linuxChains: more than ${MAX_SNAPSHOT_LINES} lines in one family`,
        };
      linux.push(withChains(f, chains));
    }
    if (missing.length > 0)
      return {
        kind: "unknown",
        missing: missing.map((m) => m.digest),
        chains: missing.map((m) => m.name),
      };
    this.remember(next);
    return { kind: "whole", linux };
  }

  /**
   * Rules sent whole beside their chains' digests: every digest computed here and compared
   * (with the family fields) before any chain is kept, for this connection and every other.
   * Without `claimed` (digests that did not fit the reporter's frame) the chains are kept
   * under the digests computed here: nothing a reporter claims is believed either way.
   */
  whole(linux: FamilySnapshot[], claimed?: readonly FamilyChainDigests[]): ChainResolution {
    const texts = new Map<ChainSnapshot, string>();
    const digestOf = (c: ChainSnapshot) => {
      const text = canonicalChain(c);
      texts.set(c, text);
      return `sha256:${this.hash(text)}`;
    };
    const mine = linuxChainDigests(linux, digestOf);
    if (claimed !== undefined && !sameChainDigests(mine, claimed))
      return {
        kind: "refused",
        reason: "linuxChains: not the digests of the rules sent with them",
      };
    const next = new Map<string, ChainSnapshot>();
    for (const [i, f] of mine.entries())
      for (const [j, ref] of f.chains.entries()) {
        const c = linux[i]!.chains[j]!;
        next.set(ref.digest, c);
        this.cache.put(ref.digest, c, texts.get(c)!.length);
      }
    this.remember(next);
    return { kind: "whole", linux };
  }
}

/**
 * Chains rendered here (shared desired-chains.ts) kept under the digests computed here, for those of
 * `missing` they are; true when any was. `digestOf`: a chain's digest and canonical length.
 */
export function keepRendered(
  cache: RulesDigestCache<ChainSnapshot>,
  rendered: readonly ChainSnapshot[],
  missing: readonly string[],
  digestOf: (c: ChainSnapshot) => { digest: string; chars: number },
): boolean {
  let kept = false;
  for (const c of rendered) {
    const d = digestOf(c);
    if (!missing.includes(d.digest)) continue;
    cache.put(d.digest, c, d.chars);
    kept = true;
  }
  return kept;
}

/** The same digests (keys) in both. */
function sameKeys(a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a.keys()) if (!b.has(k)) return false;
  return true;
}

/** The family snapshot `f` describes, with its resolved chains. */
function withChains(f: FamilyChainDigests, chains: ChainSnapshot[]): FamilySnapshot {
  const out: FamilySnapshot = { family: f.family, backend: f.backend, chains };
  if (f.unread !== undefined) out.unread = f.unread;
  if (f.unreadNote !== undefined) out.unreadNote = f.unreadNote;
  if (f.readError !== undefined) out.readError = f.readError;
  return out;
}
