// What the link writes on one connection, as its handshake granted (protocol-capabilities.ts):
// `chain-digests` — each chain of a snapshot's `linux` rules goes by its own digest, and
// `snapshot-digests` — the whole `linux` part by one digest; either way the whole snapshot is
// kept for a `snapshot-request`. A snapshot naming a digest the dashboard was not shown on this
// connection (a hand edit: nobody's digest) goes whole at once, the digests beside, so the node
// goes straight to its true state, never "unknown" while the dashboard asks for the rules. From
// a `desired` until its apply-result the agent writes its chain (the hello's masqChain), which
// the dashboard renders for that revision: a new agent chain then goes by digest, but any other
// new chain (a hand edit or another writer meanwhile) still sends the snapshot whole.
// `apply-result-snapshot` — a snapshot sent in the same event-loop turn as an apply-result (the
// agent reports the read-back rules, then the result) rides inside it, one frame instead of
// two. Without a grant every message goes as it is, as to the previous release's dashboard.
import { sha256 } from "@masq/node-util";
import {
  type ChainSnapshot,
  chainDigest,
  type FamilySnapshot,
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

export class Outbox {
  private grants: Grants = { digests: false, chains: false, fold: false };
  /** The latest snapshot sent (whole, its digest beside its rules): what a `snapshot-request` gets. */
  private lastWhole: Snapshot | undefined;
  /**
   * A snapshot waiting for the end of this turn, for an apply-result to carry; `whole`: it
   * with its rules, written instead should it go alone (it names a digest not shown).
   */
  private held: { ws: WebSocket; text: string; whole: Snapshot | undefined } | undefined;
  /**
   * The digests (of each chain, or of the whole part) of the last snapshot written on this
   * connection, which the dashboard holds as that connection's last once it resolved them
   * (undefined: none written yet; the first goes by digest, which a dashboard restarted or
   * reconnected to finds in its shared cache for most nodes).
   */
  private shown: Set<string> | undefined;
  /** The rules of the last snapshot written on this connection (what `shown` digests). */
  private shownLinux: FamilySnapshot[] | undefined;
  /** Set by byDigest: the snapshot named a digest outside `shown` the dashboard cannot hold. */
  private unshown = false;
  /** From a `desired` until its apply-result: the chain the agent writes (a new one is its). */
  private writing: string | undefined;
  /** The hello's masqChain when it said enforce (observe mode applies no `desired`). */
  private agentChain: string | undefined;

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
    this.lastWhole = undefined;
    this.held = undefined;
    this.shown = undefined;
    this.shownLinux = undefined;
    this.writing = undefined;
  }

  /** The dashboard sent a desired config: the agent writes its chain, then sends its result. */
  desired(): void {
    this.writing = this.agentChain;
  }

  /** Writes `msg` on `ws` (a snapshot perhaps at the end of this turn); false when dropped. */
  send(ws: WebSocket, msg: ReporterMessage): boolean {
    const text = this.encode(this.byDigest(msg));
    if (text === undefined) return false;
    const whole = this.unshown ? this.lastWhole : undefined;
    this.unshown = false;
    if (msg.type === "apply-result") this.writing = undefined;
    else if (msg.type === "hello")
      this.agentChain = msg.mode === "enforce" ? msg.flags.masqChain : undefined;
    if (this.grants.fold && msg.type === "snapshot") {
      this.flush();
      this.held = { ws, text, whole };
      queueMicrotask(() => this.flush());
      return true;
    }
    const held = this.held;
    // One that must go whole goes alone, before the result (folded, it would go by digest).
    const foldable = held && held.ws === ws && !held.whole;
    if (foldable && msg.type === "apply-result" && fits(held.text, text)) {
      this.held = undefined;
      return this.write(ws, `${text.slice(0, -1)},"snapshot":${held.text}}`);
    }
    this.flush();
    return this.write(ws, (whole && this.wholeText(whole)) ?? text);
  }

  /**
   * The dashboard does not hold our rules: the latest snapshot goes whole. Per chain, when the
   * digests beside the rules would not fit one frame, the rules go alone (the dashboard keeps
   * them under digests it computes).
   */
  answerRequest(ws: WebSocket | undefined): void {
    const whole = this.grants.digests || this.grants.chains ? this.lastWhole : undefined;
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

  /** Where granted, a snapshot's rules by digest (the whole kept); anything else as it is. */
  private byDigest(msg: ReporterMessage): ReporterMessage {
    if (!(this.grants.digests || this.grants.chains) || msg.type !== "snapshot") return msg;
    // A request that crossed a snapshot without rules to name gets that one, never an older
    // one the dashboard would take for the node's current state (break8).
    if (!msg.linux) {
      this.lastWhole = msg;
      return msg;
    }
    const { linux, ...rest } = msg;
    if (this.grants.chains) {
      const linuxChains = linuxChainDigests(linux, digestOfChain);
      this.lastWhole = { ...msg, linuxChains };
      this.show(
        linux,
        linuxChains.flatMap((f) => f.chains.map((c) => c.digest)),
      );
      return { ...rest, linuxChains };
    }
    const digest = linuxDigest(linux);
    this.lastWhole = { ...msg, linuxDigest: digest };
    this.show(linux, [digest]);
    return { ...rest, linuxDigest: digest };
  }

  /**
   * Records a snapshot's digests as shown; `unshown` when any was not before, unless the only
   * chains new since the last are the one the agent is writing (the dashboard renders it).
   */
  private show(linux: FamilySnapshot[], digests: readonly string[]): void {
    const before = this.shown;
    const beforeLinux = this.shownLinux;
    this.shown = new Set(digests);
    this.shownLinux = linux;
    if (before === undefined || beforeLinux === undefined) return;
    this.unshown =
      digests.some((d) => !before.has(d)) &&
      (this.writing === undefined || newChainBesides(beforeLinux, linux, this.writing));
  }

  /** A held snapshot no apply-result took goes alone: whole when it names a digest not shown. */
  private flush(): void {
    const h = this.held;
    this.held = undefined;
    if (h) this.write(h.ws, (h.whole && this.wholeText(h.whole)) ?? h.text);
  }

  private write(ws: WebSocket, text: string): boolean {
    ws.send(text);
    this.sent();
    return true;
  }
}

/**
 * Whether `next` holds a chain not named `writing` that `before` did not (by name and lines,
 * what a chain's digest covers, in any family as the dashboard resolves digests).
 */
export function newChainBesides(
  before: readonly FamilySnapshot[],
  next: readonly FamilySnapshot[],
  writing: string,
): boolean {
  const held = new Map<string, (string[] | null)[]>();
  for (const f of before)
    for (const c of f.chains) held.set(c.name, [...(held.get(c.name) ?? []), c.lines]);
  return next.some((f) =>
    f.chains.some(
      (c) => c.name !== writing && !held.get(c.name)?.some((l) => sameLines(l, c.lines)),
    ),
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
