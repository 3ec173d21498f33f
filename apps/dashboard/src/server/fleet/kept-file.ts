// A file the dashboard keeps in its data dir across restarts (the node roster, the nodes'
// timelines): read once at start, checked whole, a bad one moved aside (never deleted) and said
// in problems(); then written whole (atomically, by the store) when what it keeps changed, at
// most once per `everyMs`, and exactly at a clean stop.
import { performance } from "node:perf_hooks";
import { sha256 } from "@masq/node-util";
import type { Logger } from "pino";

/** Where a kept file lives (the file store's data dir: store/roster-file.ts). */
export interface DataFile {
  readonly path: string;
  /** Its text; null when there is none. Throws when it cannot be read or is over `maxBytes`. */
  read(maxBytes: number): Promise<string | null>;
  write(text: string): Promise<void>;
  /** Moves a bad file aside, kept for a person to look at; resolves to where. */
  setAside(): Promise<string>;
}

export type KeptRead<T> = { ok: true; value: T } | { ok: false; error: string };

export interface KeptFileOptions<T> {
  file: DataFile;
  /** Its name in problems and logs: "the node roster". */
  what: string;
  /** What a read refused loses, after a colon: "nodes known before this start … are not listed". */
  readLoss: string;
  /** What a failed write would lose after a restart. */
  writeLoss: string;
  maxBytes: number;
  /** What is kept when there is no file (or a bad one). */
  none: T;
  parse(text: string): KeptRead<T>;
  /** The text of what is kept now; `exact` at a clean stop (the roster's last seen times). */
  text(exact: boolean): string;
  /** Writes at most once per this long. */
  everyMs: number;
  /** Unchanged, rebuilt anyway after this long (the roster's seen step); default never. */
  refreshMs?: number;
  log: Logger;
  /** Monotonic ms (tests step it). */
  now?: () => number;
}

export class KeptFile<T> {
  private dirty = true;
  /** SHA-256 of the text written last, not the text (megabytes held for one comparison). */
  private written: string | undefined;
  private lastTry = Number.NEGATIVE_INFINITY;
  private builtAt = Number.NEGATIVE_INFINITY;
  private writing: Promise<void> | undefined;
  /** A writeNow waiting for the write under way, which later calls share. */
  private next: Promise<void> | undefined;
  private readProblem: string | undefined;
  private writeProblem: string | undefined;
  private readonly now: () => number;

  constructor(private readonly o: KeptFileOptions<T>) {
    this.now = o.now ?? (() => performance.now());
  }

  /**
   * What was kept before this start; `none` when there is none or it is bad: a bad one is
   * logged, said in problems() and moved aside (never deleted, never written over).
   */
  async load(): Promise<T> {
    let text: string | null;
    try {
      text = await this.o.file.read(this.o.maxBytes);
    } catch (e) {
      return this.refuse((e as Error).message);
    }
    // None yet: nothing is written until there is something to keep (a dashboard with no node
    // never wrote one, and a test removing its data dir raced the write).
    if (text === null) {
      this.written = sha256(this.o.text(true));
      return this.o.none;
    }
    const r = this.o.parse(text);
    return r.ok ? r.value : this.refuse(r.error);
  }

  private async refuse(error: string): Promise<T> {
    const aside = await this.o.file.setAside().then(
      (to) => `moved aside to ${to}`,
      (e: Error) => `left in place, as it could not be moved aside: ${e.message}`,
    );
    this.readProblem = `${this.o.what} ${this.o.file.path} could not be read (${error}; ${aside}): ${this.o.readLoss}`;
    this.o.log.error({ err: error, file: this.o.file.path }, `cannot read ${this.o.what}`);
    return this.o.none;
  }

  /** What it keeps changed: written at the next turn that is due. */
  changed(): void {
    this.dirty = true;
  }

  /** Called every second: writes when changed (or refreshMs passed) and due. */
  tick(): void {
    const now = this.now();
    if (this.writing || now - this.lastTry < this.o.everyMs) return;
    if (!this.dirty && now - this.builtAt < (this.o.refreshMs ?? Number.POSITIVE_INFINITY)) return;
    this.write(now);
  }

  private write(now: number): Promise<void> {
    this.lastTry = now;
    this.builtAt = now;
    this.dirty = false;
    const writing = this.save(this.o.text(false)).finally(() => {
      if (this.writing === writing) this.writing = undefined;
    });
    this.writing = writing;
    return writing;
  }

  /**
   * Written now, past the throttle, once the write under way (if any) ends; resolves when the
   * file is what it keeps now. Whether the write succeeded is in problems(). Calls made while
   * one waits for that write share its write (its text is built after all of them): a script
   * removing 1,000 nodes at once wrote the whole file 1,000 times (~0.1-0.3 s of main thread
   * each for the nodes' events at 15,000 nodes).
   */
  writeNow(): Promise<void> {
    this.next ??= (async () => {
      await this.writing;
      this.next = undefined;
      this.dirty = true;
      await this.write(this.now());
    })();
    return this.next;
  }

  /** At a clean stop: what it keeps as it is now, exact. */
  async flush(): Promise<void> {
    await this.writing;
    await this.save(this.o.text(true));
  }

  /** Only a text that differs from the one written last. */
  private async save(text: string): Promise<void> {
    const digest = sha256(text);
    if (digest === this.written) return;
    if (Buffer.byteLength(text) > this.o.maxBytes) {
      this.failed(`it would be over ${this.o.maxBytes} bytes`);
      return;
    }
    try {
      await this.o.file.write(text);
      this.written = digest;
      if (this.writeProblem) this.o.log.info(`${this.o.what} is written again`);
      this.writeProblem = undefined;
    } catch (e) {
      this.failed((e as Error).message);
    }
  }

  private failed(why: string): void {
    this.dirty = true; // tried again at the next turn
    if (this.writeProblem === undefined)
      this.o.log.error({ err: why, file: this.o.file.path }, `cannot write ${this.o.what}`);
    this.writeProblem = `${this.o.what} ${this.o.file.path} could not be written (${why}): ${this.o.writeLoss}`;
  }

  /** For /healthz and /readyz: a file that could not be read at start, or written now. */
  problems(): string[] {
    return [this.readProblem, this.writeProblem].filter((p): p is string => p !== undefined);
  }
}
