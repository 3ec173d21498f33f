// What the link writes on one connection, as its handshake granted (protocol-capabilities.ts):
// `chain-digests` — each chain of a snapshot's `linux` rules goes by its own digest, and
// `snapshot-digests` — the whole `linux` part by one digest; either way the whole snapshot is
// kept for a `snapshot-request`. A snapshot naming a digest the dashboard was not shown on this
// connection (a hand edit: nobody's digest) goes whole at once, the digests beside, so the node
// goes straight to its true state, never "unknown" while the dashboard asks for the rules. From
// a `desired` until the apply-result of its revision the agent writes its chain, which the
// dashboard renders for that revision (shared desired-chains.ts): a new chain then goes by
// digest only when it is exactly one rendered so; anything else (a hand edit of any chain, the
// agent's own included, another writer, an apply of another revision) sends the snapshot whole.
// Digests count as shown only once their frame was written: one that could not be encoded or
// sent was never shown.
// `digest-history` — "shown" is the digests of the last DIGEST_HISTORY_SNAPSHOTS distinct
// snapshots written on the connection (their digest sets; one written again moves up to the
// newest, a new one drops the least recently written past the bound), not only the last one's:
// a node toggled back to a recent state (a hand edit, then its heal) goes by digest. The
// dashboard keeps the rules of the same snapshots by the same rule, counted over those it
// resolved (chain-digests.ts, snapshot-digests.ts), so it holds every digest believed shown
// but one kind: a snapshot that went by digest and that it could not resolve (the first on a
// connection, a rendered chain it renders otherwise). It then asks for it (`snapshot-request`),
// and answering, the reporter forgets all it believes shown but the snapshot it answers with,
// which the dashboard then holds. A request it did not send (once per 5 s) leaves a mismatch
// that costs an "unknown" and a request later, never a wrong answer: the dashboard judges only
// rules it holds. Without the grant (an earlier dashboard) one snapshot counts, as before.
// `apply-result-snapshot` — a snapshot sent in the same event-loop turn as an apply-result (the
// agent reports the read-back rules, then the result) rides inside it, one frame instead of
// two. Without a grant every message goes as it is, as to the previous release's dashboard.
import { sha256 } from "@masq/node-util";
import {
  type ChainSnapshot,
  chainDigest,
  type Desired,
  DesiredChains,
  DIGEST_HISTORY_SNAPSHOTS,
  type FamilySnapshot,
  type Hello,
  linuxChainDigests,
  linuxRulesDigest,
  MAX_FRAME_BYTES,
  type ReporterMessage,
  type Snapshot,
} from "@masq/shared";
import type WebSocket from "ws";

export interface Grants {
  /** `snapshot-digests`: the whole `linux` part by one digest. */
  digests: boolean;
  /** `chain-digests`: each chain by its own digest. */
  chains: boolean;
  fold: boolean;
  /** `unheard-heals`: the heals made while no dashboard heard may be sent (absent: not granted). */
  heals?: boolean;
  /** `digest-history`: the last few snapshots' digests count as shown (absent: not granted). */
  history?: boolean;
}

/** Digests of `linux` parts already hashed (a reader that reuses its objects hashes once). */
const digestOf = new WeakMap<FamilySnapshot[], string>();

function linuxDigest(linux: FamilySnapshot[]): string {
  let d = digestOf.get(linux);
  if (d === undefined) {
    d = linuxRulesDigest(linux, (t) => sha256(t));
    digestOf.set(linux, d);
  }
  return d;
}

/** Digests of chains already hashed (a reader reuses the objects of unchanged chains). */
const chainDigestOf = new WeakMap<ChainSnapshot, string>();

function digestOfChain(c: ChainSnapshot): string {
  let d = chainDigestOf.get(c);
  if (d === undefined) {
    d = chainDigest(c, (t) => sha256(t));
    chainDigestOf.set(c, d);
  }
  return d;
}

/** Agent chains rendered per desired revision and flags (one rendering for every connection). */
const rendered = new DesiredChains();

/** Digests the dashboard holds for this connection, and the rules they name. */
interface Shown {
  digests: Set<string>;
  linux: FamilySnapshot[];
}

/** The same digests (a snapshot written again: one entry of the history, moved up). */
function sameDigests(a: Shown, b: Shown): boolean {
  if (a.digests.size !== b.digests.size) return false;
  for (const d of a.digests) if (!b.digests.has(d)) return false;
  return true;
}

/** What writing a snapshot's frame makes true: the latest whole, the digests shown. */
interface Commit {
  whole: Snapshot;
  shown?: Shown;
}

