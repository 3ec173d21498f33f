// Who is making an HTTP request: a bearer token (API clients) or a session cookie (browsers),
// and whether a cookie-authenticated mutation carries the CSRF proof.
import type { IncomingMessage } from "node:http";
import { CSRF_COOKIE, CSRF_HEADER, parseCookies, SESSION_COOKIE } from "./cookies.js";
import type { Session, SessionStore } from "./sessions.js";
import { bearerToken, safeEqual } from "./tokens.js";
import type { PeopleAuthenticator, Principal } from "./types.js";

export type RequestAuth =
  | { ok: true; principal: Principal; via: "bearer" }
  | { ok: true; principal: Principal; via: "session"; session: Session }
  | { ok: false; status: 401 | 403 | 503; error: string };

export async function authenticateRequest(
  req: IncomingMessage,
  people: PeopleAuthenticator,
  sessions: SessionStore,
): Promise<RequestAuth> {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const token = bearerToken(header);
    if (!token)
      return { ok: false, status: 401, error: 'the Authorization header must be "Bearer <token>"' };
    const r = await people.authenticate(token);
    return r.ok ? { ok: true, principal: r.principal, via: "bearer" } : r;
  }
  const session = sessions.get(parseCookies(req.headers.cookie).get(SESSION_COOKIE));
  if (!session)
    return {
      ok: false,
      status: 401,
      error: "log in first (POST /api/login) or send a bearer token",
    };
  const r = await people.authenticate(session.token);
  if (!r.ok) {
    if (r.status === 401) sessions.delete(session.id);
    return r;
  }
  return { ok: true, principal: r.principal, via: "session", session };
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
