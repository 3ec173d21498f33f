// An all-at-once rollout in progress, persisted beside the staged rollout's state (staged-state.ts
// `atOnce`, kept in rollout-extras.json: staged-compat.ts) so that a restart tracks it again on
// the fleet bar as it does a staged one (rollout.ts `resumed`), instead of showing no rollout
// while nodes still have to apply it. Only what the bar needs: which revision (its number, its
// primary save and config, to know it again when merges are numbered anew), when and by whom it
// started, and how many enforce-mode targets it had (a floor for a start with no node roster,
// where the targets are not known by name). Cleared when it finishes or a newer revision
// supersedes it, so a finished one never comes back (nor its finish event).
import { primaryOf, zodReason } from "@masq/shared";
import { z } from "zod";
import type { Desired } from "../config/merged-desired.js";
import { configDigest } from "./staged-follow.js";
import { MAX_ROLLOUT_NODES } from "./staged-size.js";

export const atOnceSchema = z.strictObject({
  version: z.literal(1),
  revision: z.number().int().nonnegative(),
  resourceVersion: z.string().min(1).max(256),
  /** SHA-256 (hex) of the config (staged-follow.ts configDigest). */
  config: z.string().regex(/^[0-9a-f]{64}$/),
  /** ms since the epoch, within what a Date holds (a hand edit past it would throw when shown). */
  startedAt: z.number().int().nonnegative().max(8.64e15),
  startedBy: z.string().max(512),
  /** Enforce-mode targets at the start, less those forgotten since (not names: any fleet size). */
  targets: z.number().int().nonnegative().max(MAX_ROLLOUT_NODES),
});
export type AtOnceRecord = z.infer<typeof atOnceSchema>;

export function atOnceRecord(
  d: Desired,
  startedAt: number,
  startedBy: string,
  targets: number,
): AtOnceRecord {
  return {
    version: 1,
    revision: d.revision,
    resourceVersion: d.resourceVersion,
    config: configDigest(d.config),
    startedAt: Math.max(0, Math.trunc(startedAt)),
    startedBy: startedBy.slice(0, 512),
    targets: Math.min(targets, MAX_ROLLOUT_NODES),
  };
}

/**
 * Is `r` the rollout of `current`? The same config, and the same number or (a merged revision,
 * numbered anew by a restarted dashboard) the same primary save. Another config under the same
 * number is another revision.
 */
export function isRolloutOf(r: AtOnceRecord, current: Desired): boolean {
  if (r.config !== configDigest(current.config)) return false;
  return (
    r.revision === current.revision ||
    primaryOf(r.resourceVersion) === primaryOf(current.resourceVersion)
  );
}

export type AtOnceRead =
  | { kind: "none" }
  | { kind: "resumed"; record: AtOnceRecord }
  /** Persisted, but of another revision than the current one (superseded): not resumed. */
  | { kind: "other"; record: AtOnceRecord }
  | { kind: "bad"; error: string };

/** What a persisted `atOnce` (unchecked; undefined: none) says for the current revision. */
export function readAtOnce(raw: unknown, current: Desired | null): AtOnceRead {
  if (raw === undefined || raw === null) return { kind: "none" };
  const parsed = atOnceSchema.safeParse(raw);
  if (!parsed.success)
    return { kind: "bad", error: zodReason(parsed.error, { root: "atOnce", issues: 3 }) };
  const record = parsed.data;
  return current && isRolloutOf(record, current)
    ? { kind: "resumed", record }
    : { kind: "other", record };
}

/**
 * Targets of a resumed rollout not known here, by number: those it counted, less the
 * enforce-mode nodes known now (a start with no node roster knows none by name until their
 * reporters reconnect). The count cannot tell a node that joined since from one of them.
 */
export const unseenByNumber = (r: AtOnceRecord, known: number): number =>
  Math.max(0, r.targets - known);

/**
 * The all-at-once rollout the owner persists (StagedRollouts holds one): set when a revision
 * goes at once, dropped when it finishes or a newer revision supersedes it, read back at start.
 */
export class AtOnceRollout {
  private record: AtOnceRecord | null = null;
  /** Read at this start and tracked again (the fleet bar's `resumedAt`). */
  private resumed = false;
  /** Why the persisted one could not be read (a hand edit): said until a newer save. */
  private readError: string | undefined;
  /** That one as read, written back as it was (nothing lost) until a newer save. */
  private bad: unknown;
  /** The node roster named the nodes known before this start: its targets are known by name. */
  private byName = false;
  /**
   * The revision resumed at this start (kept once it is dropped): with every replica active its
   * finish is told by the owner over every node, not by this replica's bar (toldByOwner).
   */
  private resumedRevision: number | null = null;

