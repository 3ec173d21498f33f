// A fleet's nodes mostly report the same rules: after a config push thousands of snapshots
// carry identical `linux` parts, one after another. Checking each against the schema costs a
// dashboard more than anything else in a snapshot frame (~5 µs of ~8 for 1.3 KB, and most of
// its garbage). ValidatedRules remembers the last few `linux` parts as parsed (plain JSON)
// beside what the schema made of them: a frame whose `linux` is equal, value for value, to a
// remembered one gets the remembered result, which the schema would give again (it is a pure
// function of the value). Only the rest of the frame is checked.

/** Equality of two values as JSON.parse makes them (objects by own keys, arrays in order). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  const arrays = Array.isArray(a);
  if (arrays !== Array.isArray(b)) return false;
  return arrays
    ? arraysEqual(a as unknown[], b as unknown[])
    : objectsEqual(a as Record<string, unknown>, b as Record<string, unknown>);
}

function arraysEqual(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
  return true;
}

function objectsEqual(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  let keys = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
    keys++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) keys--;
  return keys === 0;
}

/** How many distinct `linux` parts are remembered, and the largest frame remembered. */
export const VALIDATED_RULES_ENTRIES = 8;
export const VALIDATED_RULES_MAX_FRAME_BYTES = 64 * 1024;

/**
 * The last few validated `linux` parts, newest first: `raw` as parsed, `valid` the schema's
 * output. Bounded: VALIDATED_RULES_ENTRIES entries from frames of at most
 * VALIDATED_RULES_MAX_FRAME_BYTES (~1 MB at most). One per dashboard, shared by its
 * connections' decoders; never mutate what `find` returns (nodes share it).
 */
export class ValidatedRules<T> {
  private readonly entries: { raw: unknown; valid: T }[] = [];
  hits = 0;

  constructor(private readonly max = VALIDATED_RULES_ENTRIES) {}

  /** The schema's output for a `linux` part equal to `raw`, if remembered. */
  find(raw: unknown): T | undefined {
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i]!;
      if (!jsonEqual(e.raw, raw)) continue;
      if (i > 0) this.entries.unshift(...this.entries.splice(i, 1));
      this.hits++;
      return e.valid;
    }
    return undefined;
  }

  /** Remembers a `linux` part that passed the schema, from a frame of `frameBytes`. */
  remember(raw: unknown, valid: T, frameBytes: number): void {
    if (frameBytes > VALIDATED_RULES_MAX_FRAME_BYTES) return;
    this.entries.unshift({ raw, valid });
    if (this.entries.length > this.max) this.entries.pop();
  }
}
