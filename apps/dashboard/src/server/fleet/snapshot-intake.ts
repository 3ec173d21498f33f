// How reporters' snapshots reach the fleet state without letting one node take the server.
// Judging a snapshot costs time in proportion to its rules (~30 ms for a 3,000-rule chain, well
// under a millisecond for an ordinary one). Ordinary snapshots go straight through. After a
// large one, its node waits in proportion to its size: at most `charsPerSecond` (256 KiB/s)
// of rule text per node, about 6 % of a core however fast it sends (measured: 131 KB of rules
// takes ~30 ms), and large snapshots of all nodes together bring at most `totalCharsPerSecond`
// (512 KiB/s), so many flooding nodes share one budget. Size, not measured time, decides, so
// the pace does not depend on how loaded the machine is. Snapshots that arrive while a node
// waits replace each other: only the newest is judged (the older ones are out of date anyway).
// Waiting snapshots are judged in slices of at most `sliceMs`, so the event loop keeps serving
// probes, the API and other reporters.
import { performance } from "node:perf_hooks";
import type { FamilySnapshot, Snapshot } from "@masq/shared";

export interface IntakeOptions {
  /** Rule text (characters) per second one node's large snapshots may bring. */
  charsPerSecond?: number;
  /** Rule text per second all nodes' large snapshots may bring together. */
  totalCharsPerSecond?: number;
  /** Snapshots smaller than this (characters of rule text) never make their node wait. */
  smallChars?: number;
  /** Longest stretch of deferred assessments in one event-loop turn. */
  sliceMs?: number;
  /** Monotonic clock in ms (tests drive it). */
  clock?: () => number;
  /** Called when a waiting snapshot is replaced by a newer one. */
  onCoalesced?: () => void;
}

export class SnapshotIntake {
  /** Node → earliest time its next snapshot may be judged. */
  private readonly readyAt = new Map<string, number>();
  /** Earliest time any large snapshot may be judged (the budget all nodes share). */
  private sharedReadyAt = 0;
  /** Waiting snapshots, newest per node, in order of first arrival. */
  private readonly waiting = new Map<string, { snapshot: Snapshot; size: number }>();
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private closed = false;
  private readonly charsPerMs: number;
  private readonly totalCharsPerMs: number;
  private readonly smallChars: number;
  private readonly sliceMs: number;
  private readonly clock: () => number;
  private readonly onCoalesced: (() => void) | undefined;
  /** Snapshots replaced by a newer one before they were judged. */
  coalesced = 0;

  constructor(
    private readonly judge: (node: string, snapshot: Snapshot) => void,
    o: IntakeOptions = {},
  ) {
    this.charsPerMs = (o.charsPerSecond ?? 256 * 1024) / 1000;
    this.totalCharsPerMs = (o.totalCharsPerSecond ?? 512 * 1024) / 1000;
    this.smallChars = o.smallChars ?? 16 * 1024;
    this.sliceMs = o.sliceMs ?? 8;
    this.clock = o.clock ?? (() => performance.now());
    this.onCoalesced = o.onCoalesced;
  }

  /** A snapshot from `node`: judged now, or kept (replacing an older one) until its turn. */
  offer(node: string, snapshot: Snapshot): void {
    if (this.closed) return;
    const size = snapshotChars(snapshot);
    if (!this.waiting.has(node) && this.clock() >= this.turnOf(node, size)) {
      this.run(node, snapshot, size);
      return;
    }
    if (this.waiting.has(node)) {
      this.coalesced++;
      this.onCoalesced?.();
    }
    this.waiting.set(node, { snapshot, size });
    this.schedule();
  }

  /** The node is forgotten: drop what waits for it. */
  drop(node: string): void {
    this.waiting.delete(node);
    this.readyAt.delete(node);
  }

  /** The node's waiting snapshot is out of date (a newer one came another way): drop it. */
  discard(node: string): void {
    this.waiting.delete(node);
  }

  /** A snapshot of `node` waits its turn (not judged yet). */
  waits(node: string): boolean {
    return this.waiting.has(node);
  }

  get pending(): number {
    return this.waiting.size;
  }

  close(): void {
    this.closed = true;
    this.waiting.clear();
    clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
  }

  /** When a snapshot of `size` from `node` may be judged. */
  private turnOf(node: string, size: number): number {
    const own = this.readyAt.get(node) ?? 0;
    return size < this.smallChars ? own : Math.max(own, this.sharedReadyAt);
  }

  private run(node: string, snapshot: Snapshot, size: number): void {
    this.judge(node, snapshot);
    const now = this.clock();
    if (size < this.smallChars) {
      this.readyAt.set(node, now);
      return;
    }
    this.readyAt.set(node, now + size / this.charsPerMs);
    this.sharedReadyAt = Math.max(this.sharedReadyAt, now) + size / this.totalCharsPerMs;
  }

  /** Judges waiting snapshots whose node may go, for at most one slice; then reschedules. */
  private drain(): void {
    this.timer = this.immediate = undefined;
    const start = this.clock();
    for (const [node, { snapshot, size }] of this.waiting) {
      if (this.clock() - start >= this.sliceMs) break;
      if (this.clock() < this.turnOf(node, size)) continue;
      this.waiting.delete(node);
      this.run(node, snapshot, size);
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.waiting.size === 0 || this.timer || this.immediate) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const [node, { size }] of this.waiting)
      earliest = Math.min(earliest, this.turnOf(node, size));
    const delay = earliest - this.clock();
    if (delay <= 0) this.immediate = setImmediate(() => this.drain());
    else this.timer = setTimeout(() => this.drain(), Math.ceil(delay));
  }
}

/**
 * Characters of rules arrays already counted: a push brings thousands of snapshots sharing one
 * array (resolved by digest or validated once), and rules are never mutated once received.
 */
const linuxChars = new WeakMap<FamilySnapshot[], number>();

/** Characters of rule text a snapshot brings to judge (every chain read, exception lists). */
export function snapshotChars(s: Snapshot): number {
  let n = s.linux === undefined ? 0 : linuxCharsOf(s.linux);
  for (const list of s.windows?.lists ?? []) for (const e of list.exceptions) n += e.length + 1;
  return n;
}

function linuxCharsOf(linux: FamilySnapshot[]): number {
  const known = linuxChars.get(linux);
  if (known !== undefined) return known;
  let n = 0;
  for (const f of linux) for (const c of f.chains) for (const l of c.lines ?? []) n += l.length + 1;
  linuxChars.set(linux, n);
  return n;
}
