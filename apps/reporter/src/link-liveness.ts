// How fast a reporter notices a dashboard that stopped answering without closing the
// connection: its node lost power or was partitioned away, or its process froze. No FIN or RST
// arrives, and the kernel of a frozen process still ACKs, so neither TCP keepalive nor
// TCP_USER_TIMEOUT sees it; only an answer from the dashboard's own event loop does. The
// reporter sends a WebSocket ping when the link has been idle, which the dashboard's `ws`
// answers in its frame parser (no JSON, no schema), and declares the dashboard dead after a
// silence far longer than the event-loop lag a busy replica shows during a large push
// (docs/scale-out.md, "When a replica dies").
import type { Logger } from "./log.js";

/** Link liveness, in milliseconds. */
export interface LivenessPolicy {
  /** A ping when nothing (frame or pong) arrived for this long, at most one per this long. */
  pingIdleMs: number;
  /** The dashboard is dead after this long without any frame or pong. */
  deadAfterMs: number;
  /** After a dead link, a further connect attempt when one has not opened within this long. */
  hedgeMs: number;
}

/**
 * 1.5 s / 5 s / 1.5 s: a lost replica is noticed within 5.5 s and a live one reached within
 * 10 s; a healthy replica's pong comes back within its event-loop lag (max 0.1–0.9 s measured
 * during pushes to 5,000–19,000 nodes), far below 5 s.
 */
export const DEFAULT_LIVENESS: LivenessPolicy = {
  pingIdleMs: 1_500,
  deadAfterMs: 5_000,
  hedgeMs: 1_500,
};

/** How often the link's silence is judged. */
export const LIVENESS_CHECK_MS = 500;
/** A check this late means the reporter's own loop was blocked: frames may be waiting unread. */
const LATE_CHECK_MS = 2 * LIVENESS_CHECK_MS;

export interface LivenessClock {
  now: number;
  /** When the last frame or pong arrived. */
  lastSeen: number;
  lastPing: number;
  /** When the previous check ran. */
  lastCheck: number;
}

/**
 * What one check does: `late` (our own loop was blocked, so judge nothing until pending frames
 * are read), `dead`, `ping`, or `idle` (nothing to do).
 */
export function livenessStep(
  c: LivenessClock,
  p: LivenessPolicy,
): "late" | "dead" | "ping" | "idle" {
  if (c.now - c.lastCheck > LATE_CHECK_MS) return "late";
  const silent = c.now - c.lastSeen;
  if (silent >= p.deadAfterMs) return "dead";
  if (silent >= p.pingIdleMs && c.now - c.lastPing >= p.pingIdleMs) return "ping";
  return "idle";
}

/** The timer side of `livenessStep` for one connection. */
export class Liveness {
  private timer: NodeJS.Timeout | undefined;
  /** The longest silence a check saw (frames and pongs), ms: the margin below deadAfterMs. */
  maxSilentMs = 0;
  private readonly clock: LivenessClock = { now: 0, lastSeen: 0, lastPing: 0, lastCheck: 0 };

  constructor(
    private readonly policy: LivenessPolicy,
    private readonly log: Logger,
    private readonly on: { ping: () => void; dead: () => void },
  ) {}

  /** Something arrived from the dashboard. */
  seen(): void {
    this.clock.lastSeen = Date.now();
  }

  start(): void {
    const now = Date.now();
    Object.assign(this.clock, { lastSeen: now, lastPing: now, lastCheck: now });
    clearInterval(this.timer);
    this.timer = setInterval(() => this.check(), LIVENESS_CHECK_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private check(): void {
    const c = this.clock;
    c.now = Date.now();
    const step = livenessStep(c, this.policy);
    c.lastCheck = c.now;
    if (step !== "late") this.maxSilentMs = Math.max(this.maxSilentMs, c.now - c.lastSeen);
    if (step === "late") c.lastSeen = Math.max(c.lastSeen, c.now - this.policy.pingIdleMs);
    else if (step === "ping") {
      c.lastPing = c.now;
      this.on.ping();
    } else if (step === "dead") {
      this.stop();
      this.log.warn({ silentMs: c.now - c.lastSeen }, "dashboard silent; reconnecting");
      this.on.dead();
    }
  }
}
