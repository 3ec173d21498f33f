// A node's timeline: its last MAX_EVENTS events, held compactly because every connected node
// keeps one (issue 17: memory per node). An event as an object with a boxed time cost ~70
// bytes, ~3.6 KB for a full timeline; here the times are unboxed doubles in a ring and the kind
// and text one object shared by every node that has them: ~0.9 KB when full (heap snapshot).
import type { NodeEvent } from "@masq/shared";

/** Events a node keeps; the node page and GET /api/nodes/:name show them, newest first. */
export const MAX_EVENTS = 50;

/** An event's kind and text: one object for every event, on any node, that has both. */
interface EventText {
  readonly kind: string;
  readonly message: string;
}

/** Distinct kind + text pairs shared between nodes; past this many the pool starts over. */
const MAX_SHARED_TEXTS = 4096;
const sharedTexts = new Map<string, Map<string, EventText>>();
let sharedCount = 0;

/**
 * The one copy of a kind and text: thousands of nodes keep the same few in their timelines
 * ("desired-sent", "revision 7 sent"), each up to MAX_EVENTS deep.
 */
function sharedText(kind: string, message: string): EventText {
  let byMessage = sharedTexts.get(kind);
  const known = byMessage?.get(message);
  if (known !== undefined) return known;
  if (sharedCount >= MAX_SHARED_TEXTS) {
    sharedTexts.clear();
    sharedCount = 0;
    byMessage = undefined;
  }
  if (byMessage === undefined) {
    byMessage = new Map();
    sharedTexts.set(kind, byMessage);
  }
  const text = { kind, message };
  byMessage.set(message, text);
  sharedCount++;
  return text;
}

/** The last MAX_EVENTS events of one node, oldest dropped first. */
export class EventLog {
  /** Event times (ms, dashboard clock): allocated at the first event, MAX_EVENTS unboxed doubles. */
  private times: number[] | undefined;
  private texts: EventText[] | undefined;
  /** Events held (≤ MAX_EVENTS). */
  private count = 0;
  /** Index of the oldest event once the ring is full; 0 until then. */
  private head = 0;
  /**
   * The oldest this many events are from before the dashboard restarted (restore): always the
   * oldest, so they age out first, as any other.
   */
  private before = 0;

  get size(): number {
    return this.count;
  }

  add(time: number, kind: string, message: string): void {
    // Exactly MAX_EVENTS slots, not an array grown by push (77 slots by the time it holds 50).
    this.times ??= new Array<number>(MAX_EVENTS);
    this.texts ??= new Array<EventText>(MAX_EVENTS);
    const at = (this.head + this.count) % MAX_EVENTS;
    this.times[at] = time;
    this.texts[at] = sharedText(kind, message);
    if (this.count < MAX_EVENTS) this.count++;
    else {
      this.head = (this.head + 1) % MAX_EVENTS;
      if (this.before > 0) this.before--;
    }
  }

  /**
   * Events kept from before the dashboard restarted (node-events.ts), oldest first, put before
   * any held now and marked `beforeRestart`; only the newest MAX_EVENTS are kept.
   */
  restore(events: readonly NodeEvent[]): void {
    const now = this.list();
    const all = [...events, ...now].slice(-MAX_EVENTS);
    this.count = 0;
    this.head = 0;
    for (const e of all) this.add(e.time, e.kind, e.message);
    this.before = Math.max(0, all.length - now.length);
  }

  /**
   * Adds the event, or, when the newest one is of the same kind, puts it in that one's place: a
   * kind whose newest word is all that matters (a drift that keeps changing) takes one slot, not
   * the whole timeline.
   */
  fold(time: number, kind: string, message: string): void {
    const newest = (this.head + this.count - 1) % MAX_EVENTS;
    // Never into an event from before the restart: that one stays as it was.
    if (this.count > this.before && this.texts![newest]!.kind === kind) {
      this.times![newest] = time;
      this.texts![newest] = sharedText(kind, message);
    } else this.add(time, kind, message);
  }

  /** The events, oldest first (new objects: the caller may keep or change them). */
  list(): NodeEvent[] {
    const out: NodeEvent[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const at = (this.head + i) % MAX_EVENTS;
      const t = this.texts![at]!;
      out[i] =
        i < this.before
          ? { time: this.times![at]!, kind: t.kind, message: t.message, beforeRestart: true }
          : { time: this.times![at]!, kind: t.kind, message: t.message };
    }
    return out;
  }

  /**
   * Calls `each` on up to `max` events, oldest first: walking from the newest back, those
   * `take` accepts (asked newest first, once each, until `max` are taken). Allocates only the
   * ≤ `max` positions taken (node-events.ts runs it over every node).
   */
  eachTaken(
    max: number,
    take: (kind: string) => boolean,
    each: (time: number, kind: string, message: string) => void,
  ): void {
    const taken: number[] = [];
    for (let i = this.count - 1; i >= 0 && taken.length < max; i--) {
      const at = (this.head + i) % MAX_EVENTS;
      if (take(this.texts![at]!.kind)) taken.push(at);
    }
    for (let j = taken.length - 1; j >= 0; j--) {
      const at = taken[j]!;
      const t = this.texts![at]!;
      each(this.times![at]!, t.kind, t.message);
    }
  }

  /** The events, newest first: the order of the API's node view. */
  newestFirst(): NodeEvent[] {
    return this.list().reverse();
  }
}
