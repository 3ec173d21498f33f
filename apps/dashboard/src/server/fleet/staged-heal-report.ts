// A drift healed on a released node (an apply changed back rules the dashboard never saw drifted,
// or its reporter healed them while no dashboard heard it: fleet-state.ts healedDrift,
// unheardHeals) whose holder does not own the staged rollout. The owner pauses on a drift of
// its own nodes (staged-rollout.ts driftHealed); this one its holder writes in the node's
// NodeMasquerade status (`healedDrift`) for the owner, which pauses on it as on its own
// (staged-rollout.ts remoteOne), naming the node and the replica holding it. Once the owner's
// state counts the node failed (the holder reads it through its watch) the report is taken and
// dropped, so a later retry or a new owner never pauses on it again; one of another rollout
// is dropped too. One per node, its text bounded.
import { z } from "zod";

/** The longest text kept of a heal (the CRD's limit; fleet-state.ts texts are shorter). */
export const MAX_HEAL_CHARS = 1024;

export const healedDriftSchema = z.object({
  /** The rollout it happened in (its resourceVersion, the same on every replica). */
  rollout: z.string().min(1).max(256),
  /** What happened, in the holder's words (the node's timeline entry). */
  message: z.string().max(MAX_HEAL_CHARS),
  /** When the holder heard of it (RFC 3339, its clock: shown, never compared). */
  at: z.string().max(64),
});
export type HealedDriftReport = z.infer<typeof healedDriftSchema>;

/** The reports of the nodes held here waiting for the owner to take them. */
export class HealReports {
  private readonly byNode = new Map<string, HealedDriftReport>();

  /** The newest heal of `name` in the rollout `rollout` (an earlier one waiting is replaced). */
  note(name: string, rollout: string, message: string, at: number): void {
    const text =
      message.length > MAX_HEAL_CHARS ? `${message.slice(0, MAX_HEAL_CHARS - 1)}…` : message;
    this.byNode.set(name, { rollout, message: text, at: new Date(at).toISOString() });
  }

  /** What to write in `name`'s NodeMasquerade status; undefined: nothing waits. */
  of(name: string): HealedDriftReport | undefined {
    return this.byNode.get(name);
  }

  /**
   * The owner's state was read: the reports it took (`taken`: it counts the node failed) and
   * those of another rollout than `rollout` (null: none runs) are dropped. The nodes dropped.
   */
  settle(rollout: string | null, taken: (name: string) => boolean): string[] {
    const out: string[] = [];
    for (const [name, r] of this.byNode)
      if (r.rollout !== rollout || taken(name)) {
        this.byNode.delete(name);
        out.push(name);
      }
    return out;
  }

  /** Every report, dropped (this replica owns the rollout now: it takes them itself). */
  clear(): [string, HealedDriftReport][] {
    const out = [...this.byNode];
    this.byNode.clear();
    return out;
  }
}
