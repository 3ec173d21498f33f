import { describe, expect, it } from "vitest";
import { type SessionEnd, SessionStore } from "./sessions.js";

function store(limits: ConstructorParameters<typeof SessionStore>[0]) {
  const s = new SessionStore(limits);
  const ended: [string, SessionEnd][] = [];
  s.onEnd((id, why) => ended.push([id, why]));
  return { s, ended };
}

describe("SessionStore", () => {
  it("expires sessions when used and when swept, telling listeners", () => {
    const { s, ended } = store({ ttlMs: 1000 });
    const a = s.create("t", "ann", 0);
    const b = s.create("t", "ann", 500);
    expect(s.get(a.id, 999)).toBeDefined();
    expect(s.get(a.id, 1000)).toBeUndefined();
    s.sweep(1499);
    expect(ended).toEqual([[a.id, "expired"]]);
    s.sweep(1500);
    expect(ended.at(-1)).toEqual([b.id, "expired"]);
    expect(s.size).toBe(0);
  });

  it("caps sessions per principal: signing in again evicts only that principal's LRU session", () => {
    const { s, ended } = store({ perPrincipal: 3 });
    const editor = s.create("editor-token", "admin");
    const viewers = Array.from({ length: 3 }, () => s.create("viewer-token", "viewer"));
    s.get(viewers[0]!.id); // used recently: not the least recently used any more
    // The attack: a viewer signing in 10,001 times.
    for (let i = 0; i < 10_001; i++) s.create("viewer-token", "viewer");
    expect(s.get(editor.id)).toBeDefined();
    expect(s.size).toBe(4);
    expect(ended).toHaveLength(10_001);
    expect(ended.every(([, why]) => why === "evicted")).toBe(true);
    expect(ended.slice(0, 2).map(([id]) => id)).toEqual([viewers[1]!.id, viewers[2]!.id]);
  });

  it("evicts the least recently used session of anyone past the global cap", () => {
    const { s, ended } = store({ perPrincipal: 10, total: 3 });
    const a = s.create("t", "a");
    const b = s.create("t", "b");
    const c = s.create("t", "c");
    s.get(a.id);
    s.create("t", "d");
    expect(ended).toEqual([[b.id, "evicted"]]);
    expect(s.get(a.id)).toBeDefined();
    expect(s.get(c.id)).toBeDefined();
  });

  it("remembers why recently ended sessions ended, bounded, and not logouts", () => {
    const { s } = store({ perPrincipal: 1 });
    const a = s.create("t", "a");
    const b = s.create("t", "a");
    expect(s.endedWhy(a.id)).toBe("evicted");
    s.delete(b.id);
    expect(s.endedWhy(b.id)).toBeUndefined();
    for (let i = 0; i < 10_001; i++) s.create("t", "a");
    expect(s.endedWhy(a.id)).toBeUndefined(); // the oldest forgotten past 10,000
  });

  it("reports logout and revocation once", () => {
    const { s, ended } = store({});
    const a = s.create("t", "a");
    const b = s.create("t", "a");
    s.delete(a.id);
    s.delete(a.id);
    s.delete(b.id, "revoked");
    expect(ended).toEqual([
      [a.id, "logout"],
      [b.id, "revoked"],
    ]);
  });
});

describe("SessionStore lookups", () => {
  // A session created at t=0 with a 1,000 ms lifetime, looked up by `id` at `at`.
  const cases: {
    desc: string;
    input: { id: "own" | "unknown" | "none" | "deleted"; at: number };
    want: { found: boolean; ended: SessionEnd[] };
  }[] = [
    { desc: "live", input: { id: "own", at: 0 }, want: { found: true, ended: [] } },
    {
      desc: "live until the last ms",
      input: { id: "own", at: 999 },
      want: { found: true, ended: [] },
    },
    {
      desc: "expired at its expiry time, and ended",
      input: { id: "own", at: 1000 },
      want: { found: false, ended: ["expired"] },
    },
    { desc: "an unknown id", input: { id: "unknown", at: 0 }, want: { found: false, ended: [] } },
    { desc: "no id (no cookie)", input: { id: "none", at: 0 }, want: { found: false, ended: [] } },
    {
      desc: "after logout",
      input: { id: "deleted", at: 0 },
      want: { found: false, ended: ["logout"] },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const { s, ended } = store({ ttlMs: 1000 });
    const own = s.create("t", "ann", 0);
    if (input.id === "deleted") s.delete(own.id);
    const id = { own: own.id, deleted: own.id, unknown: "not-a-session", none: undefined }[
      input.id
    ];
    expect(s.get(id, input.at) !== undefined).toBe(want.found);
    expect(ended.map(([, why]) => why)).toEqual(want.ended);
  });
});
