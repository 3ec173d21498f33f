// Browser sessions: an opaque id in an httpOnly cookie maps to the token the person logged
// in with, so every request is re-checked (a revoked token or role ends the session's
// rights within the auth cache TTL). In memory: a dashboard restart means logging in again.
import { randomToken } from "./tokens.js";

export interface Session {
  id: string;
  token: string;
  csrf: string;
  expires: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly ttlMs = 12 * 3600_000,
    private readonly maxSessions = 10_000,
  ) {}

  create(token: string, now = Date.now()): Session {
    const s: Session = { id: randomToken(), token, csrf: randomToken(), expires: now + this.ttlMs };
    this.sessions.set(s.id, s);
    if (this.sessions.size > this.maxSessions)
      this.sessions.delete(this.sessions.keys().next().value as string);
    return s;
  }

  get(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (s && s.expires <= now) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  delete(id: string): void {
    this.sessions.delete(id);
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }
}
