// Snapshots that name their rules by digest (issue 17, protocol-capabilities.ts). A reporter
// granted `snapshot-digests` sends `linuxDigest` in place of `linux` when it takes the
// dashboard to hold that content; one granted `chain-digests` sends `linuxChains`, each chain
// by its own digest (chain-digests.ts). The dashboard judges a node only from content it holds:
// rules received whole on some connection, checked, and kept under the digest the dashboard
// computed itself (a reporter cannot place content under another content's digest). A digest
// it does not hold leaves the node's rules unknown and asks that reporter for its snapshot
// whole, at most once per REQUEST_RETRY_MS per connection, so a reporter that keeps naming
// unknown digests cannot make the dashboard loop.
// Held per connection: the rules of its last resolved snapshot, or where `digest-history` was
// granted of its last DIGEST_HISTORY_SNAPSHOTS distinct resolved ones (limits.ts), by the rule
// the reporter counts what it wrote by (link-outbox.ts, chain-digests.ts): a node toggled back
// to a recent state resolves with no request.

import { sha256 } from "@masq/node-util";
import {
  type ChainSnapshot,
  canonicalChain,
  canonicalLinuxRules,
  DIGEST_HISTORY_SNAPSHOTS,
  type FamilySnapshot,
  RulesDigestCache,
  type Snapshot,
} from "@masq/shared";
import {
  ChainDigestSession,
  type ChainResolution,
  chainCache,
  keepRendered,
  moveUp,
} from "./chain-digests.js";

/** Chains the dashboard renders itself that a snapshot's chains may be (shared desired-chains.ts). */
export type Rendered = () => readonly ChainSnapshot[];

/** A connection's next request for a whole snapshot waits this long after its last one. */
export const REQUEST_RETRY_MS = 5000;

export type Resolved =
  /** `msg` holds its rules (`linuxDigest` removed): judge it. */
  | { kind: "whole"; msg: Snapshot }
  /**
   * The rules are not known here: `envelope` is the rest; `request`: ask for them now;
   * `chains`: per chain, the names of the chains not held.
   */
  | { kind: "unknown"; envelope: Snapshot; digest: string; request: boolean; chains?: string[] }
  /** A protocol violation: close the connection with `reason`. */
  | { kind: "refused"; reason: string }
  /** Older than a snapshot already taken on this connection (a late answer): not judged. */
  | { kind: "stale" };

export interface DigestStats {
  hits: number;
  misses: number;
  held: number;
  chars: number;
  /** The chains cache (chain-digests): entries and canonical characters. */
  chainsHeld: number;
  chainsChars: number;
}

/**
 * What a connection's handshake granted: nothing, `snapshot-digests` (`part`: the whole
 * `linux` part by one digest) or `chain-digests` (`chains`: each chain by its own).
 */
export type DigestMode = "none" | "part" | "chains";

/** The rules by digest, one per dashboard, and each connection's session over it. */
export class SnapshotDigests {
  constructor(
    private readonly cache = new RulesDigestCache<FamilySnapshot[]>(),
    private readonly hash: (text: string) => string = (t) => sha256(t),
    private readonly chains: RulesDigestCache<ChainSnapshot> = chainCache(),
  ) {}

  /** Rendered chains' digests, computed once per chain object. */
  private readonly renderedDigests = new WeakMap<
    ChainSnapshot,
    { digest: string; chars: number }
  >();

  /**
   * A connection's view; `true` is `part` (`snapshot-digests`), `false` is `none`; `history`:
   * `digest-history` was granted too (the last DIGEST_HISTORY_SNAPSHOTS snapshots held).
   */
  session(granted: boolean | DigestMode, history = false): DigestSession {
    const mode = granted === true ? "part" : granted === false ? "none" : granted;
    const keep = history ? DIGEST_HISTORY_SNAPSHOTS : 1;
    return new DigestSession(
      mode,
      this.cache,
      this.hash,
      this.chains,
      (rendered, missing) =>
        keepRendered(this.chains, rendered, missing, (c) => this.renderedDigest(c)),
      keep,
    );
  }

