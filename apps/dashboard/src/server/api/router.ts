// A small router for the JSON API. Each route declares who may call it and its body schema;
// the router enforces, in order: auth (401), CSRF for cookie mutations (403), role (403),
// body (413/415/400), then runs the handler. Handlers never see an unchecked request.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { z } from "zod";
import {
  type AuthGuard,
  authError,
  authenticateRequest,
  csrfProblem,
  type RequestAuth,
} from "../auth/request-auth.js";
import type { SessionStore } from "../auth/sessions.js";
import type { PeopleAuthenticator, Principal } from "../auth/types.js";
import { HttpError } from "../errors.js";
import { parseJsonBody } from "./body.js";
import { sendError } from "./respond.js";

export type Method = "GET" | "POST" | "PUT" | "DELETE";
export type Access = "public" | "viewer" | "editor";

export interface Ctx<B = unknown> {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Null only on public routes. */
  principal: Principal | null;
  auth: RequestAuth | null;
  body: B;
}

export interface Route<B = unknown> {
  method: Method;
  /** Segments starting with ":" are parameters, e.g. /api/nodes/:name. */
  path: string;
  access: Access;
  /** Strict schema of the JSON body (mutations). */
  body?: z.ZodType<B>;
  handler: (ctx: Ctx<B>) => unknown;
}

/** Keeps the body type of a route tied to its schema. */
export function route<B>(r: Route<B>): Route {
  return r as Route;
}

const MUTATIONS = new Set(["POST", "PUT", "DELETE", "PATCH"]);

export interface RouterDeps {
  people: PeopleAuthenticator;
  sessions: SessionStore;
  log: Logger;
  /** Per-client backoff on wrong bearer tokens. */
  guard?: AuthGuard;
}

export class Router {
  constructor(
    private readonly routes: Route[],
    private readonly deps: RouterDeps,
  ) {}

  /** Routes one request; false when no route has this path. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const matches = this.routes.flatMap((r) => {
      const params = matchPath(r.path, url.pathname);
      return params ? [{ r, params }] : [];
    });
    if (matches.length === 0) return false;
    const hit = matches.find((m) => m.r.method === req.method);
    if (!hit) {
      req.resume();
      sendError(
        res,
        405,
        `${req.method} is not supported here`,
        {},
        { allow: matches.map((m) => m.r.method).join(", ") },
      );
      return true;
    }
    try {
      await this.run(hit.r, hit.params, req, res, url);
    } catch (e) {
      this.fail(e, req, res);
    }
    return true;
  }

  private async run(
    r: Route,
    params: Record<string, string>,
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> {
    let auth: RequestAuth | null = null;
    if (r.access !== "public") {
      auth = await authenticateRequest(req, this.deps.people, this.deps.sessions, this.deps.guard);
      if (!auth.ok) throw authError(auth);
      if (auth.via === "session" && MUTATIONS.has(req.method ?? "")) {
        const problem = csrfProblem(req, auth.session);
        if (problem) throw new HttpError(403, `CSRF check failed: ${problem}`);
      }
      if (r.access === "editor" && auth.principal.role !== "editor")
        throw new HttpError(403, `${auth.principal.user} is a viewer and may not change anything`);
    }
    const body = r.body ? await parseJsonBody(req, r.body) : undefined;
    await r.handler({
      req,
      res,
      url,
      params,
      principal: auth?.ok ? auth.principal : null,
      auth,
      body,
    });
  }

  private fail(e: unknown, req: IncomingMessage, res: ServerResponse): void {
    if (!(e instanceof HttpError))
      this.deps.log.error({ err: e, url: req.url, method: req.method }, "API handler failed");
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = e instanceof HttpError ? e.status : 500;
    const message = e instanceof HttpError ? e.message : "internal error";
    const extra = e instanceof HttpError ? e.extra : {};
    // Unread bodies (auth failed first, or too large): stop reading and close after answering.
    const headers: Record<string, string> = {
      ...(e instanceof HttpError ? e.headers : {}),
      ...(req.readableEnded ? {} : { connection: "close" }),
    };
    sendError(res, status, message, extra, headers);
    if (!req.readableEnded) req.resume();
  }
}

/**
 * The params of `path` under `pattern` ("/api/nodes/:name"), or undefined when it does not
 * match: segment by segment, a `:param` takes one non-empty percent-decoded segment.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      let v: string;
      try {
        v = decodeURIComponent(g);
      } catch {
        return undefined;
      }
      if (v === "") return undefined;
      params[w.slice(1)] = v;
    } else if (w !== g) return undefined;
  }
  return params;
}