/** A message as it goes; `unshown`: it names a digest the dashboard cannot hold. */
interface Prepared {
  msg: ReporterMessage;
  commit?: Commit;
  unshown: boolean;
}

export class Outbox {
  private grants: Grants = {
    digests: false,
    chains: false,
    fold: false,
    heals: false,
    history: false,
  };
  /**
   * The latest snapshot written (whole, its digests beside its rules): what a
   * `snapshot-request` gets, and what it shows.
   */
  private last: Commit | undefined;
  /**
   * A snapshot waiting for the end of this turn, for an apply-result to carry; `whole`: it
   * with its rules, written instead should it go alone (it names a digest not shown).
   */
  private held:
    | { ws: WebSocket; text: string; whole: Snapshot | undefined; commit: Commit | undefined }
    | undefined;
  /**
   * The digests (of each chain, or of the whole part) of the last distinct snapshots written
   * on this connection, the newest last: one, or DIGEST_HISTORY_SNAPSHOTS where
   * `digest-history` was granted. The dashboard holds them as that connection's once it
   * resolved them (undefined: none written yet; the first goes by digest, which a dashboard
   * restarted or reconnected to finds in its shared cache for most nodes; empty: none believed
   * held after a request).
   */
  private shown: Shown[] | undefined;
  /** From a `desired` until the apply-result of its revision: the agent chains it renders. */
  private writing: { revision: number; chains: readonly ChainSnapshot[] } | undefined;
  /** The hello when it said enforce (observe mode applies no `desired`). */
  private agent: Hello | undefined;

  /**
   * @param encode a message's frame text (validated, in the dashboard's field names), or
   *   undefined when it must not be sent (logged by it)
   * @param sent counts a frame written
   */
  constructor(
    private readonly encode: (msg: ReporterMessage) => string | undefined,
    private readonly sent: () => void,
  ) {}

  /** A new connection: what its handshake granted; nothing sent or held on it yet. */
  opened(grants: Grants): void {
    this.grants = grants;
    this.last = undefined;
    this.held = undefined;
    this.shown = undefined;
    this.writing = undefined;
  }

  /** The dashboard sent a desired config: the agent writes its chains, then sends its result. */
  desired(msg: Desired): void {
    const agent = this.agent;
    this.writing = agent && { revision: msg.revision, chains: rendered.ofNode(msg, agent) };
  }

  /** Writes `msg` on `ws` (a snapshot perhaps at the end of this turn); false when dropped. */
  send(ws: WebSocket, msg: ReporterMessage): boolean {
    // A message a dashboard did not grant is one it cannot read: never sent (the caller keeps it).
    if (msg.type === "unheard-heals" && !this.grants.heals) return false;
    this.note(msg);
    // A snapshot is judged against what the dashboard was shown, a held one included.
    if (msg.type === "snapshot") this.flush();
    const p = this.byDigest(msg);
    const text = this.encode(p.msg);
    if (text === undefined) return false;
    const whole = p.unshown ? p.commit?.whole : undefined;
    if (this.grants.fold && msg.type === "snapshot") {
      this.held = { ws, text, whole, commit: p.commit };
      queueMicrotask(() => this.flush());
      return true;
    }
    const held = this.held;
    // One that must go whole goes alone, before the result (folded, it would go by digest).
    const foldable = held && held.ws === ws && !held.whole;
    if (foldable && msg.type === "apply-result" && fits(held.text, text)) {
      this.held = undefined;
      return this.write(ws, `${text.slice(0, -1)},"snapshot":${held.text}}`, held.commit);
    }
    this.flush();
    return this.write(ws, (whole && this.wholeText(whole)) ?? text, p.commit);
  }

  /**
   * What a message says of the agent, whether or not its frame goes: the hello its mode and
   * flags, the apply-result of the desired revision the end of its writing.
   */
  private note(msg: ReporterMessage): void {
    if (msg.type === "hello") this.agent = msg.mode === "enforce" ? msg : undefined;
    else if (msg.type === "apply-result" && msg.revision === this.writing?.revision)
      this.writing = undefined;
  }

  /**
   * The dashboard does not hold our rules: the latest snapshot goes whole. Per chain, when the
   * digests beside the rules would not fit one frame, the rules go alone (the dashboard keeps
   * them under digests it computes).
   */
  answerRequest(ws: WebSocket | undefined): void {
    const whole = this.grants.digests || this.grants.chains ? this.last?.whole : undefined;
    // It could not resolve a snapshot it was sent by digest: of what it was shown, it holds
    // for sure only the one answered now (history kept only where granted, so one anyway).
    if (whole && this.grants.history) this.shown = this.last?.shown ? [this.last.shown] : [];
    const text = whole && this.wholeText(whole);
    if (ws && text !== undefined) this.write(ws, text);
  }