  private renderedDigest(c: ChainSnapshot): { digest: string; chars: number } {
    let d = this.renderedDigests.get(c);
    if (d === undefined) {
      const text = canonicalChain(c);
      d = { digest: `sha256:${this.hash(text)}`, chars: text.length };
      this.renderedDigests.set(c, d);
    }
    return d;
  }

  stats(): DigestStats {
    const [c, k] = [this.cache, this.chains];
    return {
      hits: c.hits + k.hits,
      misses: c.misses + k.misses,
      held: c.size,
      chars: c.chars,
      chainsHeld: k.size,
      chainsChars: k.chars,
    };
  }
}

/**
 * One connection's digests: the last rules it resolved (its node's own, unchanged between
 * resyncs, never need the shared cache; those of its last `keep` distinct snapshots, the newest
 * first), or per chain its ChainDigestSession, and when it was last asked for a whole snapshot.
 */
export class DigestSession {
  /** `snapshot-digests`: the rules held, newest first (none until one is resolved). */
  private held: { digest: string; linux: FamilySnapshot[] }[] | undefined;
  private requestedAt: number | undefined;
  /** The newest `seq` taken on this connection (a reporter counts its snapshots up). */
  private newestSeq = -1;
  /** Where `chain-digests` was granted: this connection's chains. */
  private readonly chains: ChainDigestSession | undefined;

  constructor(
    readonly mode: DigestMode,
    private readonly cache: RulesDigestCache<FamilySnapshot[]>,
    private readonly hash: (text: string) => string,
    chains: RulesDigestCache<ChainSnapshot>,
    /** Keeps those rendered chains that are of the missing digests; true when any was. */
    private readonly keep: (rendered: readonly ChainSnapshot[], missing: string[]) => boolean,
    /** Distinct resolved snapshots whose rules are held (`digest-history`: more than one). */
    private readonly snapshots = 1,
  ) {
    if (mode === "chains") this.chains = new ChainDigestSession(chains, hash, snapshots);
  }

  /** Distinct snapshots whose rules this connection holds (at most `snapshots`). */
  get snapshotsHeld(): number {
    return this.chains ? this.chains.snapshotsHeld : (this.held?.length ?? 0);
  }

  /** Rules held under `digest` for this connection. */
  private own(digest: string): FamilySnapshot[] | undefined {
    return this.held?.find((h) => h.digest === digest)?.linux;
  }

  /** `digest` resolved: the newest held (moved up if held, else the oldest past the bound out). */
  private remember(digest: string, linux: FamilySnapshot[]): void {
    const held = this.held ?? [];
    const i = held.findIndex((h) => h.digest === digest);
    if (i === 0) return;
    if (i > 0) {
      moveUp(held, i);
      return;
    }
    // Built to size (unshift on a full array adds 17 slots).
    const all = [{ digest, linux }, ...held];
    if (all.length > this.snapshots) all.pop();
    this.held = all;
  }

