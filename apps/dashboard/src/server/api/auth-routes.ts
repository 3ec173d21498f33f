// POST /api/login, POST /api/logout, GET /api/me.
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import { z } from "zod";
import { CSRF_COOKIE, SESSION_COOKIE, serializeCookie } from "../auth/cookies.js";
import { authError, checkToken } from "../auth/request-auth.js";
import type { ApiContext } from "./context.js";
import { sendJson } from "./respond.js";
import { type Route, route } from "./router.js";

const loginBody = z.strictObject({ token: z.string().min(1).max(16_384) });

function secure(ctx: ApiContext, req: IncomingMessage): boolean {
  if (ctx.secureCookies !== undefined) return ctx.secureCookies;
  return (
    (req.socket as TLSSocket).encrypted === true || req.headers["x-forwarded-proto"] === "https"
  );
}

export function authRoutes(ctx: ApiContext): Route[] {
  return [
    route({
      method: "POST",
      path: "/api/login",
      access: "public",
      body: loginBody,
      async handler({ req, res, body }) {
        const r = await checkToken(req, body.token, ctx.people, ctx.guard, "login");
        if (!r.ok) throw authError(r);
        const s = ctx.sessions.create(body.token, r.principal.user);
        const o = { secure: secure(ctx, req), maxAge: ctx.sessions.ttlSeconds };
        const cookies = [
          serializeCookie(SESSION_COOKIE, s.id, { ...o, httpOnly: true }),
          serializeCookie(CSRF_COOKIE, s.csrf, { ...o, httpOnly: false }),
        ];
        ctx.log.info({ user: r.principal.user, role: r.principal.role }, "login");
        sendJson(
          res,
          200,
          { role: r.principal.role, user: r.principal.user, csrfToken: s.csrf },
          { "set-cookie": cookies },
        );
      },
    }),
    route({
      method: "POST",
      path: "/api/logout",
      access: "viewer",
      body: z.strictObject({}),
      handler({ req, res, auth }) {
        if (auth?.ok && auth.via === "session") ctx.sessions.delete(auth.session.id);
        const o = { secure: secure(ctx, req), maxAge: 0 };
        const cookies = [
          serializeCookie(SESSION_COOKIE, "", { ...o, httpOnly: true }),
          serializeCookie(CSRF_COOKIE, "", { ...o, httpOnly: false }),
        ];
        sendJson(res, 200, { ok: true }, { "set-cookie": cookies });
      },
    }),
    route({
      method: "GET",
      path: "/api/me",
      access: "viewer",
      handler: ({ res, principal }) =>
        sendJson(res, 200, { role: principal!.role, user: principal!.user }),
    }),
  ];
}
