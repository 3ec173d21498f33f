// Judges a node's snapshot against the desired config with the shared core. Nodes of one
// fleet mostly report identical rules, so assessments are cached by (desired revision,
// flags, snapshot content): 5,000 identical nodes cost one assessment. The cache is bounded by
// bytes, not entries: one assessment of a 3,000-rule chain holds ~3 MB, so a reporter sending
// distinct large snapshots must not be able to fill memory with them.
import { sha256 } from "@masq/node-util";
import {
  type AgentFlags,
  AssessCache,
  assessLinux,
  assessNft,
  assessWindows,
  desiredChain,
  desiredLines,
  desiredNftAnalysis,
  desiredNftTable,
  driftReport,
  familiesFor,
  type MasqConfig,
  nftNodeView,
  type Snapshot,
  type WindowsSnapshot,
} from "@masq/shared";
import type { Desired } from "../config/merged-desired.js";
import { ByteLru } from "../util/byte-lru.js";
import type { NodeAssessment } from "./node.js";
import { sameRules } from "./same-rules.js";

/** Judges a Windows node's CNI OutBoundNAT exception lists. */
export type WindowsAssessor = (config: MasqConfig, snapshot: WindowsSnapshot) => NodeAssessment;

/** The shared assessWindows, in the shape of a node's assessment. */
export const assessWindowsNode: WindowsAssessor = (config, snapshot) => {
  const a = assessWindows(config, snapshot);
  return { report: a.report, desired: [], families: [], windowsDesired: a.desired };
};

/**
 * Cache key of what a node reported: exactly what assessLinux reads (per family snapshot its
 * backend, each chain's name and lines, what was not read and why, its read error), every
 * text length-prefixed so no content can forge another node's key, and every optional part
 * marked present or absent. Each chain's lines stand in it by their hash (`lines`), made once
 * per lines array: a fleet whose nodes each have their own rules resolves most chains by digest
 * to arrays it already holds, so a push hashes a short key per node, not all its rules.
 * `length`: the characters of the content the key stands for (the cache's size estimates).
 */
function snapshotKey(
  snapshot: Snapshot,
  lines: (l: readonly string[]) => { hash: string; chars: number },
): { text: string; length: number } {
  let key = "";
  let length = 0;
  const part = (text: string) => {
    key += `${text.length}|${text}|`;
  };
  for (const f of snapshot.linux ?? []) {
    part(`${f.family}/${f.backend}/${f.chains.length}`);
    for (const c of f.chains) {
      part(c.name);
      if (c.lines === null) part("-");
      else {
        const l = lines(c.lines);
        part(`+${l.hash}`);
        length += l.chars;
      }
    }
    // Absent and empty differ ("-" / "+…"): equal keys mean equal content (see intern).
    part(f.unread === undefined ? "-" : `+${f.unread.join(" ")}`);
    part(f.unreadNote === undefined ? "-" : `+${f.unreadNote}`);
    part(f.readError === undefined ? "-" : `+${f.readError}`);
  }
  part(snapshot.linux === undefined ? "-" : "+");
  // A native nftables node: its whole read (ruleset, unread chains, read error).
  part(snapshot.nftables ? JSON.stringify(snapshot.nftables) : "");
  return { text: key, length: length + key.length };
}

/**
 * A chain's lines as keyed, each length-prefixed: joined by "\n", a line holding a newline
 * (the schema allows one) would read as two, and another node's rules share the key.
 */
function linesKey(lines: readonly string[]): string {
  let k = `${lines.length}`;
  for (const l of lines) k += `|${l.length}|${l}`;
  return k;
}

/** Default budget of the assessment cache. */
export const ASSESSMENT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Estimated heap of one cached Linux assessment, from the length of the snapshot text it
 * judged: measured 12–23 bytes per character (10 to 3,000 rules, parsed rules and analysis),
 * plus the desired side and the entry itself.
 */
export function assessmentBytes(snapshotKeyLength: number): number {
  return 24 * snapshotKeyLength + 8 * 1024;
}

/** Budget of rule texts kept for sharing (estimated bytes). */
const SHARED_RULES_BYTES = 8 * 1024 * 1024;

