// CPU-heavy request work (parsing and judging a config of thousands of CIDRs, a history of
// large revisions) runs here one task at a time, with the event loop let through before each
// task and between its phases, so probes, reporters and light requests never wait for more than
// one phase. Tasks waiting are bounded: past that a request is refused (503), not queued.
import { Mutex } from "@masq/node-util";
import { HttpError } from "../errors.js";

/** Lets pending I/O (probes, reporter frames) run before going on. */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export class WorkQueue {
  private readonly lock = new Mutex();
  private waiting = 0;

  /** `maxWaiting`: tasks that may wait behind the running one. */
  constructor(readonly maxWaiting: number) {}

  /** Runs `task` after those before it; a 503 HttpError when too many already wait. */
  run<T>(task: () => T | Promise<T>): Promise<T> {
    if (this.waiting >= this.maxWaiting)
      return Promise.reject(
        new HttpError(503, "the dashboard is busy checking other configs; retry in a moment"),
      );
    this.waiting++;
    return this.lock.run(async () => {
      this.waiting--;
      await yieldToEventLoop();
      return task();
    });
  }

  /** Tasks waiting behind the running one (for tests and metrics). */
  pending(): number {
    return this.waiting;
  }
}
