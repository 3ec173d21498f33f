// Sign-in under attack (issue 12, item 7): a per-client backoff on wrong tokens (logged and
// counted), sessions capped per principal so one principal cannot sign out another, and live
// event streams that end with their session.
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { eventually, perTest, startServer, TOKENS } from "./helpers/server.js";

const t = perTest();
interface Login {
  status: number;
  headers: Headers;
  body: { error?: string; retryAfterSeconds?: number; csrfToken?: string };
  /** Cookie header of the new session (when it worked). */
  cookie: string;
  csrf: string;
}

async function login(token: string): Promise<Login> {
  const res = await fetch(`${t.server!.url}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  const pairs = res.headers.getSetCookie().map((c) => c.split(";")[0]!);
  const csrf = pairs.find((p) => p.startsWith("ipmasq_csrf="))?.split("=")[1] ?? "";
  return {
    status: res.status,
    headers: res.headers,
    body: (await res.json()) as Login["body"],
    cookie: pairs.join("; "),
    csrf,
  };
}

/** Opens /api/events with a session cookie; `ended` resolves when the server ends the stream. */
async function openStream(cookie: string): Promise<{ ended: Promise<void>; cancel: () => void }> {
  const ac = new AbortController();
  const res = await fetch(`${t.server!.url}/api/events`, {
    headers: { cookie },
    signal: ac.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const ended = (async () => {
    for (;;) if ((await reader.read()).done) return;
  })().catch(() => undefined);
  return { ended, cancel: () => ac.abort() };
}

/** Resolves "ended" when `p` settles within `ms`, else "open". */
function within(p: Promise<void>, ms: number): Promise<"ended" | "open"> {
  return Promise.race([
    p.then(() => "ended" as const),
    new Promise<"open">((r) => setTimeout(() => r("open"), ms)),
  ]);
}

function logCapture() {
  const lines: { level: number; msg: string; client?: string; failures?: number }[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()));
      done();
    },
  });
  return { lines, log: pino({ level: "warn" }, stream) };
}

describe("failed sign-ins", () => {
  it("backs off per client after 5 wrong tokens: 429 with Retry-After, even for the right token", async () => {
    const { lines, log } = logCapture();
    t.server = await startServer({ log });
    for (let i = 0; i < 6; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const refused = await login(TOKENS.admin);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.body).toMatchObject({ retryAfterSeconds: 1 });
    expect(refused.body.error).toMatch(/too many wrong tokens from 127\.0\.0\.1/);
    expect(refused.headers.getSetCookie()).toEqual([]);
    // API bearer tokens from that client wait too: a guess there is as good as a sign-in.
    const api = await t.server.api("/api/me", { token: TOKENS.admin });
    expect(api.status).toBe(429);

    const warnings = lines.filter((l) => l.msg === "sign-in with a wrong token");
    expect(warnings).toHaveLength(6);
    expect(warnings.at(-1)).toMatchObject({ client: "127.0.0.1", failures: 6, level: 40 });
    const metrics = (await t.server.api("/metrics", { token: null })).body as string;
    expect(metrics).toContain('ipmasq_auth_failures_total{via="login",outcome="rejected"} 6');
    expect(metrics).toContain('ipmasq_auth_failures_total{via="login",outcome="throttled"} 1');
    expect(metrics).toContain('ipmasq_auth_failures_total{via="bearer",outcome="throttled"} 1');

    // Once the wait is over the right token works again.
    await new Promise((r) => setTimeout(r, 1100));
    expect((await login(TOKENS.admin)).status).toBe(200);
  });
});

describe("sessions", () => {
  it("caps sessions per principal: a viewer signing in again and again never signs out the editor", async () => {
    t.server = await startServer();
    const editor = await login(TOKENS.admin);
    const first = await login(TOKENS.viewer);
    for (let i = 0; i < 25; i++) expect((await login(TOKENS.viewer)).status).toBe(200);
    const me = (cookie: string) => fetch(`${t.server!.url}/api/me`, { headers: { cookie } });
    expect((await me(editor.cookie)).status).toBe(200);
    expect((await me(first.cookie)).status).toBe(401);
  });

  it("ends live event streams on logout and on eviction", async () => {
    t.server = await startServer({ sessions: { perPrincipal: 2 } });
    const a = await login(TOKENS.viewer);
    const b = await login(TOKENS.viewer);
    const streamA = await openStream(a.cookie);
    const streamB = await openStream(b.cookie);
    const out = await fetch(`${t.server.url}/api/logout`, {
      method: "POST",
      headers: { cookie: b.cookie, "x-csrf-token": b.csrf, "content-type": "application/json" },
      body: "{}",
    });
    expect(out.status).toBe(200);
    expect(await within(streamB.ended, 5000)).toBe("ended");
    expect(await within(streamA.ended, 200)).toBe("open");
    await login(TOKENS.viewer);
    await login(TOKENS.viewer); // a's session is now the least recently used of three
    expect(await within(streamA.ended, 5000)).toBe("ended");
  });

  it("ends live event streams when their session expires", async () => {
    t.server = await startServer({ sessions: { ttlMs: 1500 } });
    const a = await login(TOKENS.viewer);
    const stream = await openStream(a.cookie);
    expect(await within(stream.ended, 500)).toBe("open");
    expect(await within(stream.ended, 5000)).toBe("ended");
    await eventually(
      async () =>
        (await fetch(`${t.server!.url}/api/events`, { headers: { cookie: a.cookie } })).status ===
        401,
      1000,
    );
  });
});