  /**
   * A decoded snapshot as something to judge, to wait for, or to refuse. `now`: monotonic ms;
   * `rendered`: the chains this node should hold, tried when its chains are not held.
   */
  resolve(msg: Snapshot, now: number, rendered?: Rendered): Resolved {
    // Where digests are granted, a whole snapshot answers a request, and one answered late
    // must not stand for the node over a newer snapshot (break8).
    if (this.mode !== "none") {
      if (msg.seq < this.newestSeq) return { kind: "stale" };
      this.newestSeq = msg.seq;
    }
    // Per chain, rules sent whole are kept even without digests beside them (a reporter sends
    // them so when the digests would not fit its frame).
    const keptPerChain = this.chains !== undefined && msg.linux !== undefined;
    if (msg.linuxChains !== undefined || (keptPerChain && msg.linuxDigest === undefined))
      return this.byChain(msg, now, rendered);
    const digest = msg.linuxDigest;
    if (digest === undefined) {
      if (msg.linux) this.requestedAt = undefined; // whole rules, whatever they are
      return { kind: "whole", msg };
    }
    if (this.mode !== "part")
      return {
        kind: "refused",
        reason: "linuxDigest: this connection was not granted snapshot-digests",
      };
    if (msg.linux) return this.whole(msg, msg.linux, digest);
    const linux = this.own(digest) ?? this.cache.get(digest);
    if (linux) {
      this.remember(digest, linux);
      return { kind: "whole", msg: withRules(msg, linux) };
    }
    return {
      kind: "unknown",
      envelope: withRules(msg, undefined),
      digest,
      request: this.mayRequest(now),
    };
  }

  /** At most one request for a whole snapshot per REQUEST_RETRY_MS (true: send it now). */
  private mayRequest(now: number): boolean {
    const request = this.requestedAt === undefined || now - this.requestedAt >= REQUEST_RETRY_MS;
    if (request) this.requestedAt = now;
    return request;
  }

  /** A snapshot naming each chain by digest: resolved, checked, or its chains asked for. */
  private byChain(msg: Snapshot, now: number, rendered?: Rendered): Resolved {
    const { linuxChains, linuxDigest, ...rest } = msg;
    if (!this.chains)
      return {
        kind: "refused",
        reason: "linuxChains: this connection was not granted chain-digests",
      };
    if (linuxDigest !== undefined)
      return { kind: "refused", reason: "linuxDigest: a snapshot names its rules in one way" };
    const whole = rest.linux !== undefined;
    let r: ChainResolution = whole
      ? this.chains.whole(rest.linux!, linuxChains)
      : this.chains.resolve(linuxChains!);
    // Not held: perhaps exactly the chains rendered here (a push's new agent chain).
    if (r.kind === "unknown" && rendered && this.keep(rendered(), r.missing))
      r = this.chains.resolve(linuxChains!);
    if (r.kind === "refused") return r;
    if (r.kind === "whole") {
      if (whole) this.requestedAt = undefined;
      return { kind: "whole", msg: withRules(msg, r.linux) };
    }
    const request = this.mayRequest(now);
    const digest = r.missing[0]!;
    return {
      kind: "unknown",
      envelope: withRules(msg, undefined),
      digest,
      request,
      chains: r.chains,
    };
  }

  /** Rules sent whole beside their digest: checked, then kept for every connection. */
  private whole(msg: Snapshot, linux: FamilySnapshot[], claimed: string): Resolved {
    const text = canonicalLinuxRules(linux);
    const digest = `sha256:${this.hash(text)}`;
    if (digest !== claimed)
      return { kind: "refused", reason: "linuxDigest: not the digest of the rules sent with it" };
    this.cache.put(digest, linux, text.length);
    this.remember(digest, linux);
    this.requestedAt = undefined;
    return { kind: "whole", msg: withRules(msg, linux) };
  }
}

/**
 * `msg` without its digest, holding `linux` (none: the envelope). Built field by field: object
 * rest and spread cost ~0.9 µs per snapshot in V8's generic copy, a literal ~30 ns (issue 17);
 * a test holds the fields to the schema's.
 */
export function withRules(msg: Snapshot, linux: FamilySnapshot[] | undefined): Snapshot {
  const { type, v, seq, takenAt, appliedRevision } = msg;
  const out: Snapshot =
    linux === undefined
      ? { type, v, seq, takenAt, appliedRevision }
      : { type, v, seq, takenAt, linux, appliedRevision };
  if (msg.windows !== undefined) out.windows = msg.windows;
  if (msg.nftables !== undefined) out.nftables = msg.nftables;
  if (msg.schedule !== undefined) out.schedule = msg.schedule;
  return out;
}
