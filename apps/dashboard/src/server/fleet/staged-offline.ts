// Released nodes of a staged rollout that went offline soon after applying, judged on evidence,
// not on a fixed clock: in a dashboard rolling restart, or when a replica dies, every reporter
// it held reconnects to another replica within ~10 s (docs/scale-out.md "When a replica dies"),
// but the survivors' status writes saying so go through their write budgets (50/s each: ~65 s
// for 13,000 nodes over four survivors), so "no replica says it is connected" is no proof it is
// not. A suspect connected again (here, or by its NodeMasquerade) is dropped; one still connected
// nowhere is called gone only once every live replica has shown, in a Lease renewal seen after
// the reconnect window, that all reconnects to it are written (replica-leases.ts
// unreportedSince); and at the latest after REPORT_WAIT_MAX_MS it pauses the rollout saying
// what is not known. No wave goes on meanwhile (staged-rollout.ts holds time and settled waves).
// The Leases and the NodeMasquerades come on two watches, and the latter may lag: before a
// verdict (several replicas only) the suspect's NodeMasquerade is read fresh from the API server
// (FreshRead), and one naming a connected holder is not gone; a read that fails, or is not done
// yet, means not known yet, never gone (bounded: FRESH_READS_PER_SECOND, FRESH_READS_IN_FLIGHT).

/**
 * The reconnect window: reporters reconnect within 10 s of losing their replica, plus 5 s for
 * the new holder to queue its status write and for its Lease renewal to be seen here.
 */
export const RECONNECT_GRACE_MS = 15_000;
/**
 * The longest a suspect waits for the replicas to report (then it pauses the rollout as not
 * known): a dead replica's 15,000 nodes all reconnecting to one survivor take 300 s of its 50/s
 * budget; reconnects are written first (status-writer.ts), so the usual wait is far shorter.
 */
export const REPORT_WAIT_MAX_MS = 300_000;

/**
 * A fresh read (a GET, not the watch) of a node's NodeMasquerade: does it name a connected
 * holder (another replica)? Rejects when the read fails; a missing object resolves false.
 */
export type FreshRead = (name: string) => Promise<boolean>;

/** Fresh reads started per second at most (a token bucket of this burst), and at once. */
export const FRESH_READS_PER_SECOND = 10;
export const FRESH_READS_IN_FLIGHT = 4;
/** A fresh read not answered within this long failed; one that failed is tried again after. */
export const FRESH_READ_TIMEOUT_MS = 10_000;
export const FRESH_RETRY_MS = 5_000;

/** A suspect's fresh read: in flight, answered (`connected`), or failed (why, and when). */
type Read =
  | { state: "pending" }
  | { state: "done"; connected: boolean }
  | { state: "failed"; error: string; at: number };

interface Suspect {
  /** When it was seen offline here (ms, this replica's clock). */
  at: number;
  /** The sentence that pauses the rollout if it stays offline ("n-1 went offline 2 s after applying"). */
  reason: string;
  /** The rollout (its resourceVersion) the node went offline in. */
  of: string;
  /** The replicas whose reconnects are not known to be written yet, at the last judgement. */
  waiting: string[];
  /** Its fresh read for the verdict due (undefined: none asked since the last). */
  read?: Read;
  /** The replica that held it when it went offline (another replica's node), if named. */
  holder?: string;
}

/**
 * The live replicas that have not shown, in a Lease renewal seen at `since` or later, that
 * every reconnect to them is written (each with why); empty: they all have.
 */
export type Unreported = (since: number) => string[];

/**
 * Why whether `replica` still holds its nodes is not known here (it stopped renewing its Lease
 * without releasing it: cut off from the API server, or dead, not told apart by a Lease);
 * undefined when known (live, released on shutdown, or without a Lease).
 */
export type HolderUnknown = (replica: string) => string | undefined;

export class OfflineSuspects {
  private readonly suspects = new Map<string, Suspect>();
  private tokens = FRESH_READS_PER_SECOND;
  private refilledAt = 0;
  private inFlight = 0;

