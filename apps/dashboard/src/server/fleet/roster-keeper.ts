// Keeps the node roster (node-roster.ts) in the data dir (kept-file.ts): read once at start,
// then written whole when the fleet changed, at most once per ROSTER_WRITE_EVERY_MS.
import type { Logger } from "pino";
import { type DataFile, KeptFile } from "./kept-file.js";
import { MAX_ROSTER_BYTES, parseRoster, type RosterEntry, rosterText } from "./node-roster.js";

/**
 * Roster writes at most once per this long: a push changes every node's row within a second
 * or two, and 5,000 nodes must cost one write, not 5,000. A crash loses at most this much.
 */
export const ROSTER_WRITE_EVERY_MS = 5_000;
/**
 * A connected node's last seen time is kept to this step (rosterOf): heartbeats alone rewrite
 * the roster once a step, not at every beat. A clean stop writes it exact (flush).
 */
export const ROSTER_SEEN_STEP_MS = 60_000;

/** Where the roster lives (the file store's data dir: store/roster-file.ts). */
export type RosterFile = DataFile;

export interface RosterKeeperOptions {
  file: RosterFile;
  /** The entries to write, a connected node's last seen time floored to `seenStepMs`. */
  entries: (seenStepMs: number) => RosterEntry[];
  log: Logger;
  /** Monotonic ms (tests step it). */
  now?: () => number;
}

/**
 * The roster's keeper. For a node removed by hand (DELETE) it is written now (writeNow): at the
 * next turn, a crash within ROSTER_WRITE_EVERY_MS listed it again after the restart, with
 * nothing saying it had been removed.
 */
export class RosterKeeper extends KeptFile<RosterEntry[]> {
  constructor(o: RosterKeeperOptions) {
    super({
      file: o.file,
      what: "the node roster",
      readLoss: "nodes known before this start whose reporters have not reconnected are not listed",
      writeLoss: "after a restart, nodes whose reporters do not reconnect would not be listed",
      maxBytes: MAX_ROSTER_BYTES,
      none: [],
      parse: (text) => {
        const r = parseRoster(text);
        return r.ok ? { ok: true, value: r.entries } : r;
      },
      text: (exact) => rosterText(o.entries(exact ? 1 : ROSTER_SEEN_STEP_MS)),
      everyMs: ROSTER_WRITE_EVERY_MS,
      refreshMs: ROSTER_SEEN_STEP_MS,
      log: o.log,
      ...(o.now ? { now: o.now } : {}),
    });
  }
}
