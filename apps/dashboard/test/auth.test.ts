// Auth and bad input for every API route: 401 without credentials, 403 for viewers on
// mutations, CSRF for cookie sessions, 413/400/415 for bad bodies — and nothing changes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimReporter } from "./helpers/reporter-client.js";
import {
  eventually,
  reporterToken,
  startServer,
  type TestServer,
  TOKENS,
} from "./helpers/server.js";

interface RouteCase {
  method: string;
  path: string;
  /** Who may call it. */
  access: "viewer" | "editor";
  /** A body the route accepts (for routes that take one). */
  body?: Record<string, unknown>;
}

let server: TestServer;
let reporter: SimReporter;
let resourceVersion: string;

const routes = (): RouteCase[] => [
  { method: "GET", path: "/api/config", access: "viewer" },
  {
    method: "PUT",
    path: "/api/config",
    access: "editor",
    body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n", resourceVersion },
  },
  {
    method: "POST",
    path: "/api/config/validate",
    access: "viewer",
    body: { yaml: "nonMasqueradeCIDRs: [10.0.0.0/8]\n" },
  },
  { method: "GET", path: "/api/nodes", access: "viewer" },
  { method: "GET", path: "/api/nodes/node-a", access: "viewer" },
  { method: "DELETE", path: "/api/nodes/node-gone", access: "editor" },
  {
    method: "POST",
    path: "/api/nodes/node-a/evaluate",
    access: "viewer",
    body: { ip: "10.0.0.1" },
  },
  { method: "POST", path: "/api/nodes/node-a/resync", access: "editor", body: {} },
  { method: "POST", path: "/api/resync", access: "editor", body: {} },
  { method: "GET", path: "/api/history", access: "viewer" },
  {
    method: "POST",
    path: `/api/history/${resourceVersion}/rollback`,
    access: "editor",
    body: { resourceVersion },
  },
  { method: "GET", path: "/api/events", access: "viewer" },
  { method: "GET", path: "/api/me", access: "viewer" },
  { method: "POST", path: "/api/logout", access: "viewer", body: {} },
];

beforeAll(async () => {
  // Every route gets wrong tokens here, many times: the per-client backoff would answer 429
  // after five (sign-in.test.ts covers it), so this file allows more mistakes.
  server = await startServer({ loginThrottle: { freeFailures: 1000 } });
  reporter = await SimReporter.connect({
    url: server.url,
    token: reporterToken("node-a"),
    node: "node-a",
  });
  // An offline node for the DELETE route.
  const gone = await SimReporter.connect({
    url: server.url,
    token: reporterToken("node-gone"),
    node: "node-gone",
  });
  await gone.close();
  await eventually(
    async () => (await server.api("/api/nodes/node-a")).body.node?.status === "in-sync",
    3000,
  );
  await eventually(
    async () => (await server.api("/api/nodes/node-gone")).body.node?.status === "offline",
    3000,
  );
  resourceVersion = (await server.api("/api/config")).body.resourceVersion;
});

afterAll(async () => {
  reporter.ws.terminate();
  await server.dispose();
});

/** Fingerprint of everything a mutation could change. */
async function state(): Promise<string> {
  const cfg = (await server.api("/api/config")).body;
  const nodes = (await server.api("/api/nodes")).body.nodes.map(
    (n: { name: string; status: string }) => `${n.name}:${n.status}`,
  );
  const hist = (await server.api("/api/history")).body.revisions.length;
  return JSON.stringify({
    rev: cfg.resourceVersion,
    nodes,
    hist,
    resyncs: reporter.received.filter((m) => m.type === "resync").length,
  });
}

