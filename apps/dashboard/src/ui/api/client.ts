// fetch wrapper for the dashboard API: same-origin cookies, CSRF header on mutations,
// 401 → /login, errors as ApiError with the server's sentence.
import type { ErrorBody, SessionEndReason } from "@masq/shared";

export class ApiError extends Error {
  readonly status: number;
  readonly body: ErrorBody | null;
  constructor(status: number, message: string, body: ErrorBody | null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

/** Network failure: the dashboard API could not be reached at all. */
export class UnreachableError extends Error {
  constructor(cause: unknown) {
    super(
      `The dashboard API could not be reached (${cause instanceof Error ? cause.message : String(cause)})`,
    );
    this.name = "UnreachableError";
  }
}

export const CSRF_COOKIE = "ipmasq_csrf";
export const CSRF_HEADER = "x-csrf-token";

export function readCookie(cookieHeader: string, name: string): string | undefined {
  for (const part of cookieHeader.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/** `/login`, with where to return (`next`) and why the session ended (`ended`), when known. */
export function loginUrl(currentPath: string, ended?: SessionEndReason): string {
  const q = new URLSearchParams();
  if (!currentPath.startsWith("/login") && currentPath !== "/") q.set("next", currentPath);
  if (ended) q.set("ended", ended);
  const s = q.toString();
  return s ? `/login?${s}` : "/login";
}

let redirecting = false;
export function redirectToLogin(ended?: SessionEndReason): void {
  if (typeof window === "undefined" || redirecting) return;
  if (window.location.pathname === "/login") return;
  redirecting = true;
  window.location.assign(loginUrl(window.location.pathname + window.location.search, ended));
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PUT" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Do not redirect to /login on 401 (the login form itself). */
  noAuthRedirect?: boolean;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (opts.body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && typeof document !== "undefined") {
    const token = readCookie(document.cookie, CSRF_COOKIE);
    if (token) headers[CSRF_HEADER] = token;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: "same-origin",
      cache: "no-store",
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new UnreachableError(e);
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data as T;
  const body = data && typeof data === "object" && "error" in data ? (data as ErrorBody) : null;
  if (res.status === 401 && !opts.noAuthRedirect) redirectToLogin(body?.sessionEnded);
  const message =
    body?.error ??
    (res.status >= 500
      ? `The dashboard answered ${res.status} ${res.statusText}`
      : `Request failed (${res.status})`);
  throw new ApiError(res.status, message, body);
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError || e instanceof UnreachableError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** True when the failure means "the API (or its store) is not reachable", not "you did something wrong". */
export function isOutage(e: unknown): boolean {
  return (
    e instanceof UnreachableError || (e instanceof ApiError && (e.status >= 500 || e.status === 0))
  );
}