  /** `fresh`: the fresh read before a verdict (absent: none, as in file mode). */
  constructor(private readonly fresh?: FreshRead) {}

  get size(): number {
    return this.suspects.size;
  }

  /**
   * `name` went offline at `now`, soon after applying the rollout `of` (the first time counts);
   * `holder`: the other replica that held it, whose word the offline is.
   */
  add(name: string, reason: string, of: string, now: number, holder?: string): void {
    if (!this.suspects.has(name))
      this.suspects.set(name, { at: now, reason, of, waiting: [], holder });
  }

  /**
   * The pause reasons of the suspects of rollout `of` judged now (dropped once judged): gone
   * (connected nowhere, every replica's reconnects written) or not known (REPORT_WAIT_MAX_MS
   * passed with some replica's not written). Suspects connected again (`connected`: here, or
   * to another replica by its NodeMasquerade), or of another rollout than `of` (null: none
   * runs), are dropped. `unreported` undefined: no other replica (judged after the window).
   * `holderUnknown`: a suspect whose holder's state is not known (it stopped renewing its
   * Lease, maybe alive and still holding the node) is never gone: it waits for the bound.
   */
  judge(
    of: string | null,
    now: number,
    connected: (name: string) => boolean,
    unreported?: Unreported,
    holderUnknown?: HolderUnknown,
  ): string[] {
    const out: string[] = [];
    for (const [name, s] of this.suspects) {
      if (s.of !== of || connected(name)) {
        this.suspects.delete(name);
        continue;
      }
      if (now - s.at < RECONNECT_GRACE_MS) continue;
      const verdict = this.verdict(name, s, now, unreported, holderUnknown);
      if (verdict === null) continue;
      this.suspects.delete(name);
      if (verdict !== CONNECTED) out.push(verdict);
    }
    return out;
  }

  /** A suspect past its reconnect window: its verdict, CONNECTED, or null (not yet). */
  private verdict(
    name: string,
    s: Suspect,
    now: number,
    unreported?: Unreported,
    holderUnknown?: HolderUnknown,
  ): string | null {
    if (!unreported)
      return `${s.reason}, and did not reconnect within ${RECONNECT_GRACE_MS / 1000} s`;
    s.waiting = unreported(s.at + RECONNECT_GRACE_MS);
    // Its offline is the word of a Lease alone (the singleton marks a silent holder's nodes so):
    // the holder may be alive and hold it still, so it is not known, never gone (issue 17).
    const unknown = s.holder === undefined ? undefined : holderUnknown?.(s.holder);
    if (unknown !== undefined) s.waiting = [...s.waiting, unknown];
    const due = verdictOf(s, now);
    if (due !== null) return this.checked(name, s, due, now);
    // A read answered while no verdict was due (a replica fell behind since) is stale by then.
    if (s.read?.state !== "pending") s.read = undefined;
    return null;
  }

  /**
   * A verdict due (several replicas), checked by a fresh read of the node's NodeMasquerade:
   * the verdict once a read since says connected nowhere, CONNECTED when it names a connected
   * holder, null meanwhile (reading, or a read failed: not known yet). Past REPORT_WAIT_MAX_MS a
   * node whose read never answered is not known, never gone.
   */
  private checked(name: string, s: Suspect, due: string, now: number): string | null {
    if (!this.fresh) return due;
    const r = s.read;
    if (r?.state === "done") return r.connected ? CONNECTED : due;
    if (r?.state === "pending") return null;
    const past = now - s.at >= REPORT_WAIT_MAX_MS;
    const retry = r === undefined || (!past && now - r.at >= FRESH_RETRY_MS);
    if (retry && this.take(now)) {
      this.read(name, s, now);
      return null;
    }
    if (!past) return null;
    // Past the bound with no answer: not known, never gone.
    const why = r?.state === "failed" ? `could not be read (${r.error})` : "was not read yet";
    const within = `its NodeMasquerade ${why} within ${REPORT_WAIT_MAX_MS / 1000} s`;
    return s.waiting.length > 0
      ? `${due}; ${within}`
      : `${s.reason}; whether it reconnected was not known: ${within}`;
  }

