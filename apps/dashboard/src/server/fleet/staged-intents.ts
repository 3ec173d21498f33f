// Strategies announced for saves not yet seen by the store's listener, found again by the saved
// config's text (a save's strategy, and a selector canary's labels read where it was saved).
import type { RolloutStrategy } from "@masq/shared";

/** At most this many announced saves are kept, each this long. */
const MAX_INTENTS = 16;
const INTENT_TTL_MS = 120_000;

export interface Intent {
  strategy: RolloutStrategy;
  labels?: ReadonlyMap<string, Record<string, string>>;
  at: number;
}

export class Intents {
  private readonly byText = new Map<string, Intent>();

  constructor(private readonly now: () => number) {}

  /** The strategy of a save about to be made (the newest for a text wins). */
  note(text: string, strategy: RolloutStrategy, labels?: Intent["labels"]): void {
    const now = this.now();
    for (const [k, i] of this.byText) if (now - i.at > INTENT_TTL_MS) this.byText.delete(k);
    this.byText.delete(text);
    this.byText.set(text, { strategy, labels, at: now });
    if (this.byText.size > MAX_INTENTS) this.byText.delete(this.byText.keys().next().value!);
  }

  /** The intent announced for `text` (taken once), else `fallback`. */
  take(text: string, fallback: RolloutStrategy): Intent {
    const i = this.byText.get(text);
    this.byText.delete(text);
    return i && this.now() - i.at <= INTENT_TTL_MS ? i : { strategy: fallback, at: this.now() };
  }
}