  /** The persisted form (staged-state.ts `atOnce`); undefined: none. */
  get persisted(): unknown {
    return this.record ?? this.bad;
  }

  begin(d: Desired, now: number, user: string, targets: number): void {
    this.drop();
    this.record = atOnceRecord(d, now, user, targets);
  }

  /** None in progress (a newer revision, staged or not, supersedes it); true if one was. */
  drop(): boolean {
    const had = this.record !== null;
    this.record = null;
    this.resumed = false;
    this.readError = undefined;
    this.bad = undefined;
    return had;
  }

  /** The fleet bar's rollout of `revision` finished; true if it was this one (now dropped). */
  finished(revision: number): boolean {
    return this.record?.revision === revision && this.drop();
  }

  /** A target forgotten: no longer counted by number. True if one is in progress. */
  removed(): boolean {
    if (!this.record) return false;
    this.record = { ...this.record, targets: Math.max(0, this.record.targets - 1) };
    return true;
  }

  /** At start: whether the node roster listed the nodes known before it (by name). */
  rosterListed(listed: boolean): void {
    this.byName = listed;
  }

  /**
   * At start: takes the persisted one back when it is the rollout of `current` (renumbered as
   * it, for a merge numbered anew). A bad one is said (the return) and left alone.
   */
  restore(raw: unknown, current: Desired | null): AtOnceRead {
    const read = readAtOnce(raw, current);
    if (read.kind === "bad") {
      this.readError = read.error;
      this.bad = raw;
    }
    if (read.kind !== "resumed" || !current) return read;
    const { revision, resourceVersion } = current;
    this.record = { ...read.record, revision, resourceVersion };
    this.resumed = true;
    this.resumedRevision = revision;
    return read;
  }

  /**
   * Every replica active, a follower: the owner's newest persisted record (its state read
   * through the watch). Kept as this replica's (a follower that takes the Lease over goes on
   * with it); gone from it, the owner saw the rollout finish over every node (or a newer save):
   * dropped here too. True when a resumed one was dropped (its bar may finish now).
   */
  followed(raw: unknown, current: Desired | null): boolean {
    const read = readAtOnce(raw, current);
    if (read.kind === "resumed" && current) {
      const { revision, resourceVersion } = current;
      this.record = { ...read.record, revision, resourceVersion };
      return false;
    }
    if (read.kind === "bad") return false;
    const was = this.resumed;
    return this.drop() && was;
  }

  /** In progress (persisted by this owner): the rollout of `revision`, if any. */
  inProgress(): AtOnceRecord | null {
    return this.record;
  }

  /**
   * Every replica active: the bar resumed at this start for `revision` does not finish while the
   * record is kept (the owner drops it once every node applied): its own nodes are not all.
   */
  heldOpen(revision: number): boolean {
    return this.resumed && this.record?.revision === revision;
  }

  /** Was `revision` the rollout resumed at this start (its finish the owner's to tell)? */
  resumedOf(revision: number): boolean {
    return this.resumedRevision === revision;
  }

  /** The resumed rollout for the fleet bar (FleetState.resumeRollout); null: none. */
  tracking(): { revision: number; resourceVersion: string; startedAt: number } | null {
    const r = this.record;
    if (!r || !this.resumed) return null;
    return { revision: r.revision, resourceVersion: r.resourceVersion, startedAt: r.startedAt };
  }

  /**
   * Targets of the resumed rollout of `revision` not known by name (no roster), by number.
   * `byName`: every node is known by name now (every replica active, the NodeMasquerades listed).
   */
  unseen(revision: number, known: number, byName = false): number {
    const r = this.record;
    if (!r || !this.resumed || this.byName || byName || r.revision !== revision) return 0;
    return unseenByNumber(r, known);
  }

  /** What is wrong: the persisted one not readable, or this one not persisted (`writeError`). */
  problems(writeError: string | undefined): string[] {
    const out: string[] = [];
    if (this.readError)
      out.push(
        `the persisted all-at-once rollout could not be read (${this.readError}): if one was in progress before this start, the fleet bar does not track it; it is kept as stored until a newer save`,
      );
    if (this.record && writeError)
      out.push(
        `the all-at-once rollout of revision ${this.record.revision} could not be persisted (${writeError}): a restart of this dashboard would not track it on the fleet bar`,
      );
    return out;
  }
}
