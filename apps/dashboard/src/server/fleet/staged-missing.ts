// Nodes of a staged rollout whose NodeMasquerade went, and the fresh reads (a GET: the watch may
// lag the holder's rewrite) that tell whether it is gone from the API server (issue 17).
import { FRESH_READS_IN_FLIGHT } from "./staged-offline.js";

type Read = "pending" | "exists" | "absent" | "failed";

export class MissingNodes {
  /** Name → since when its object is missing (this replica's clock, ms). */
  private readonly since = new Map<string, number>();
  /** Fresh reads of missing nodes' objects, by name: at most one per node. */
  private readonly reads = new Map<string, Read>();
  private inFlight = 0;

  get size(): number {
    return this.since.size;
  }

  has(name: string): boolean {
    return this.since.has(name);
  }

  /** Missing from `at` (kept if already missing). */
  add(name: string, at: number): void {
    if (!this.since.has(name)) this.since.set(name, at);
  }

  /** Its object seen again, or the node dropped: no longer missing. */
  delete(name: string): void {
    this.since.delete(name);
    this.reads.delete(name);
  }

  clear(): void {
    this.since.clear();
    this.reads.clear();
  }

  entries(): IterableIterator<[string, number]> {
    return this.since.entries();
  }

  /**
   * Is the object absent from the API server, read fresh? False while the read is asked or in
   * flight (at most FRESH_READS_IN_FLIGHT at once), failed (not known), or found the object (the
   * watch lags; asked again at a later tick). True without a reader.
   */
  absentFresh(name: string, read: ((name: string) => Promise<boolean>) | undefined): boolean {
    if (!read) return true;
    const r = this.reads.get(name);
    if (r === "absent") return true;
    if (r === "pending") return false;
    this.reads.delete(name);
    if (this.inFlight >= FRESH_READS_IN_FLIGHT) return false;
    this.reads.set(name, "pending");
    this.inFlight++;
    Promise.resolve()
      .then(() => read(name))
      .then(
        (exists): Read => (exists ? "exists" : "absent"),
        (): Read => "failed",
      )
      .then((answer) => {
        this.inFlight--;
        if (this.reads.get(name) === "pending") this.reads.set(name, answer);
      });
    return false;
  }
}
