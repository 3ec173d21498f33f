// Reporters on their way to a connection here: an upgrade whose token is being checked, or
// upgraded but not holding its node yet (hello, claim), and reporters refused for now (`busy`,
// or their token could not be checked) that retry within their backoff. None of them is in the
// fleet state yet, so none is among the reconnects waiting for their status write; a staged
// rollout's owner that did not count them called a node mid-reconnect gone (issue 17). They go
// on this replica's Lease with those reconnects (replica-sync.ts reconnectsPending).

/**
 * A reporter refused for now retries within this long: its backoff caps at 30 s
 * (apps/reporter/src/link.ts DEFAULT_BACKOFF.maxMs, jitter 0.5–1), plus a second for the
 * connect itself.
 */
export const RETRY_WITHIN_MS = 31_000;
/** Refusals are counted per second of this clock, over RETRY_WITHIN_MS: bounded memory. */
const BUCKET_MS = 1_000;
const BUCKETS = Math.ceil(RETRY_WITHIN_MS / BUCKET_MS);

export class ConnectingReporters {
  /** Upgrades not yet holding their node (token checked, or hello and claim waited for). */
  private inProgress = 0;
  /** Refusals per second, a ring: `refusals[i]` counts second `second[i]`. */
  private readonly refusals = new Array<number>(BUCKETS).fill(0);
  private readonly second = new Array<number>(BUCKETS).fill(-1);

  /** `now`: a monotonic clock in ms (default performance.now). */
  constructor(private readonly now: () => number = () => performance.now()) {}

  /**
   * An upgrade began; the function returned ends it (it holds its node, failed or closed).
   * Calling it again does nothing, so every way out may call it.
   */
  begin(): () => void {
    this.inProgress++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inProgress--;
    };
  }

  /** A reporter was refused for now (it retries within RETRY_WITHIN_MS). */
  refused(): void {
    const s = Math.floor(this.now() / BUCKET_MS);
    const i = s % BUCKETS;
    if (this.second[i] !== s) {
      this.second[i] = s;
      this.refusals[i] = 0;
    }
    this.refusals[i]!++;
  }

  /**
   * Reporters connecting here now: upgrades in progress plus refusals within RETRY_WITHIN_MS
   * (a refusal counts each attempt: a reporter refused twice counts twice, which only makes the
   * owner wait longer, never call a node gone sooner).
   */
  count(): number {
    const now = Math.floor(this.now() / BUCKET_MS);
    let n = this.inProgress;
    for (let i = 0; i < BUCKETS; i++) if (now - this.second[i]! < BUCKETS) n += this.refusals[i]!;
    return n;
  }
}
