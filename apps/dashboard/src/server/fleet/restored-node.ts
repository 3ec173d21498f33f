// A node known from the roster kept before this dashboard started (node-roster.ts): offline,
// its last seen time and applied revision from before, its status then kept apart (`restored`)
// and never shown as current, until its reporter says hello (FleetState.connect). Its timeline
// starts with its events kept from before (node-events.ts), marked so, then this restart's.
import { type NodeEvent, PROTOCOL_VERSION } from "@masq/shared";
import { addEvent, type NodeRecord, newRecord } from "./node.js";
import type { RosterEntry } from "./node-roster.js";
import { sharedHello } from "./shared-hello.js";

export function restoredRecord(
  e: RosterEntry,
  startedAt: number,
  before: readonly NodeEvent[] = [],
): NodeRecord {
  const n = newRecord(sharedHello({ ...e.hello, type: "hello", v: PROTOCOL_VERSION }));
  if (before.length > 0) n.events.restore(before);
  n.lastSeenAt = e.lastSeenAt;
  n.appliedRevision = e.appliedRevision;
  n.restored = { startedAt, status: e.status, summary: e.summary };
  addEvent(
    n,
    "restored",
    `known from before the dashboard restarted (last seen ${new Date(e.lastSeenAt).toISOString()}, ${e.status}); not heard from since`,
    startedAt,
  );
  return n;
}
