// The agent's reads of the node: at most one at a time, and requests made during a read (a
// change event, a reconnect, a resync) cause exactly one more, so a burst costs two reads.
import type { Backend, Observed } from "../backend/types.js";
import { observedReadFailed } from "../backend/types.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

const readFailed = observedReadFailed;

export class NodeReader {
  private reading: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly o: {
      backend: Backend;
      metrics: Metrics;
      log: Logger;
      /** Each successful read, until stop(). */
      onRead: (observed: Observed) => void;
    },
  ) {}

  /** Resolves when a read that started after this call has finished. */
  refresh(): Promise<void> {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again && !this.stopped);
      this.reading = undefined;
    })();
    return this.reading;
  }

  /** No more reads are reported; resolves when the one in progress (if any) has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.reading;
  }

  private async readOnce(): Promise<void> {
    const { backend, metrics, log } = this.o;
    try {
      const observed: Observed = await backend.read();
      metrics.reads.inc({ result: readFailed(observed) ? "error" : "ok" });
      if (!this.stopped) this.o.onRead(observed);
    } catch (e) {
      metrics.reads.inc({ result: "error" });
      const what = backend.os === "windows" ? "reading the CNI config" : "reading the chains";
      log.error({ err: (e as Error).message }, `${what} failed`);
    }
  }
}
