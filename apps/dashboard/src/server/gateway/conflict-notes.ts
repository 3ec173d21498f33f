// When a node's refused second connection is worth an event in its timeline: at most once per
// interval per node (a reporter retrying every second must not flood it), the nodes remembered
// bounded (oldest noted forgotten first). Measured on a monotonic clock (default
// performance.now): on the wall clock a step forward noted the next conflict at once, a step
// back kept every conflict out of the node's timeline for the length of the step.

/** At most this many nodes remembered. */
const MAX_NODES = 10_000;

export class ConflictNotes {
  private readonly notedAt = new Map<string, number>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether a conflict of `node` is noted now (then it is, until the interval has passed). */
  take(node: string): boolean {
    const now = this.now();
    const last = this.notedAt.get(node);
    if (last !== undefined && now - last < this.intervalMs) return false;
    // Deleted first: set again, the node goes last in the order forgotten.
    this.notedAt.delete(node);
    this.notedAt.set(node, now);
    if (this.notedAt.size > MAX_NODES)
      this.notedAt.delete(this.notedAt.keys().next().value as string);
    return true;
  }
}
