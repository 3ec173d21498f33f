// Released nodes of a staged rollout that went offline soon after applying, judged after a
// grace: in a dashboard rolling restart every reporter disconnects and reconnects to another
// replica within ~10 s (docs/scale-out.md "When a replica dies"), and such a node did not go
// offline. One still disconnected everywhere after the grace pauses the rollout; no wave goes
// on meanwhile (staged-rollout.ts holds time and settled waves).

/** How long a node that went offline right after applying has to reconnect to any replica. */
export const RECONNECT_GRACE_MS = 15_000;

interface Suspect {
  /** When it was seen offline (ms). */
  at: number;
  /** The sentence that pauses the rollout if it stays offline. */
  reason: string;
  /** The rollout (its resourceVersion) the node went offline in. */
  of: string;
}

export class OfflineSuspects {
  private readonly suspects = new Map<string, Suspect>();

  get size(): number {
    return this.suspects.size;
  }

  /** `name` went offline at `now`, soon after applying the rollout `of` (the first time counts). */
  add(name: string, reason: string, of: string, now: number): void {
    if (!this.suspects.has(name)) this.suspects.set(name, { at: now, reason, of });
  }

  /**
   * The reasons of the suspects of rollout `of` still offline after the grace (dropped once
   * judged); suspects connected again (`connected`: here, or to another replica by its
   * NodeMasquerade), or of another rollout than `of` (null: none runs), are dropped.
   */
  judge(of: string | null, now: number, connected: (name: string) => boolean): string[] {
    const out: string[] = [];
    for (const [name, s] of this.suspects) {
      const back = s.of !== of || connected(name);
      if (!back && now - s.at < RECONNECT_GRACE_MS) continue;
      this.suspects.delete(name);
      if (!back) out.push(s.reason);
    }
    return out;
  }

  /** Why no wave goes on now; null: no suspect. */
  message(): string | null {
    if (this.suspects.size === 0) return null;
    const names = [...this.suspects.keys()];
    const shown =
      names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
    return `No wave goes on for up to ${RECONNECT_GRACE_MS / 1000} s: ${shown} went offline right after applying, and may be reconnecting to another replica`;
  }
}
