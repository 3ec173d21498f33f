// The chains a packet may pass in nat POSTROUTING: POSTROUTING, then breadth-first every chain
// a rule jumps or goes to (target extensions are not chains), then the agent chain even when
// nothing reaches it. Bounded in count, depth, lines and bytes (a snapshot must fit in one
// frame); room for the agent chain is kept. What a bound (or a read problem) leaves out is
// named as unread with the reason. Never the whole table.
import {
  type ChainSnapshot,
  chainTargets,
  MAX_CHAIN_LINES,
  MAX_FRAME_BYTES,
  MAX_SNAPSHOT_CHAINS,
  MAX_SNAPSHOT_LINES,
  POSTROUTING,
} from "@masq/shared";
import type { ChainLister } from "./list.js";
import type { ChainRead } from "./read.js";

/** Jumps followed from POSTROUTING (the nf_tables jump stack holds 16). */
export const MAX_WALK_DEPTH = 16;
/**
 * Rule text all family snapshots of one message may carry together: three quarters of a frame,
 * the rest for JSON quoting and the envelope. A walk gets its share.
 */
export const SNAPSHOT_TEXT_BYTES = Math.floor((MAX_FRAME_BYTES * 3) / 4);

export interface WalkBounds {
  maxChains: number;
  maxDepth: number;
  /** Lines of one chain, and of all chains together. */
  maxChainLines: number;
  maxTotalLines: number;
  /** Bytes of rule text of all chains together (each line counted with 4 for its JSON quoting). */
  maxTotalBytes: number;
}

export const DEFAULT_WALK_BOUNDS: WalkBounds = {
  maxChains: MAX_SNAPSHOT_CHAINS,
  maxDepth: MAX_WALK_DEPTH,
  maxChainLines: MAX_CHAIN_LINES,
  maxTotalLines: MAX_SNAPSHOT_LINES,
  maxTotalBytes: SNAPSHOT_TEXT_BYTES,
};

export interface WalkInput {
  list: ChainLister;
  agentChain: string;
  /** Chains the last walk read: listed with POSTROUTING, so a steady node takes one round. */
  prefetch?: readonly string[];
  bounds?: Partial<WalkBounds>;
}

export interface Walk {
  /** In snapshot order; lines null: the chain does not exist. */
  chains: ChainSnapshot[];
  /** How the agent chain read: a "missing" answer may need confirming before it is believed. */
  agent: ChainRead;
  /** POSTROUTING or the agent chain could not be read (or was too long): nothing is written blind. */
  problem?: string;
  unread: string[];
  /** Why chains were left out, one reason per kind. */
  notes: string[];
}

interface State {
  b: WalkBounds;
  agent: string;
  reads: Map<string, ChainRead>;
  order: ChainSnapshot[];
  seen: Set<string>;
  unread: string[];
  notes: Set<string>;
  problems: string[];
  /** Lines and bytes taken, and kept for the agent chain until it is taken. */
  lines: number;
  bytes: number;
  kept: { lines: number; bytes: number };
}

const bytesOf = (lines: readonly string[]) => lines.reduce((n, l) => n + l.length + 4, 0);

const own = (s: State, name: string) => name === POSTROUTING || name === s.agent;

/** Leaves a chain out: a problem when the agent needs it, else unread with the reason. */
function leaveOut(s: State, name: string, why: string): string[] {
  if (own(s, name)) s.problems.push(`${name}: ${why}`);
  else {
    s.unread.push(name);
    s.notes.add(`${name}: ${why}`);
  }
  return [];
}

/** Adds one read chain to the snapshot and returns the chains it jumps or goes to. */
function take(s: State, name: string): string[] {
  const r = s.reads.get(name)!;
  if (r.kind === "error") return leaveOut(s, name, r.message);
  if (r.kind === "missing") {
    // A chain something jumps to exists (the kernel refuses jumps to missing chains).
    if (!own(s, name)) return leaveOut(s, name, `iptables cannot list it: ${r.message}`);
    s.order.push({ name, lines: null });
    return [];
  }
  const bytes = bytesOf(r.lines);
  if (name === s.agent) s.kept = { lines: 0, bytes: 0 };
  const lines = Math.min(s.b.maxChainLines, s.b.maxTotalLines - s.lines - s.kept.lines);
  if (r.lines.length > lines) return leaveOut(s, name, `more than ${lines} lines`);
  if (bytes > s.b.maxTotalBytes - s.bytes - s.kept.bytes)
    return leaveOut(s, name, `its rules do not fit in the snapshot (${s.b.maxTotalBytes} bytes)`);
  s.lines += r.lines.length;
  s.bytes += bytes;
  s.order.push({ name, lines: r.lines });
  return chainTargets(r.lines);
}

/** Queues targets for the next level within the bounds; the rest become unread. */
function enqueue(s: State, targets: string[], depth: number, next: string[]): void {
  for (const t of targets) {
    if (s.seen.has(t)) continue;
    s.seen.add(t);
    // One place is kept for the agent chain until something reaches it.
    const room = s.b.maxChains - (s.seen.has(s.agent) ? 0 : 1);
    const deep = depth + 1 > s.b.maxDepth;
    const full = s.order.length + next.length >= room;
    if (!deep && !full) next.push(t);
    else if (t !== s.agent) {
      s.unread.push(t);
      s.notes.add(
        deep
          ? `chains more than ${s.b.maxDepth} jumps from POSTROUTING are not read`
          : `more than ${s.b.maxChains} chains are reachable from POSTROUTING`,
      );
    }
  }
}

async function readMissing(s: State, list: ChainLister, names: readonly string[]): Promise<void> {
  const need = names.filter((n) => !s.reads.has(n));
  if (need.length > 0) for (const [n, r] of await list(need)) s.reads.set(n, r);
}

/** Reads the POSTROUTING path of one table (see the file comment). */
export async function walkChains(input: WalkInput): Promise<Walk> {
  const agent = input.agentChain;
  const s: State = {
    b: { ...DEFAULT_WALK_BOUNDS, ...input.bounds },
    agent,
    reads: new Map(),
    order: [],
    seen: new Set([POSTROUTING]),
    unread: [],
    notes: new Set(),
    problems: [],
    lines: 0,
    bytes: 0,
    kept: { lines: 0, bytes: 0 },
  };
  const prefetch = (input.prefetch ?? []).filter((n) => !own(s, n));
  // The agent chain goes last: when it is missing, the batch before it is complete.
  let wanted = [POSTROUTING, ...prefetch, agent];
  let level = [POSTROUTING];
  for (let depth = 0; level.length > 0; depth++) {
    await readMissing(s, input.list, wanted);
    const agentRead = s.reads.get(agent);
    if (depth === 0 && agentRead?.kind === "ok")
      s.kept = { lines: agentRead.lines.length, bytes: bytesOf(agentRead.lines) };
    const next: string[] = [];
    for (const name of level) enqueue(s, take(s, name), depth, next);
    level = next;
    wanted = next;
  }
  if (
    !s.order.some((c) => c.name === agent) &&
    !s.problems.some((p) => p.startsWith(`${agent}:`))
  ) {
    await readMissing(s, input.list, [agent]);
    take(s, agent);
  }
  return {
    chains: s.order,
    agent: s.reads.get(agent)!,
    ...(s.problems.length > 0 ? { problem: s.problems.join("; ") } : {}),
    unread: s.unread,
    notes: [...s.notes],
  };
}
