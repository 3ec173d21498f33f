// Per-client backoff on failed sign-ins and bearer tokens: a few mistakes are free, then each
// failure doubles the wait before the next attempt is even checked. During the wait every
// attempt, right or wrong, is refused unchecked: answering a right token would tell a guesser
// it was right. Bounded: idle clients are forgotten, and at most `maxClients` are tracked.
import type { IncomingMessage } from "node:http";
import { formatIp, maskOf, parseIp } from "@masq/shared";

export interface ThrottleOptions {
  /** Failures allowed before any wait (typos). */
  freeFailures?: number;
  /** Wait after the first failure past the free ones; doubles with each further failure. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A client with no failure for this long starts over. */
  forgetAfterMs?: number;
  maxClients?: number;
  /** The clock waits are measured on: monotonic ms (default performance.now). */
  now?: () => number;
}

interface ClientState {
  failures: number;
  /** No attempt is checked before this time. */
  blockedUntil: number;
  lastFailure: number;
}

export interface Failure {
  failures: number;
  /** How long this client must now wait (0 while failures are still free). */
  waitMs: number;
}

export class LoginThrottle {
  private readonly clients = new Map<string, ClientState>();
  private readonly o: Required<ThrottleOptions>;

  constructor(o: ThrottleOptions = {}) {
    this.o = {
      freeFailures: 5,
      baseDelayMs: 1_000,
      maxDelayMs: 5 * 60_000,
      forgetAfterMs: 15 * 60_000,
      maxClients: 10_000,
      // Monotonic: on the wall clock a step forward lifted every wait, a step back held it.
      now: () => performance.now(),
      ...o,
    };
  }

  /** Milliseconds `client` must still wait before an attempt is checked; 0 when it may try. */
  waitMs(client: string): number {
    const s = this.live(client);
    return s ? Math.max(0, s.blockedUntil - this.o.now()) : 0;
  }

  /** Records a failed attempt and returns the wait it imposes. */
  fail(client: string): Failure {
    const now = this.o.now();
    const s = this.live(client) ?? { failures: 0, blockedUntil: 0, lastFailure: now };
    s.failures++;
    s.lastFailure = now;
    const over = s.failures - this.o.freeFailures;
    const waitMs =
      over <= 0 ? 0 : Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** Math.min(over - 1, 30));
    s.blockedUntil = now + waitMs;
    // Most recent last: the first entry is the one idle longest.
    this.clients.delete(client);
    this.clients.set(client, s);
    if (this.clients.size > this.o.maxClients)
      this.clients.delete(this.clients.keys().next().value as string);
    return { failures: s.failures, waitMs };
  }

  /** A successful attempt clears the client's record. */
  succeed(client: string): void {
    this.clients.delete(client);
  }

  get size(): number {
    return this.clients.size;
  }

  private live(client: string): ClientState | undefined {
    const s = this.clients.get(client);
    if (s && this.o.now() - s.lastFailure > this.o.forgetAfterMs) {
      this.clients.delete(client);
      return undefined;
    }
    return s;
  }
}

/**
 * Who is asking, as the backoff counts it: the peer address of the connection (proxies are not
 * trusted: X-Forwarded-For is the client's to write). IPv6 clients are counted per /64, the
 * block one host usually gets, so rotating addresses inside it does not reset the wait.
 */
export function clientKey(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? "unknown";
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(addr);
  if (v4) return v4[1]!;
  const ip = parseIp(addr.split("%")[0]!);
  if (ip?.family !== "ipv6") return addr;
  return `${formatIp("ipv6", ip.value & maskOf("ipv6", 64))}/64`;
}
