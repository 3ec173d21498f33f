// Who is making an HTTP request: a bearer token (API clients) or a session cookie (browsers),
// and whether a cookie-authenticated mutation carries the CSRF proof.
import type { IncomingMessage } from "node:http";
import { SESSION_END_MESSAGE, type SessionEndReason } from "@masq/shared";
import type { Logger } from "pino";
import { HttpError } from "../errors.js";
import type { Metrics } from "../metrics.js";
import { CSRF_COOKIE, CSRF_HEADER, parseCookies, SESSION_COOKIE } from "./cookies.js";
import { clientKey, type LoginThrottle } from "./login-throttle.js";
import type { Session, SessionStore } from "./sessions.js";
import { bearerToken, safeEqual } from "./tokens.js";
import type { PeopleAuthenticator, PeopleAuthResult, Principal } from "./types.js";

type AuthFailure =
  | { ok: false; status: 401 | 403 | 503; error: string; sessionEnded?: SessionEndReason }
  | { ok: false; status: 429; error: string; retryAfterS: number };

export type RequestAuth =
  | { ok: true; principal: Principal; via: "bearer" }
  | { ok: true; principal: Principal; via: "session"; session: Session }
  | AuthFailure;

/** The backoff on wrong tokens, shared by sign-in and API bearer tokens. */
export interface AuthGuard {
  throttle: LoginThrottle;
  metrics: Pick<Metrics, "authFailures">;
  log: Logger;
}

/**
 * Checks a token a client presents (sign-in body or bearer header) under that client's
 * backoff: while it waits, 429 without looking at the token. A wrong token (401) counts and is
 * logged at warn; a right one does not reset the count, or one valid viewer token would let
 * its holder guess the admin token between two valid requests.
 */
export async function checkToken(
  req: IncomingMessage,
  token: string,
  people: PeopleAuthenticator,
  guard: AuthGuard | undefined,
  via: "login" | "bearer",
): Promise<PeopleAuthResult | AuthFailure> {
  if (!guard) return people.authenticate(token);
  const client = clientKey(req);
  const wait = guard.throttle.waitMs(client);
  if (wait > 0) {
    guard.metrics.authFailures.inc({ via, outcome: "throttled" });
    const retryAfterS = Math.ceil(wait / 1000);
    return {
      ok: false,
      status: 429,
      error: `too many wrong tokens from ${client}; try again in ${retryAfterS} s`,
      retryAfterS,
    };
  }
  const r = await people.authenticate(token);
  if (!r.ok && r.status === 401) {
    const f = guard.throttle.fail(client);
    guard.metrics.authFailures.inc({ via, outcome: "rejected" });
    guard.log.warn(
      { client, via, failures: f.failures, retryAfterS: Math.ceil(f.waitMs / 1000) },
      via === "login" ? "sign-in with a wrong token" : "API request with a wrong bearer token",
    );
  }
  return r;
}

/** The HTTP error of a failed authentication (429s say when to retry). */
export function authError(a: AuthFailure): HttpError {
  if (a.status !== 429)
    return new HttpError(a.status, a.error, a.sessionEnded ? { sessionEnded: a.sessionEnded } : {});
  return new HttpError(
    429,
    a.error,
    { retryAfterSeconds: a.retryAfterS },
    { "retry-after": String(a.retryAfterS) },
  );
}

export async function authenticateRequest(
  req: IncomingMessage,
  people: PeopleAuthenticator,
  sessions: SessionStore,
  guard?: AuthGuard,
): Promise<RequestAuth> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const token = bearerToken(header);
    if (!token)
      return { ok: false, status: 401, error: 'the Authorization header must be "Bearer <token>"' };
    const r = await checkToken(req, token, people, guard, "bearer");
    return r.ok ? { ok: true, principal: r.principal, via: "bearer" } : r;
  }
  const cookie = parseCookies(req.headers.cookie).get(SESSION_COOKIE);
  const session = sessions.get(cookie);
  if (!session) {
    if (!cookie)
      return {
        ok: false,
        status: 401,
        error: "log in first (POST /api/login) or send a bearer token",
      };
    const sessionEnded = sessions.endedWhy(cookie) ?? "unknown";
    return { ok: false, status: 401, error: SESSION_END_MESSAGE[sessionEnded], sessionEnded };
  }
  const r = await people.authenticate(session.token);
  if (!r.ok) {
    if (r.status !== 401) return r;
    sessions.delete(session.id, "revoked");
    return { ...r, error: SESSION_END_MESSAGE.revoked, sessionEnded: "revoked" };
  }
  return { ok: true, principal: r.principal, via: "session", session };
}

/**
 * Whether the credentials a request was authenticated with still allow reading, asked again
 * later (live event streams): the session must still exist and its token, like a bearer
 * token, must still pass. An unreachable Kubernetes API (503) is not a reason to cut a stream.
 */
export function stillAllowed(
  req: IncomingMessage,
  auth: Extract<RequestAuth, { ok: true }>,
  people: PeopleAuthenticator,
  sessions: SessionStore,
): () => Promise<boolean> {
  return async () => {
    const token =
      auth.via === "session"
        ? sessions.get(auth.session.id)?.token
        : bearerToken(req.headers.authorization);
    if (!token) return false;
    const r = await people.authenticate(token);
    return r.ok || r.status === 503;
  };
}

/**
 * Double-submit CSRF check for cookie-authenticated mutations: the x-csrf-token header must
 * equal both the readable ipmasq_csrf cookie and the session's token, and an Origin header,
 * when sent, must name this host. Returns the reason it fails, or undefined.
 */
export function csrfProblem(req: IncomingMessage, session: Session): string | undefined {
  const header = req.headers[CSRF_HEADER];
  const cookie = parseCookies(req.headers.cookie).get(CSRF_COOKIE);
  if (typeof header !== "string" || !cookie)
    return `missing ${CSRF_HEADER} header or ${CSRF_COOKIE} cookie`;
  if (!safeEqual(header, cookie) || !safeEqual(header, session.csrf))
    return `${CSRF_HEADER} does not match the session`;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      return "Origin header is not a URL";
    }
    if (host !== req.headers.host) return `cross-origin request from ${origin} refused`;
  }
  return undefined;
}