interface CallInit {
  token?: string | null;
  headers?: Record<string, string>;
  raw?: string;
  body?: unknown;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies are checked field by field.
type Json = any;

async function call(
  r: RouteCase,
  init: CallInit = {},
): Promise<{ status: number; json: Json; headers: Headers }> {
  const body =
    init.raw !== undefined || init.body !== undefined ? init : r.body ? { body: r.body } : {};
  const res = await fetch(server.url + r.path, {
    method: r.method,
    headers: {
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      ...(r.body || init.raw !== undefined || init.body !== undefined
        ? { "content-type": "application/json" }
        : {}),
      ...init.headers,
    },
    body:
      "raw" in body && body.raw !== undefined
        ? body.raw
        : "body" in body && body.body !== undefined
          ? JSON.stringify(body.body)
          : undefined,
  });
  // SSE streams do not end: read the body only when it is not one.
  const isStream = res.headers.get("content-type")?.startsWith("text/event-stream");
  const json = isStream ? undefined : await res.json().catch(() => undefined);
  if (isStream) await res.body?.cancel();
  return { status: res.status, json, headers: res.headers };
}

describe("authentication", () => {
  it("answers 401 on every route without valid credentials, and changes nothing", async () => {
    const before = await state();
    for (const r of routes()) {
      const attempts: CallInit[] = [
        {},
        { token: "wrong-token" },
        { headers: { cookie: "ipmasq_session=forged" } },
        { headers: { authorization: "Basic YWRtaW46eA==" } },
      ];
      for (const creds of attempts) {
        const res = await call(r, creds);
        expect(res.status, `${r.method} ${r.path} ${JSON.stringify(creds)}`).toBe(401);
        expect(typeof res.json.error).toBe("string");
      }
    }
    expect(await state()).toBe(before);
  });

  it("lets probes, metrics and login through without credentials", async () => {
    expect((await server.api("/healthz", { token: null })).status).toBe(200);
    expect((await server.api("/readyz", { token: null })).body).toMatchObject({ ok: true });
    const m = await server.api("/metrics", { token: null });
    expect(m.status).toBe(200);
    expect(m.body).toContain('ipmasq_nodes{status="in-sync"} 1');
    expect(m.body).toContain('ipmasq_nodes{status="offline"} 1');
    expect(m.body).toContain("ipmasq_reporter_connections 1");
    expect(m.body).toContain("ipmasq_rollout_duration_seconds_bucket");
    expect((await server.api("/api/login", { token: null, body: { token: "nope" } })).status).toBe(
      401,
    );
  });

  it("gives viewers 403 on every mutation and lets them read and dry-run", async () => {
    const before = await state();
    for (const r of routes()) {
      const res = await call(r, { token: TOKENS.viewer });
      if (r.access === "editor") {
        expect(res.status, `${r.method} ${r.path}`).toBe(403);
        expect(res.json.error).toMatch(/viewer/);
      } else expect(res.status, `${r.method} ${r.path}`).toBeLessThan(300);
    }
    expect(await state()).toBe(before);
    expect((await server.api("/api/me", { token: TOKENS.viewer })).body).toEqual({
      role: "viewer",
      user: "viewer",
    });
  });
});

describe("browser sessions", () => {
  async function login(token: string = TOKENS.admin) {
    const res = await fetch(`${server.url}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    const cookies = res.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith("ipmasq_session="))!;
    const csrf = cookies.find((c) => c.startsWith("ipmasq_csrf="))!;
    const value = (c: string) => c.split(";")[0]!.split("=")[1]!;
    return {
      res,
      body: (await res.json()) as Json,
      session,
      csrf,
      cookie: `ipmasq_session=${value(session)}; ipmasq_csrf=${value(csrf)}`,
      csrfValue: value(csrf),
    };
  }

  it("sets an httpOnly SameSite=Strict session cookie and a readable CSRF cookie", async () => {
    const s = await login();
    expect(s.res.status).toBe(200);
    expect(s.body).toMatchObject({ role: "editor", user: "admin" });
    expect(s.session).toMatch(/HttpOnly/);
    expect(s.session).toMatch(/SameSite=Strict/);
    expect(s.csrf).not.toMatch(/HttpOnly/);
    expect(s.csrf).toMatch(/SameSite=Strict/);
    const me = await fetch(`${server.url}/api/me`, { headers: { cookie: s.cookie } });
    expect(await me.json()).toEqual({ role: "editor", user: "admin" });
  });

  it("refuses cookie mutations without a matching x-csrf-token or from another origin", async () => {
    const s = await login();
    const before = await state();
    for (const r of routes().filter((x) => x.method !== "GET")) {
      const missing = await call(r, { headers: { cookie: s.cookie } });
      expect(missing.status, `${r.method} ${r.path} without csrf`).toBe(403);
      expect(missing.json.error).toMatch(/CSRF/);
      const wrong = await call(r, { headers: { cookie: s.cookie, "x-csrf-token": "guess" } });
      expect(wrong.status).toBe(403);
      const foreign = await call(r, {
        headers: { cookie: s.cookie, "x-csrf-token": s.csrfValue, origin: "https://evil.example" },
      });
      expect(foreign.status).toBe(403);
    }
    expect(await state()).toBe(before);
    // With the token (and a same-origin Origin), the same mutation works.
    const ok = await call(
      { method: "POST", path: "/api/nodes/node-a/resync", access: "editor", body: {} },
      { headers: { cookie: s.cookie, "x-csrf-token": s.csrfValue, origin: server.url } },
    );
    expect(ok.status).toBe(202);
  });

  it("gives viewer sessions 403 on mutations and ends sessions on logout", async () => {
    const s = await login(TOKENS.viewer);
    expect(s.body.role).toBe("viewer");
    const put = await call(routes()[1]!, {
      headers: { cookie: s.cookie, "x-csrf-token": s.csrfValue },
    });
    expect(put.status).toBe(403);
    const out = await call(
      { method: "POST", path: "/api/logout", access: "viewer" },
      { headers: { cookie: s.cookie, "x-csrf-token": s.csrfValue } },
    );
    expect(out.status).toBe(200);
    expect(out.headers.getSetCookie().join(";")).toMatch(/Max-Age=0/);
    expect((await fetch(`${server.url}/api/me`, { headers: { cookie: s.cookie } })).status).toBe(
      401,
    );
  });
});

describe("bad input", () => {
  const withBody = () => routes().filter((r) => r.body);

  it("answers 413 for bodies over 64 KiB", async () => {
    const before = await state();
    for (const r of withBody()) {
      const res = await call(r, {
        token: TOKENS.admin,
        raw: JSON.stringify({ ...r.body, pad: "x".repeat(70 * 1024) }),
      });
      expect(res.status, `${r.method} ${r.path}`).toBe(413);
    }
    expect(await state()).toBe(before);
  });

  it("answers 400 for malformed JSON", async () => {
    const before = await state();
    for (const r of withBody()) {
      const res = await call(r, { token: TOKENS.admin, raw: '{"yaml": ' });
      expect(res.status, `${r.method} ${r.path}`).toBe(400);
      expect(res.json.error).toMatch(/malformed JSON/);
    }
    expect(await state()).toBe(before);
  });

  it("answers 400 naming unknown fields", async () => {
    const before = await state();
    for (const r of withBody()) {
      const res = await call(r, { token: TOKENS.admin, body: { ...r.body, surprise: 1 } });
      expect(res.status, `${r.method} ${r.path}`).toBe(400);
      expect(res.json.error).toContain('unknown field "surprise"');
    }
    const nested = await server.api("/api/config/validate", {
      body: {
        config: {
          nonMasqueradeCIDRs: [],
          masqLinkLocal: false,
          masqLinkLocalIPv6: false,
          cidrLimit: 64,
          resyncInterval: "60s",
          extra: true,
        },
      },
    });
    expect(nested.status).toBe(400);
    expect(nested.body.error).toContain('unknown field "config.extra"');
    expect(await state()).toBe(before);
  });

  it("answers 415 for bodies that are not JSON", async () => {
    for (const r of withBody()) {
      const res = await call(r, {
        token: TOKENS.admin,
        raw: JSON.stringify(r.body),
        headers: { "content-type": "text/plain" },
      });
      expect(res.status, `${r.method} ${r.path}`).toBe(415);
    }
  });

  it("checks the login body like every other", async () => {
    const login: RouteCase = {
      method: "POST",
      path: "/api/login",
      access: "viewer",
      body: { token: TOKENS.admin },
    };
    expect(
      (await call(login, { raw: JSON.stringify({ token: "x".repeat(70 * 1024) }) })).status,
    ).toBe(413);
    expect((await call(login, { raw: "{" })).status).toBe(400);
    const unknown = await call(login, { body: { token: TOKENS.admin, remember: true } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.error).toContain('unknown field "remember"');
    expect(unknown.headers.getSetCookie()).toEqual([]);
    expect(
      (
        await call(login, {
          raw: JSON.stringify({ token: TOKENS.admin }),
          headers: { "content-type": "text/plain" },
        })
      ).status,
    ).toBe(415);
  });

  it("answers 404 for unknown API paths and 405 for wrong methods", async () => {
    expect((await server.api("/api/nope")).status).toBe(404);
    const res = await server.api("/api/config", { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, PUT");
  });
});
