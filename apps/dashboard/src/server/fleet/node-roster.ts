// The roster: the nodes this dashboard knows, kept in its data dir so that after a restart the
// fleet still lists the ones whose reporters do not come back (offline, "not heard from since
// the dashboard restarted"), instead of silently showing 49 nodes where there were 50.
// Per node as little as its offline row needs: its last hello (mode, OS, backend, versions and
// agent flags, which an offline node shows and is judged by for a change's impact), when it was
// last seen, its applied revision and its status then. Never its rules: no drift is judged
// from the roster.
import { helloSchema, NODE_STATUSES } from "@masq/shared";
import { z } from "zod";
import type { NodeRecord } from "./node.js";

export const ROSTER_FILE = "nodes.json";
const ROSTER_VERSION = 1;
/**
 * Nodes a roster may list: the writer keeps connected nodes and the newest `maxOffline` offline
 * ones (node-expiry.ts), well below this for any fleet the dashboard is built for (5,000).
 */
export const MAX_ROSTER_NODES = 50_000;
/** Bytes a roster file may have (a node takes about 600): a larger one is refused unread. */
export const MAX_ROSTER_BYTES = 64 * 1024 * 1024;
/** Characters of a status summary kept (a drift's names its first differences). */
const MAX_SUMMARY_CHARS = 512;
/**
 * How far ahead of this clock a last seen time is believed (the clock stepped back a little
 * since it was written). Further ahead (a hand edit, a clock far off): no time a node was seen.
 */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** The hello without its envelope: a roster outlives a protocol version. */
const rosterHelloSchema = helloSchema.omit({ type: true, v: true });

const entrySchema = z.strictObject({
  hello: rosterHelloSchema,
  lastSeenAt: z.number().int().nonnegative(),
  appliedRevision: z.number().int().nonnegative().nullable(),
  status: z.enum(NODE_STATUSES),
  summary: z.string().max(MAX_SUMMARY_CHARS),
});
export type RosterEntry = z.infer<typeof entrySchema>;

const rosterSchema = z.strictObject({
  version: z.literal(ROSTER_VERSION),
  nodes: z
    .array(entrySchema)
    .max(MAX_ROSTER_NODES)
    .refine((ns) => new Set(ns.map((n) => n.hello.node)).size === ns.length, {
      message: "a node is listed twice",
    }),
});

export type RosterRead = { ok: true; entries: RosterEntry[] } | { ok: false; error: string };

/**
 * A roster file's text checked whole: any fault refuses it all, saying where. A node seen after
 * `now` (beyond FUTURE_SKEW_MS) is one: it would read "last seen" in the future and never expire.
 */
export function parseRoster(text: string, now = Date.now()): RosterRead {
  if (text.length > MAX_ROSTER_BYTES)
    return { ok: false, error: `${ROSTER_FILE} is over ${MAX_ROSTER_BYTES} bytes` };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${ROSTER_FILE} is not JSON: ${(e as Error).message}` };
  }
  const r = rosterSchema.safeParse(raw);
  if (r.success) {
    const i = r.data.nodes.findIndex((n) => n.lastSeenAt > now + FUTURE_SKEW_MS);
    if (i < 0) return { ok: true, entries: r.data.nodes };
    const at = r.data.nodes[i]!.lastSeenAt;
    return {
      ok: false,
      error: `${ROSTER_FILE} is not a node roster: nodes.${i}.lastSeenAt: ${at} is after this dashboard's clock (${now}): no node was seen later than now`,
    };
  }
  const issue = r.error.issues[0];
  const at = issue?.path.map(String).join(".") || "(top)";
  return { ok: false, error: `${ROSTER_FILE} is not a node roster: ${at}: ${issue?.message}` };
}

/** The roster's text for `entries`, in a stable order (the writer compares texts). */
export function rosterText(entries: RosterEntry[]): string {
  const nodes = [...entries].sort((a, b) => (a.hello.node < b.hello.node ? -1 : 1));
  return JSON.stringify({ version: ROSTER_VERSION, nodes });
}

/**
 * The entries to keep: every connected node and the `maxOffline` offline ones seen last (the
 * offline cap node expiry applies). A connected node's last seen time is floored to
 * `seenStepMs`, so heartbeats rewrite the roster once a step, not at every beat.
 */
export function rosterOf(
  nodes: Iterable<NodeRecord>,
  maxOffline: number,
  seenStepMs: number,
): RosterEntry[] {
  const connected: RosterEntry[] = [];
  const offline: RosterEntry[] = [];
  for (const n of nodes) {
    if (n.lastSeenAt === null) continue; // never heard from (no hello took): nothing to keep
    const seen = n.connected ? n.lastSeenAt - (n.lastSeenAt % seenStepMs) : n.lastSeenAt;
    (n.connected ? connected : offline).push(entryOf(n, seen));
  }
  offline.sort((a, b) => b.lastSeenAt - a.lastSeenAt);
  return [...connected, ...offline.slice(0, maxOffline)].slice(0, MAX_ROSTER_NODES);
}

/** A node's entry; a restored one not heard from since keeps its status from before. */
function entryOf(n: NodeRecord, lastSeenAt: number): RosterEntry {
  const { type: _type, v: _v, ...hello } = n.hello;
  const was = n.restored ?? n;
  return {
    hello,
    lastSeenAt,
    appliedRevision: n.appliedRevision,
    status: was.status,
    summary: was.summary.slice(0, MAX_SUMMARY_CHARS),
  };
}

/** Of a roster read at start, the `maxOffline` seen last: all are offline until they say hello. */
export function toRestore(entries: RosterEntry[], maxOffline: number): RosterEntry[] {
  return [...entries].sort((a, b) => b.lastSeenAt - a.lastSeenAt).slice(0, maxOffline);
}
