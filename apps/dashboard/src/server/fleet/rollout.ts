// A config change rolling out: which enforce-mode nodes have acknowledged the generation.
// Nodes that connect mid-rollout join it; a node that disconnects counts as failed until it
// comes back and applies.

import type { Rollout } from "@masq/shared";

export type { Rollout };

type Outcome = "pending" | "done" | "failed";

interface State {
  generation: number;
  revision: string;
  startedAt: number;
  finishedAt: number | null;
  nodes: Map<string, Outcome>;
  /** Counts by outcome, kept in step with `nodes` (thousands of marks per rollout). */
  count: Record<Outcome, number>;
}

export class RolloutTracker {
  private state: State | null = null;

  constructor(private readonly onFinish: (r: Rollout) => void = () => {}) {}

  start(generation: number, revision: string, targets: readonly string[], now: number): void {
    const nodes = new Map<string, Outcome>(targets.map((t) => [t, "pending"]));
    const count = { pending: nodes.size, done: 0, failed: 0 };
    this.state = { generation, revision, startedAt: now, finishedAt: null, nodes, count };
    this.checkFinished(now);
  }

  get generation(): number | null {
    return this.state?.generation ?? null;
  }

  /** Returns true when the rollout view changed. */
  mark(node: string, outcome: Outcome, now: number): boolean {
    const s = this.state;
    if (!s) return false;
    const before = s.nodes.get(node);
    if (before === outcome) return false;
    if (before) s.count[before]--;
    s.count[outcome]++;
    s.nodes.set(node, outcome);
    // A node joining (pending) reopens a finished rollout until it applies.
    if (outcome === "pending") s.finishedAt = null;
    this.checkFinished(now);
    return true;
  }

  /** Drops a node that was forgotten. */
  remove(node: string, now: number): boolean {
    const s = this.state;
    const before = s?.nodes.get(node);
    if (!s || !before) return false;
    s.nodes.delete(node);
    s.count[before]--;
    this.checkFinished(now);
    return true;
  }

  view(): Rollout | null {
    const s = this.state;
    if (!s) return null;
    const { done, pending, failed } = s.count;
    return {
      generation: s.generation,
      revision: s.revision,
      startedAt: s.startedAt,
      finishedAt: s.finishedAt,
      total: s.nodes.size,
      done,
      pending,
      failed,
    };
  }

  private checkFinished(now: number): void {
    const s = this.state;
    if (!s || s.finishedAt !== null || s.count.pending > 0) return;
    s.finishedAt = now;
    const v = this.view();
    if (v) this.onFinish(v);
  }
}
