import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { parseCookies, serializeCookie } from "./cookies.js";
import { authenticateRequest, csrfProblem } from "./request-auth.js";
import { SessionStore } from "./sessions.js";
import { StaticPeopleAuth } from "./static-auth.js";
import { bearerToken, safeEqual } from "./tokens.js";

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe("tokens and cookies", () => {
  it("parses bearer headers and compares in constant time", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken("bearer  abc ")).toBe("abc");
    expect(bearerToken("Basic abc")).toBeUndefined();
    expect(safeEqual("a", "a")).toBe(true);
    expect(safeEqual("a", "ab")).toBe(false);
  });

  it("round-trips cookies with the security attributes", () => {
    const c = serializeCookie("s", "a b;c", { httpOnly: true, secure: true, maxAge: 60 });
    expect(c).toBe("s=a%20b%3Bc; Path=/; SameSite=Strict; HttpOnly; Secure; Max-Age=60");
    expect(parseCookies("x=1; s=a%20b%3Bc; s=dup").get("s")).toBe("a b;c");
  });
});

describe("request auth", () => {
  const people = new StaticPeopleAuth("admin-t", "viewer-t");

  it("prefers the bearer header and falls back to the session cookie", async () => {
    const sessions = new SessionStore();
    const s = sessions.create("viewer-t", "viewer");
    expect(
      await authenticateRequest(
        req({ authorization: "Bearer admin-t", cookie: `ipmasq_session=${s.id}` }),
        people,
        sessions,
      ),
    ).toMatchObject({ ok: true, via: "bearer", principal: { role: "editor" } });
    expect(
      await authenticateRequest(req({ cookie: `ipmasq_session=${s.id}` }), people, sessions),
    ).toMatchObject({ ok: true, via: "session", principal: { role: "viewer" } });
    expect(await authenticateRequest(req({}), people, sessions)).toMatchObject({
      ok: false,
      status: 401,
    });
    expect(
      await authenticateRequest(req({ authorization: "Bearer nope" }), people, sessions),
    ).toMatchObject({ ok: false, status: 401 });
  });

  it("tells a browser why its session ended", async () => {
    const sessions = new SessionStore({ perPrincipal: 1, ttlMs: 1000 });
    const evicted = sessions.create("viewer-t", "viewer");
    sessions.create("viewer-t", "viewer");
    const revoked = sessions.create("gone-t", "someone");
    const logout = sessions.create("admin-t", "admin");
    sessions.delete(logout.id);
    const cases: { desc: string; input: string | undefined; want: string | undefined }[] = [
      { desc: "pushed out by the per-user cap", input: evicted.id, want: "evicted" },
      { desc: "its token no longer passes", input: revoked.id, want: "revoked" },
      { desc: "never known here (a restart)", input: "no-such-session", want: "unknown" },
      { desc: "after a logout: not a surprise", input: logout.id, want: "unknown" },
      { desc: "no cookie at all: just log in", input: undefined, want: undefined },
    ];
    for (const c of cases) {
      const r = await authenticateRequest(
        req(c.input ? { cookie: `ipmasq_session=${c.input}` } : {}),
        people,
        sessions,
      );
      expect(r.ok, c.desc).toBe(false);
      expect(!r.ok && r.status !== 429 ? r.sessionEnded : "n/a", c.desc).toBe(c.want);
    }
    // The second lookup of the revoked session still says why.
    const again = await authenticateRequest(
      req({ cookie: `ipmasq_session=${revoked.id}` }),
      people,
      sessions,
    );
    expect(again).toMatchObject({ status: 401, sessionEnded: "revoked" });
  });

  it("requires the double-submitted CSRF token and a same-origin Origin", () => {
    const s = new SessionStore().create("t", "u");
    const cookie = `ipmasq_session=${s.id}; ipmasq_csrf=${s.csrf}`;
    expect(csrfProblem(req({ cookie, host: "h:1", "x-csrf-token": s.csrf }), s)).toBeUndefined();
    expect(
      csrfProblem(req({ cookie, host: "h:1", "x-csrf-token": s.csrf, origin: "http://h:1" }), s),
    ).toBeUndefined();
    expect(csrfProblem(req({ cookie, host: "h:1" }), s)).toMatch(/missing/);
    expect(
      csrfProblem(
        req({
          cookie: `ipmasq_session=${s.id}; ipmasq_csrf=forged`,
          host: "h:1",
          "x-csrf-token": "forged",
        }),
        s,
      ),
    ).toMatch(/does not match/);
    expect(
      csrfProblem(req({ cookie, host: "h:1", "x-csrf-token": s.csrf, origin: "http://evil:1" }), s),
    ).toMatch(/cross-origin/);
    expect(
      csrfProblem(req({ cookie, host: "h:1", "x-csrf-token": s.csrf, origin: "null" }), s),
    ).toMatch(/not a URL/);
  });
});