  /** A token of the fresh-read bucket, and a place in flight; false: not now. */
  private take(now: number): boolean {
    const elapsed = Math.max(0, now - this.refilledAt) / 1000;
    this.tokens = Math.min(FRESH_READS_PER_SECOND, this.tokens + elapsed * FRESH_READS_PER_SECOND);
    this.refilledAt = now;
    if (this.tokens < 1 || this.inFlight >= FRESH_READS_IN_FLIGHT) return false;
    this.tokens -= 1;
    return true;
  }

  private read(name: string, s: Suspect, now: number): void {
    const read: Read = { state: "pending" };
    s.read = read;
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${FRESH_READ_TIMEOUT_MS / 1000} s`)),
        FRESH_READ_TIMEOUT_MS,
      );
      timer.unref?.();
    });
    // A reader that throws at once fails as one that rejects (judge never throws for it).
    Promise.race([Promise.resolve().then(() => this.fresh!(name)), timeout])
      .then(
        (connected): Read => ({ state: "done", connected }),
        (e): Read => ({
          state: "failed",
          // Its first line, bounded: it goes into the pause reason (at most 2,000 characters).
          error: (e instanceof Error ? e.message : String(e)).split("\n")[0]!.slice(0, 200),
          at: now,
        }),
      )
      .then((answer) => {
        clearTimeout(timer);
        this.inFlight--;
        // Only the suspect that asked, if still suspected (a re-added one asks again).
        if (this.suspects.get(name) === s && s.read === read) s.read = answer;
      });
  }

  /**
   * Why no wave goes on now, naming what is not known yet; null: no suspect. `alone`: no other
   * replica (judge gets no `unreported`), so each is judged as its reconnect window ends.
   * `wallOf`: a time of the suspects' clock (monotonic) as a wall-clock time, to show.
   */
  message(alone = false, wallOf: (at: number) => number = (at) => at): string | null {
    if (this.suspects.size === 0) return null;
    const names = [...this.suspects.keys()];
    const shown =
      names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
    const waitingFor = new Set<string>();
    let last = 0;
    for (const s of this.suspects.values()) {
      for (const w of s.waiting) waitingFor.add(w);
      last = Math.max(last, s.at);
    }
    const waiting = [...waitingFor];
    if (alone) {
      const at = new Date(wallOf(last + RECONNECT_GRACE_MS)).toISOString();
      return `No wave goes on until it is known whether ${shown} reconnected: offline right after applying, not reconnected yet (reporters reconnect within 10 s; judged at ${at})`;
    }
    const until = new Date(wallOf(last + REPORT_WAIT_MAX_MS)).toISOString();
    const why =
      waiting.length > 0
        ? `waiting for the replicas' reconnects to be written: ${shown3(waiting)}`
        : `reporters reconnect within 10 s`;
    return `No wave goes on until it is known whether ${shown} reconnected: offline right after applying, not yet reported connected by any replica (${why}; judged by ${until} at the latest)`;
  }
}

/** judge: the fresh read named a connected holder (not gone; no pause). */
const CONNECTED = "\u0000connected";

/**
 * The pause sentence of a suspect past the reconnect window; null: still waiting for reports.
 * Past tense: the pause outlives the moment (the node may be back when someone reads it).
 */
function verdictOf(s: Suspect, now: number): string | null {
  if (s.waiting.length === 0)
    return `${s.reason}, and no replica held it once every replica had written its reconnects`;
  if (now - s.at < REPORT_WAIT_MAX_MS) return null;
  return `${s.reason}; whether it reconnected was not known: no replica reported it connected within ${REPORT_WAIT_MAX_MS / 1000} s (${shown3(s.waiting)})`;
}

function shown3(list: readonly string[]): string {
  return list.slice(0, 3).join("; ") + (list.length > 3 ? `; and ${list.length - 3} more` : "");
}
