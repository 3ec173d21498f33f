// A token bucket (golang.org/x/time/rate, as client-go's flowcontrol rate limiter): `ratePerSecond`
// tokens a second up to `burst`; take() spends one when there is one, waitMs() says how long
// until there is. Elapsed time is measured on `now`, a monotonic clock by default
// (performance.now): on the wall clock a step forward refilled the bucket at once.
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1))
      throw new Error("a token bucket needs a rate above 0 and a burst of at least 1");
    this.tokens = burst;
    this.at = now();
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until take() can succeed (0 when it can now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    // A clock stepped back (a caller's wall clock) gives no tokens, and takes none: counted
    // from the new time on, or the bucket would wait the length of the step
    // (golang.org/x/time/rate does the same with its "last" time ahead of now).
    const elapsed = Math.max(0, t - this.at);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.ratePerSecond);
    this.at = t;
  }
}
