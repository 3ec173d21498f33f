// Each node's newest events (its timeline, event-log.ts) kept in the data dir beside the roster
// (node-roster.ts), so that a restart (an upgrade) does not lose the history of its drifts and
// heals. Apart from the roster because events change at every push and the roster is written
// every 5 s: this file is written at most once per NODE_EVENTS_WRITE_EVERY_MS and at a clean
// stop (a crash loses the events of the last 30 s, never the roster's nodes). Kind and text
// pairs are written once and referred to by index: thousands of nodes share "revision 7 sent".
import { type NodeEvent, nodeNameSchema } from "@masq/shared";
import type { Logger } from "pino";
import { z } from "zod";
import { type DataFile, KeptFile, type KeptRead } from "./kept-file.js";
import type { NodeRecord } from "./node.js";
import { FUTURE_SKEW_MS, MAX_ROSTER_NODES } from "./node-roster.js";

export const NODE_EVENTS_FILE = "node-events.json";
const NODE_EVENTS_VERSION = 1;
/** Events kept per node: its newest; the timeline holds MAX_EVENTS (50) while running. */
export const MAX_KEPT_EVENTS = 10;
/** Characters of an event's text kept, as for a Kubernetes Event (kube/event-recorder.ts). */
export const MAX_KEPT_MESSAGE_CHARS = 1024;
/** Characters of an event's kind ("desired-sent"): the dashboard's own are under 32. */
export const MAX_KEPT_KIND_CHARS = 64;
/** Bytes the file may have: a larger one is refused unread, and is not written. */
export const MAX_NODE_EVENTS_BYTES = 64 * 1024 * 1024;
/** At most one write per this long (and one at a clean stop). */
export const NODE_EVENTS_WRITE_EVERY_MS = 30_000;

const MAX_TEXTS = MAX_ROSTER_NODES * MAX_KEPT_EVENTS;
/**
 * Kinds every connection and push adds (a restart alone adds about six): of these only the
 * newest MAX_KEPT_ROUTINE are kept, so that two restarts do not push a node's drifts and
 * failed applies out of what it keeps (found trying the demo).
 */
const ROUTINE_KINDS: ReadonlySet<string> = new Set([
  "connected",
  "disconnected",
  "restored",
  "desired-sent",
  "applied",
  "responding",
  "resync-requested",
]);
export const MAX_KEPT_ROUTINE = 4;

const fileSchema = z.strictObject({
  version: z.literal(NODE_EVENTS_VERSION),
  /** [kind, message] pairs, each once. */
  texts: z
    .array(
      z.tuple([z.string().min(1).max(MAX_KEPT_KIND_CHARS), z.string().max(MAX_KEPT_MESSAGE_CHARS)]),
    )
    .max(MAX_TEXTS),
  nodes: z
    .array(
      z.strictObject({
        node: nodeNameSchema,
        /** [time (ms, dashboard clock), index in texts], oldest first. */
        events: z
          .array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()]))
          .min(1)
          .max(MAX_KEPT_EVENTS),
      }),
    )
    .max(MAX_ROSTER_NODES)
    .refine((ns) => new Set(ns.map((n) => n.node)).size === ns.length, {
      message: "a node is listed twice",
    }),
});

export type KeptEvents = Map<string, NodeEvent[]>;
export type NodeEventsRead = KeptRead<KeptEvents>;

/**
 * The file's text checked whole: any fault refuses it all, saying where. An event after `now`
 * (beyond FUTURE_SKEW_MS, as the roster's last seen) is one: it would be the newest for ever.
 */