export class Assessor {
  /** desired+flags key, then a hash of the snapshot key → assessment. */
  private readonly cache: ByteLru<NodeAssessment>;
  /** Each reporter's flags object → a short id of its serialization (same flags, same id). */
  private readonly flagKeys = new WeakMap<AgentFlags, number>();
  private readonly flagIds = new Map<string, number>();
  /** Snapshot key text → its hash, for the newest few: a fleet's nodes mostly send the same. */
  private readonly hashes = new Map<string, string>();
  /** Content hash → the first snapshot seen with it, whose rules later ones share. */
  private readonly rules = new ByteLru<Snapshot>(SHARED_RULES_BYTES);
  /** The canonical snapshot the last intern returned the rules of. */
  private lastCanon: Snapshot | undefined;
  /**
   * What judging many nodes shares (chains parsed once per distinct text, the desired chain
   * once per revision): nodes whose rules are each their own still miss `cache` on every push.
   */
  private readonly shared = new AssessCache();
  /**
   * Keys built once (re-judging every node on a new config reuses them), by the rules array
   * when the key depends on it alone (no nftables part: every snapshot sharing one `linux`
   * array, as interned or resolved by digest, shares one entry), else by the snapshot.
   */
  private readonly snapshotKeys = new WeakMap<object, { hash: string; length: number }>();
  /** Each chain's lines array → the hash of its key (rules are never mutated once received). */
  private readonly linesHashes = new WeakMap<readonly string[], { hash: string; chars: number }>();
  private readonly linesHash = (lines: readonly string[]) => {
    let h = this.linesHashes.get(lines);
    if (h === undefined) {
      const text = linesKey(lines);
      h = { hash: sha256(text, "base64url"), chars: text.length };
      this.linesHashes.set(lines, h);
    }
    return h;
  };

  constructor(
    private readonly windows: WindowsAssessor = assessWindowsNode,
    maxBytes = ASSESSMENT_CACHE_BYTES,
  ) {
    this.cache = new ByteLru(maxBytes);
  }

  /** Estimated bytes the cache holds. */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  /** A short key for a flags object: equal flags (by serialization) get the same id. */
  private flagsId(flags: AgentFlags): string {
    const known = this.flagKeys.get(flags);
    if (known !== undefined) return `f${known}`;
    const text = JSON.stringify(flags);
    let id = this.flagIds.get(text);
    if (id === undefined) {
      if (this.flagIds.size >= MAX_FLAG_IDS) return text; // unbounded variety: the text itself
      id = this.flagIds.size;
      this.flagIds.set(text, id);
    }
    this.flagKeys.set(flags, id);
    return `f${id}`;
  }

  /** sha256 of a snapshot key, remembered for the newest few texts of ordinary size. */
  private hashOf(text: string): string {
    const known = this.hashes.get(text);
    if (known !== undefined) return known;
    const hash = sha256(text, "base64url");
    if (text.length <= MAX_HASHED_CHARS) {
      if (this.hashes.size >= MAX_HASHES) this.hashes.delete(this.hashes.keys().next().value!);
      this.hashes.set(text, hash);
    }
    return hash;
  }

  /** The snapshot's content key: hashed once per snapshot object. */
  private keyOf(snapshot: Snapshot): { hash: string; length: number } {
    const owner = keyOwner(snapshot);
    let snap = this.snapshotKeys.get(owner);
    if (snap === undefined) {
      // Keyed by a hash: the key text is as long as the snapshot, and kept per cache entry.
      const key = snapshotKey(snapshot, this.linesHash);
      snap = { hash: this.hashOf(key.text), length: key.length };
      this.snapshotKeys.set(owner, snap);
    }
    return snap;
  }

