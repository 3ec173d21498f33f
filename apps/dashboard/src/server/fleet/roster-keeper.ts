// Keeps the node roster (node-roster.ts) in the data dir: read once at start, then written
// whole (atomically, by the store) when the fleet changed, at most once per ROSTER_WRITE_EVERY_MS.
import { performance } from "node:perf_hooks";
import { sha256 } from "@masq/node-util";
import type { Logger } from "pino";
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
export interface RosterFile {
  readonly path: string;
  /** Its text; null when there is none. Throws when it cannot be read or is over `maxBytes`. */
  read(maxBytes: number): Promise<string | null>;
  write(text: string): Promise<void>;
  /** Moves a bad roster aside, kept for a person to look at; resolves to where. */
  setAside(): Promise<string>;
}

export interface RosterKeeperOptions {
  file: RosterFile;
  /** The entries to write, a connected node's last seen time floored to `seenStepMs`. */
  entries: (seenStepMs: number) => RosterEntry[];
  log: Logger;
  /** Monotonic ms (tests step it). */
  now?: () => number;
}

export class RosterKeeper {
  private dirty = true;
  /**
   * SHA-256 of the text written last, not the text: at 15,000 nodes the roster is ~6.5 MB,
   * 0.4 KB per node held for nothing but this comparison (issue 17: memory per node).
   */
  private written: string | undefined;
  private lastTry = Number.NEGATIVE_INFINITY;
  private builtAt = Number.NEGATIVE_INFINITY;
  private writing: Promise<void> | undefined;
  private readProblem: string | undefined;
  private writeProblem: string | undefined;
  private readonly now: () => number;

  constructor(private readonly o: RosterKeeperOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * The roster kept before this start; [] when there is none or it is bad: a bad one is logged,
   * said in problems() and moved aside (never deleted, never written over), and no node is
   * restored from it.
   */
  async load(): Promise<RosterEntry[]> {
    let text: string | null;
    try {
      text = await this.o.file.read(MAX_ROSTER_BYTES);
    } catch (e) {
      return this.refuse((e as Error).message);
    }
    // None yet: an empty fleet is what it says, so nothing is written until a node comes (a
    // dashboard with no node never wrote one, and a test removing its data dir raced the write).
    if (text === null) {
      this.written = sha256(rosterText([]));
      return [];
    }
    const r = parseRoster(text);
    return r.ok ? r.entries : this.refuse(r.error);
  }

  private async refuse(error: string): Promise<RosterEntry[]> {
    const aside = await this.o.file.setAside().then(
      (to) => `moved aside to ${to}`,
      (e: Error) => `left in place, as it could not be moved aside: ${e.message}`,
    );
    this.readProblem = `the node roster ${this.o.file.path} could not be read (${error}; ${aside}): nodes known before this start whose reporters have not reconnected are not listed`;
    this.o.log.error({ err: error, file: this.o.file.path }, "cannot read the node roster");
    return [];
  }

  /** The fleet changed (a node's row, a node added or forgotten): written at the next turn. */
  changed(): void {
    this.dirty = true;
  }

  /** Called every second: writes when the fleet changed (or a seen step passed) and is due. */
  tick(): void {
    const now = this.now();
    if (this.writing || now - this.lastTry < ROSTER_WRITE_EVERY_MS) return;
    if (!this.dirty && now - this.builtAt < ROSTER_SEEN_STEP_MS) return;
    this.write(now);
  }

  private write(now: number): Promise<void> {
    this.lastTry = now;
    this.builtAt = now;
    this.dirty = false;
    const writing = this.save(rosterText(this.o.entries(ROSTER_SEEN_STEP_MS))).finally(() => {
      if (this.writing === writing) this.writing = undefined;
    });
    this.writing = writing;
    return writing;
  }

  /**
   * Written now, past the throttle, once the write under way (if any) ends; resolves when the
   * roster on disk is the fleet as it is. For a node removed by hand (DELETE): written at the
   * next turn, a crash within ROSTER_WRITE_EVERY_MS listed it again after the restart, with
   * nothing saying it had been removed. Whether the write succeeded is in problems().
   */
  async writeNow(): Promise<void> {
    await this.writing;
    this.dirty = true;
    await this.write(this.now());
  }

  /** At a clean stop: the roster as it is now, last seen times exact. */
  async flush(): Promise<void> {
    await this.writing;
    await this.save(rosterText(this.o.entries(1)));
  }

  /** Only a text that differs from the one written last. */
  private async save(text: string): Promise<void> {
    const digest = sha256(text);
    if (digest === this.written) return;
    if (Buffer.byteLength(text) > MAX_ROSTER_BYTES) {
      this.failed(`it would be over ${MAX_ROSTER_BYTES} bytes`);
      return;
    }
    try {
      await this.o.file.write(text);
      this.written = digest;
      if (this.writeProblem) this.o.log.info("the node roster is written again");
      this.writeProblem = undefined;
    } catch (e) {
      this.failed((e as Error).message);
    }
  }

  private failed(why: string): void {
    this.dirty = true; // tried again at the next turn
    if (this.writeProblem === undefined)
      this.o.log.error({ err: why, file: this.o.file.path }, "cannot write the node roster");
    this.writeProblem = `the node roster ${this.o.file.path} could not be written (${why}): after a restart, nodes whose reporters do not reconnect would not be listed`;
  }

  /** For /healthz and /readyz: a roster that could not be read at start, or written now. */
  problems(): string[] {
    return [this.readProblem, this.writeProblem].filter((p): p is string => p !== undefined);
  }
}