export function parseNodeEvents(text: string, now = Date.now()): NodeEventsRead {
  const refused = (why: string): NodeEventsRead => ({
    ok: false,
    error: `${NODE_EVENTS_FILE} is not a node events file: ${why}`,
  });
  if (text.length > MAX_NODE_EVENTS_BYTES)
    return { ok: false, error: `${NODE_EVENTS_FILE} is over ${MAX_NODE_EVENTS_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${NODE_EVENTS_FILE} is not JSON: ${(e as Error).message}` };
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    return refused(`${issue?.path.map(String).join(".") || "(top)"}: ${issue?.message}`);
  }
  const { texts, nodes } = r.data;
  const out: KeptEvents = new Map();
  for (const [i, n] of nodes.entries()) {
    const events: NodeEvent[] = [];
    for (const [j, [time, t]] of n.events.entries()) {
      const at = `nodes.${i}.events.${j}`;
      const pair = texts[t];
      if (pair === undefined) return refused(`${at}: text ${t} is not in texts (${texts.length})`);
      if (time > now + FUTURE_SKEW_MS)
        return refused(
          `${at}: ${time} is after this dashboard's clock (${now}): no event happened later than now`,
        );
      events.push({ time, kind: pair[0], message: pair[1] });
    }
    out.set(n.node, events);
  }
  return { ok: true, value: out };
}

/** `s` within `max` UTF-16 units (the file's bound), never ending in half a character. */
function clip(s: string, max: number): string {
  if (s.length <= max) return s;
  let end = max - 1;
  const last = s.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--; // a surrogate pair's first half
  return `${s.slice(0, end)}…`;
}

/**
 * A node's events to keep, oldest first: the newest MAX_KEPT_EVENTS of its timeline, of which
 * at most MAX_KEPT_ROUTINE of routine kinds (the others reach further back in its timeline).
 */
function eachKept(n: NodeRecord, each: (time: number, kind: string, message: string) => void) {
  let routine = 0;
  const take = (kind: string) => !ROUTINE_KINDS.has(kind) || routine++ < MAX_KEPT_ROUTINE;
  n.events.eachTaken(MAX_KEPT_EVENTS, take, each);
}

/**
 * The file's text for the kept events (eachKept) of each node that has any and was
 * heard from (the nodes the roster keeps: node expiry bounds the offline ones).
 */
export function nodeEventsText(nodes: Iterable<NodeRecord>): string {
  const texts: [string, string][] = [];
  const index = new Map<string, Map<string, number>>();
  const out: { node: string; events: [number, number][] }[] = [];
  for (const n of nodes) {
    if (out.length >= MAX_ROSTER_NODES) break;
    if (n.lastSeenAt === null || n.events.size === 0) continue;
    const events: [number, number][] = [];
    eachKept(n, (time, kind, message) => {
      let byMessage = index.get(kind);
      if (byMessage === undefined) {
        byMessage = new Map();
        index.set(kind, byMessage);
      }
      let t = byMessage.get(message);
      if (t === undefined) {
        t = texts.length;
        texts.push([clip(kind, MAX_KEPT_KIND_CHARS), clip(message, MAX_KEPT_MESSAGE_CHARS)]);
        byMessage.set(message, t);
      }
      events.push([Math.max(0, Math.floor(time)), t]);
    });
    out.push({ node: n.name, events });
  }
  return JSON.stringify({ version: NODE_EVENTS_VERSION, texts, nodes: out });
}

export interface NodeEventsKeeperOptions {
  file: DataFile;
  nodes: () => Iterable<NodeRecord>;
  log: Logger;
  /** Monotonic ms (tests step it). */
  now?: () => number;
}

/** Keeps node-events.json (kept-file.ts): read at start, written at most every 30 s. */
export function nodeEventsKeeper(o: NodeEventsKeeperOptions): KeptFile<KeptEvents> {
  return new KeptFile<KeptEvents>({
    file: o.file,
    what: "the nodes' kept events",
    readLoss: "the timelines of nodes known before this start begin at this start",
    writeLoss: "after a restart, the nodes' timelines would begin at that restart",
    maxBytes: MAX_NODE_EVENTS_BYTES,
    none: new Map(),
    parse: (text) => parseNodeEvents(text),
    text: () => nodeEventsText(o.nodes()),
    everyMs: NODE_EVENTS_WRITE_EVERY_MS,
    log: o.log,
    ...(o.now ? { now: o.now } : {}),
  });
}