  /**
   * The snapshot with its rules (`linux`, `nftables`) shared with an earlier snapshot of the
   * same content, from any node: a fleet's nodes mostly hold the same chains, so each node
   * keeps its own small fields and one copy of the rules is kept for all. Rules are never
   * mutated once received. Windows snapshots are returned as they are.
   */
  intern(snapshot: Snapshot): Snapshot {
    if (snapshot.windows) return snapshot;
    // The common case first: the same rules as the last snapshot interned (any node's).
    const last = this.lastCanon;
    const canon =
      last && sameRules(last, snapshot) ? last : this.rules.get(this.keyOf(snapshot).hash);
    if (!canon) {
      const snap = this.keyOf(snapshot);
      this.rules.set(snap.hash, snapshot, 2 * snap.length + 256);
      this.lastCanon = snapshot;
      return snapshot;
    }
    this.lastCanon = canon;
    // Already holding the shared rules (resolved by digest, or validated once): nothing to copy.
    if (canon.linux === snapshot.linux && canon.nftables === snapshot.nftables) return snapshot;
    const shared: Snapshot = { ...snapshot };
    if (canon.linux !== undefined) shared.linux = canon.linux;
    if (canon.nftables !== undefined) shared.nftables = canon.nftables;
    this.snapshotKeys.set(keyOwner(shared), this.keyOf(canon));
    return shared;
  }

  assess(desired: Desired, flags: AgentFlags, snapshot: Snapshot): NodeAssessment {
    if (snapshot.windows && !snapshot.linux) return this.windows(desired.config, snapshot.windows);
    const flagsKey = this.flagsId(flags);
    const snap = this.keyOf(snapshot);
    const key = `${desired.revision}|${desired.resourceVersion}|${flagsKey}|${snap.hash}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const result = assessOnce(desired.config, flags, snapshot, this.shared);
    this.cache.set(key, result, assessmentBytes(snap.length));
    return result;
  }
}

/**
 * What a snapshot's key is remembered by: its rules array when the key (snapshotKey) depends
 * on nothing else, the snapshot otherwise. Rules are never mutated once received.
 */
function keyOwner(snapshot: Snapshot): object {
  return snapshot.nftables === undefined && snapshot.linux !== undefined
    ? snapshot.linux
    : snapshot;
}

/** Distinct flag sets remembered by id (a fleet has a handful; more are not interned). */
const MAX_FLAG_IDS = 1024;
/** Snapshot key texts whose hash is remembered, and the longest one remembered. */
const MAX_HASHES = 64;
const MAX_HASHED_CHARS = 64 * 1024;

/**
 * A native nftables node: the shared assessNft and its node page. `families` keep the desired
 * chain of each family (the tester's desired verdict) beside the agent's base chain analysis.
 */
function assessNftNode(config: MasqConfig, flags: AgentFlags, snapshot: Snapshot): NodeAssessment {
  const a = assessNft(config, flags, snapshot.nftables, snapshot.linux ?? []);
  const statements = desiredNftTable(config, flags).rules.map((r) => r.statement);
  return {
    report: a.report,
    desired: familiesFor(flags).map((family) => ({ family, lines: statements })),
    families: a.families.map((fa) => ({
      desired: desiredChain(config, flags, fa.family),
      differences: a.differences.filter((d) => d.scope === fa.family),
      unread: a.unread.map((u) => `${u.family} ${u.table} ${u.chain}`),
    })),
    nft: {
      assessment: a,
      view: nftNodeView(a, config, flags, snapshot.nftables),
      desired: (family) => desiredNftAnalysis(config, flags, family),
    },
  };
}

function assessOnce(
  config: MasqConfig,
  flags: AgentFlags,
  snapshot: Snapshot,
  shared: AssessCache,
): NodeAssessment {
  try {
    if (snapshot.nftables) return assessNftNode(config, flags, snapshot);
    const linux = snapshot.linux ?? [];
    const a = assessLinux(config, flags, linux, shared);
    return {
      report: a.report,
      desired: a.families.map((f) => ({
        family: f.desired.family,
        lines: desiredLines(f.desired),
      })),
      // The path analysis is left out (JudgedFamily): evaluate rebuilds it from the snapshot.
      families: a.families.map(({ observed: _, ...judged }) => judged),
      analyzed: () => assessLinux(config, flags, linux, shared).families,
    };
  } catch (e) {
    // e.g. a reporter's --to-ports flag that does not parse: the node cannot be judged.
    return {
      report: driftReport([]),
      desired: [],
      families: [],
      unknown: { reason: `cannot judge this node: ${(e as Error).message}`, error: true },
    };
  }
}
