// Browser sessions: an opaque id in an httpOnly cookie maps to the token the person logged
// in with, so every request is re-checked (a revoked token or role ends the session's
// rights within the auth cache TTL). In memory: a dashboard restart means logging in again.
//
// Bounded per principal: signing in again and again only pushes out that principal's own
// least recently used sessions, never someone else's. The global cap (many principals) evicts
// the least recently used session of anyone. Whoever cares when a session ends (its live event
// streams) subscribes with onEnd.
import { randomToken } from "./tokens.js";

export interface Session {
  id: string;
  token: string;
  csrf: string;
  /** Who signed in (Principal.user): the unit of the per-principal cap. */
  principal: string;
  /**
   * When it expires, on the monotonic clock (performance.now ms; never shown): on the wall
   * clock a step forward signed everyone out, a step back kept sessions alive for the step.
   */
  expires: number;
}

export type SessionEnd = "logout" | "expired" | "evicted" | "revoked";

/** How many ended sessions are remembered, to tell their browsers why (bounded: FIFO). */
const ENDED_KEPT = 10_000;
export type SessionEndListener = (id: string, why: SessionEnd) => void;

export interface SessionLimits {
  ttlMs?: number;
  /** Sessions one principal may hold (browsers, tabs that signed in again). */
  perPrincipal?: number;
  /** All sessions. */
  total?: number;
}

export class SessionStore {
  /** Least recently used first. */
  private readonly sessions = new Map<string, Session>();
  /** principal → its session ids, least recently used first. */
  private readonly byPrincipal = new Map<string, Set<string>>();
  private readonly listeners = new Set<SessionEndListener>();
  /** Recently ended sessions (not logouts) → why, oldest first. */
  private readonly ended = new Map<string, Exclude<SessionEnd, "logout">>();
  private readonly ttlMs: number;
  private readonly perPrincipal: number;
  private readonly total: number;

  constructor(limits: SessionLimits = {}) {
    this.ttlMs = limits.ttlMs ?? 12 * 3600_000;
    this.perPrincipal = limits.perPrincipal ?? 20;
    this.total = limits.total ?? 10_000;
  }

  create(token: string, principal: string, now = performance.now()): Session {
    const s: Session = {
      id: randomToken(),
      token,
      csrf: randomToken(),
      principal,
      expires: now + this.ttlMs,
    };
    this.sessions.set(s.id, s);
    const own = this.byPrincipal.get(principal) ?? new Set<string>();
    own.add(s.id);
    this.byPrincipal.set(principal, own);
    if (own.size > this.perPrincipal) this.end(own.values().next().value as string, "evicted");
    if (this.sessions.size > this.total)
      this.end(this.sessions.keys().next().value as string, "evicted");
    return s;
  }

  /** The live session with this id, marked as just used; undefined when unknown or expired. */
  get(id: string | undefined, now = performance.now()): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expires <= now) {
      this.end(id, "expired");
      return undefined;
    }
    this.sessions.delete(id);
    this.sessions.set(id, s);
    const own = this.byPrincipal.get(s.principal)!;
    own.delete(id);
    own.add(id);
    return s;
  }

  /** Ends a session (logout, or its token no longer valid). */
  delete(id: string, why: SessionEnd = "logout"): void {
    if (this.sessions.has(id)) this.end(id, why);
  }

  /** Ends every expired session now (sessions otherwise expire when next used). */
  sweep(now = performance.now()): void {
    for (const s of [...this.sessions.values()]) if (s.expires <= now) this.end(s.id, "expired");
  }

  /** Why a session that no longer exists ended, if it ended recently (a logout is not told). */
  endedWhy(id: string | undefined): Exclude<SessionEnd, "logout"> | undefined {
    return id ? this.ended.get(id) : undefined;
  }

  onEnd(fn: SessionEndListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  get size(): number {
    return this.sessions.size;
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  private end(id: string, why: SessionEnd): void {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    const own = this.byPrincipal.get(s.principal);
    own?.delete(id);
    if (own?.size === 0) this.byPrincipal.delete(s.principal);
    if (why !== "logout") {
      this.ended.set(id, why);
      if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value as string);
    }
    for (const fn of this.listeners) fn(id, why);
  }
}
