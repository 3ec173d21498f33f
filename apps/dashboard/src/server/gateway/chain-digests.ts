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

/**
 * The one digest string each chain held is kept under: a frame's digests are new strings on
 * every connection (~90 bytes each), and a connection keeps the digests of its snapshots' chains
 * for as long as it lives; keyed here by the shared chain, every connection names it with one.
 */
const keyOf = new WeakMap<ChainSnapshot, string>();

/** `c`'s one digest string (`digest` its value, as checked by whoever keeps `c`). */
function keyFor(c: ChainSnapshot, digest: string): string {
  const k = keyOf.get(c);
  if (k !== undefined) return k;
  keyOf.set(c, digest);
  return digest;
}

export type ChainResolution =
  | { kind: "whole"; linux: FamilySnapshot[] }
  /** `missing`: the digests not held; `chains`: their chains' names. */
  | { kind: "unknown"; missing: string[]; chains: string[] }
  | { kind: "refused"; reason: string };

/**
 * One connection's chains: those of its last `keep` distinct resolved snapshots (one where
 * `digest-history` was not granted), by digest. Each chain is held once however many of them
 * name it, and each snapshot by its digests alone: a state toggled back costs its few chains
 * that differ and an array of digests, not a map per snapshot (issue 17's bytes per node).
 */
export class ChainDigestSession {
  /** The chains of the snapshots held, by digest. */
  private chains = new Map<string, ChainSnapshot>();
  /**
   * Once a second distinct snapshot was resolved where more than one is kept: each snapshot's
   * distinct digests, the newest first (undefined: one snapshot, `chains`).
   */
  private held: string[][] | undefined;

  constructor(
    private readonly cache: RulesDigestCache<ChainSnapshot>,
    private readonly hash: (text: string) => string,
    private readonly keep = 1,
  ) {}

  /**
   * `next` resolved: its chains the newest held. A set held already moves up, nothing else
   * changes; a new one drops the least recently resolved past `keep`, and the chains no
   * snapshot held names any more.
   */
  private remember(next: Map<string, ChainSnapshot>): void {
    if (this.held === undefined) {
      // One snapshot held (most nodes, and every one without `digest-history`): its chains.
      if (sameKeys(this.chains, next)) return;
      if (this.keep === 1 || this.chains.size === 0) {
        this.chains = next;
        return;
      }
      this.held = [keysOf(this.chains)];
    }
    const held = this.held;
    const i = held.findIndex((ds) => sameSet(ds, next));
    if (i === 0) return;
    // Arrays built to size and rotated in place (unshift on a full one adds 17 slots).
    if (i > 0) {
      moveUp(held, i);
      return;
    }
    // Each digest string held once: those of chains held already are the map's own.
    const ds = new Array<string>(next.size);
    let n = 0;
    for (const d of this.chains.keys()) if (next.has(d)) ds[n++] = d;
    for (const [d, c] of next)
      if (!this.chains.has(d)) {
        this.chains.set(d, c);
        ds[n++] = d;
      }
    const all = [ds, ...held];
    this.held = all;
    if (all.length <= this.keep) return;
    const out = all.pop()!;
    const named = new Set<string>();
    for (const kept of all) for (const d of kept) named.add(d);
    for (const d of out) if (!named.has(d)) this.chains.delete(d);
  }

  /** Distinct snapshots held (at most `keep`). */
  get snapshotsHeld(): number {
    return this.held?.length ?? (this.chains.size > 0 ? 1 : 0);
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
        const c = next.get(ref.digest) ?? this.chains.get(ref.digest) ?? this.cache.get(ref.digest);
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
        next.set(keyFor(c, ref.digest), c);
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
        const key = keyFor(c, ref.digest);
        next.set(key, c);
        this.cache.put(key, c, texts.get(c)!.length);
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
    cache.put(keyFor(c, d.digest), c, d.chars);
    kept = true;
  }
  return kept;
}

/** A map's keys in an array of their number (a spread grows one by 17 slots at a time). */
function keysOf(m: ReadonlyMap<string, unknown>): string[] {
  const out = new Array<string>(m.size);
  let n = 0;
  for (const k of m.keys()) out[n++] = k;
  return out;
}

/** `list` with its `i`th item first, the ones before it one place down (no allocation). */
export function moveUp<T>(list: T[], i: number): void {
  const item = list[i]!;
  for (let j = i; j > 0; j--) list[j] = list[j - 1]!;
  list[0] = item;
}

/** The same digests in both (`ds` distinct). */
function sameSet(ds: readonly string[], m: ReadonlyMap<string, unknown>): boolean {
  if (ds.length !== m.size) return false;
  for (const d of ds) if (!m.has(d)) return false;
  return true;
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