  /** A snapshot's text with its rules (per chain, alone when the digests do not fit). */
  private wholeText(whole: Snapshot): string | undefined {
    const text = this.encode(whole);
    if (text !== undefined || !this.grants.chains) return text;
    const { linuxChains: _, ...alone } = whole;
    return this.encode(alone);
  }

  /**
   * Where granted, a snapshot's rules by digest, with what writing it commits (the whole kept
   * for a request); anything else as it is. Changes nothing itself.
   */
  private byDigest(msg: ReporterMessage): Prepared {
    if (!(this.grants.digests || this.grants.chains) || msg.type !== "snapshot")
      return { msg, unshown: false };
    // A request that crossed a snapshot without rules to name gets that one, never an older
    // one the dashboard would take for the node's current state (break8).
    if (!msg.linux) return { msg, commit: { whole: msg }, unshown: false };
    const { linux, ...rest } = msg;
    if (this.grants.chains) {
      const linuxChains = linuxChainDigests(linux, digestOfChain);
      const digests = linuxChains.flatMap((f) => f.chains.map((c) => c.digest));
      const shown = { digests: new Set(digests), linux };
      const commit = { whole: { ...msg, linuxChains }, shown };
      return { msg: { ...rest, linuxChains }, commit, unshown: this.unshown(shown) };
    }
    const digest = linuxDigest(linux);
    const shown = { digests: new Set([digest]), linux };
    const commit = { whole: { ...msg, linuxDigest: digest }, shown };
    return { msg: { ...rest, linuxDigest: digest }, commit, unshown: this.unshown(shown) };
  }

  /**
   * Whether `next` names a digest not shown that the dashboard cannot hold: not when the only
   * chains new since the last written are exactly those the agent's writing renders.
   */
  private unshown(next: Shown): boolean {
    const before = this.shown;
    if (before === undefined) return false;
    // The whole part resolves only as a whole: chains shown in different snapshots make no part
    // the dashboard holds, so there only the newest one's chains count, as before the history.
    const chains = this.grants.chains ? before : before.slice(-1);
    for (const d of next.digests)
      if (!before.some((b) => b.digests.has(d)))
        return newChainBesides(
          chains.flatMap((b) => b.linux),
          next.linux,
          this.writing?.chains ?? [],
        );
    return false;
  }

  /** `next` written: the newest of what was shown, the least recently written past the bound. */
  private remember(next: Shown): void {
    const keep = this.grants.history ? DIGEST_HISTORY_SNAPSHOTS : 1;
    const newest = this.shown?.at(-1);
    // The same rules again (most snapshots): nothing moves.
    if (this.shown && newest && sameDigests(newest, next)) {
      this.shown[this.shown.length - 1] = next;
      return;
    }
    const shown = (this.shown ?? []).filter((b) => !sameDigests(b, next));
    shown.push(next);
    this.shown = shown.slice(-keep);
  }

  /** A held snapshot no apply-result took goes alone: whole when it names a digest not shown. */
  private flush(): void {
    const h = this.held;
    this.held = undefined;
    if (h) this.write(h.ws, (h.whole && this.wholeText(h.whole)) ?? h.text, h.commit);
  }

  /** Writes a frame on an open socket; what it commits holds only once it was written. */
  private write(ws: WebSocket, text: string, commit?: Commit): boolean {
    if (ws.readyState !== ws.OPEN) return false;
    ws.send(text);
    this.sent();
    if (commit) {
      this.last = commit;
      if (commit.shown) this.remember(commit.shown);
    }
    return true;
  }
}

/**
 * Whether `next` holds a chain that `before` did not and that is none of `rendered` (by name
 * and lines, what a chain's digest covers, in any family as the dashboard resolves digests).
 */
export function newChainBesides(
  before: readonly FamilySnapshot[],
  next: readonly FamilySnapshot[],
  rendered: readonly ChainSnapshot[],
): boolean {
  const held = new Map<string, (string[] | null)[]>();
  for (const c of [...before.flatMap((f) => f.chains), ...rendered])
    held.set(c.name, [...(held.get(c.name) ?? []), c.lines]);
  return next.some((f) =>
    f.chains.some((c) => !held.get(c.name)?.some((l) => sameLines(l, c.lines))),
  );
}

/** The same lines, or both null (the chain does not exist). */
function sameLines(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === b) return true;
  return a !== null && b !== null && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Both frames' texts fit one frame together (the key and comma added). */
function fits(snapshot: string, result: string): boolean {
  return Buffer.byteLength(snapshot) + Buffer.byteLength(result) + 16 <= MAX_FRAME_BYTES;
}
