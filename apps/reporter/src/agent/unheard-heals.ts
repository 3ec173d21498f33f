// Heals of drift the enforcer made while no dashboard heard the reporter (its link not open):
// without them a hand edit and its heal while the dashboard was away were told to nobody, the
// node simply in sync at reconnect. The newest MAX_UNHEARD_HEALS, the older ones counted; each
// change handed to `changed` (the state dir's copy, unheard-heals-file.ts, so a restart keeps
// them); sent once, after hello, to a dashboard that granted `unheard-heals`, then forgotten.

import {
  MAX_HEAL_WHAT_CHARS,
  MAX_UNHEARD_HEALS,
  PROTOCOL_VERSION,
  type UnheardHeal,
  type UnheardHeals as UnheardHealsMessage,
} from "@masq/shared";
import type { KeptHeals } from "./unheard-heals-file.js";

/** What a drift summary says, on one line and within MAX_HEAL_WHAT_CHARS (null when empty). */
export function boundedWhat(summary: string | null): string | null {
  const text = summary?.replace(/\s+/g, " ").trim() ?? "";
  if (text === "") return null;
  const chars = [...text]; // by code point: a cut never splits a surrogate pair
  return chars.length <= MAX_HEAL_WHAT_CHARS
    ? text
    : `${chars.slice(0, MAX_HEAL_WHAT_CHARS - 1).join("")}…`;
}

export class UnheardHeals {
  private heals: UnheardHeal[] = [];
  private dropped = 0;

  /** @param changed told what is kept after every change (to keep it across a restart) */
  constructor(
    private readonly max = MAX_UNHEARD_HEALS,
    private readonly changed: (kept: KeptHeals) => void = () => {},
  ) {}

  /**
   * Heals kept before a restart, put before any made since (a start reads them before it heals);
   * past the bound the oldest are dropped and counted. Not told to `changed`: they are its own.
   */
  restore(kept: KeptHeals): void {
    this.heals = [...kept.heals, ...this.heals];
    this.drop(kept.dropped);
    this.trim();
  }

  /** A heal no dashboard heard: kept, the oldest dropped and counted past the bound. */
  add(heal: { at: number; revision: number | null; what: string | null }): void {
    this.heals.push({ at: heal.at, revision: heal.revision, what: boundedWhat(heal.what) });
    this.trim();
    this.changed({ heals: [...this.heals], dropped: this.dropped });
  }

  private trim(): void {
    const over = this.heals.length - this.max;
    if (over <= 0) return;
    this.heals = this.heals.slice(over);
    this.drop(over);
  }

  /**
   * `n` more dropped, counted up to the largest safe integer (the file's and the message's
   * bound: a file at it, one more drop made both invalid, and the heals were never told).
   */
  private drop(n: number): void {
    this.dropped = Math.min(Number.MAX_SAFE_INTEGER, this.dropped + n);
  }

  /** Heals kept, and older ones dropped. */
  count(): { kept: number; dropped: number } {
    return { kept: this.heals.length, dropped: this.dropped };
  }

  /**
   * Hands the kept heals to `send` as one message; forgotten once it says it was written
   * (false: not written, say to a dashboard that did not grant them: kept for the next).
   */
  flush(send: (msg: UnheardHealsMessage) => boolean): void {
    if (this.heals.length === 0) return;
    const msg: UnheardHealsMessage = {
      type: "unheard-heals",
      v: PROTOCOL_VERSION,
      heals: this.heals,
      dropped: this.dropped,
    };
    if (!send(msg)) return;
    this.heals = [];
    this.dropped = 0;
    this.changed({ heals: [], dropped: 0 });
  }
}
