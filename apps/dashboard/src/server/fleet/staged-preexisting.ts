// Drift a node had before a staged rollout reached it. A rollout judges what its change did: a
// node already drifted against the stable revision (another component's rules, a hand edit)
// that shows the same differences once it runs the new one did not drift because of it, so it
// does not pause the rollout. It stays drifted (its status is untouched) and its place in the
// rollout says it had the drift before. Any difference it did not have before is the change's.
import type { Difference, DriftReport } from "@masq/shared";
import { assessmentOf, type NodeRecord } from "./node.js";

/** A difference as compared across revisions: what differs, where, and the rule involved. */
const keyOf = (d: Difference) => `${d.kind}|${d.scope}|${d.cidr ?? ""}|${d.rule ?? ""}`;

function keysOf(report: DriftReport): Set<string> {
  return new Set(report.differences.filter((d) => d.severity !== "info").map(keyOf));
}

/** Per node of the fleet (bounded by it), reset at every rollout's start. */
export class PreexistingDrift {
  private readonly before = new Map<string, { keys: Set<string>; revision: number }>();
  private readonly excused = new Map<string, string>();

  reset(): void {
    this.before.clear();
    this.excused.clear();
  }

  /** Records `n`'s drift while it is judged against the stable revision (not reached yet). */
  note(n: NodeRecord, stable: number): void {
    if (n.status !== "drifted" || n.judgedAgainst?.revision !== stable) return;
    const a = assessmentOf(n);
    if (a) this.before.set(n.name, { keys: keysOf(a.report), revision: stable });
  }

  /**
   * Why `n`'s drift against `revision` (the one rolling out) is not that revision's doing: every
   * difference it shows now (or showed in `seen`, a drift an apply changed back since) it
   * showed against the stable revision. Null when any is new.
   */
  excuse(n: NodeRecord, revision: number, seen?: DriftReport): string | null {
    const had = this.before.get(n.name);
    const report = seen ?? assessmentOf(n)?.report;
    if (!had || !report) return null;
    const now = keysOf(report);
    if (now.size === 0 || ![...now].every((k) => had.keys.has(k))) return null;
    const summary = seen ? seen.summary : n.summary;
    const why = `drifted before revision ${revision} reached it (the same drift against revision ${had.revision}): ${summary}`;
    this.excused.set(n.name, why);
    return why;
  }

  /** The excuse last given for `name`'s drift, if any. */
  of(name: string): string | undefined {
    return this.excused.get(name);
  }
}
