// The enforcer's applies, one at a time. A request made while another waits is folded into
// the waiting one (which applies whatever config is current when it runs, under the newest
// trigger), so a burst of desired configs, resyncs and heals costs at most two applies.
import { Mutex } from "@masq/node-util";
import type { ApplyTrigger } from "@masq/shared";

export class ApplyQueue {
  private readonly lock = new Mutex();
  private queued: Promise<void> | undefined;
  private trigger: ApplyTrigger = "periodic";
  private running = false;

  constructor(private readonly run: (trigger: ApplyTrigger) => Promise<void>) {}

  /** Resolves when the apply that serves this request has finished. */
  request(trigger: ApplyTrigger): Promise<void> {
    this.trigger = trigger;
    if (this.queued) return this.queued;
    const p = this.lock.run(async () => {
      this.queued = undefined;
      this.running = true;
      try {
        await this.run(this.trigger);
      } finally {
        this.running = false;
      }
    });
    this.queued = p;
    return p;
  }

  /** An apply is running or waiting to start. */
  busy(): boolean {
    return this.running || this.queued !== undefined;
  }

  /** Resolves when every apply requested so far has finished. */
  idle(): Promise<void> {
    return this.lock.run(() => undefined);
  }
}
