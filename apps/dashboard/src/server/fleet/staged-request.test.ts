import { describe, expect, it } from "vitest";
import {
  pendingMessage,
  pendingRequest,
  REQUEST_PENDING_MS,
  requesterOf,
  requestToPerform,
  SeenRequests,
} from "./staged-request.js";

type Rollout = Parameters<typeof requestToPerform>[1];
const s: Rollout = { resourceVersion: "7", core: { step: 0, aborted: false } };
const req = {
  id: "r-1",
  action: "promote",
  user: "bob",
  via: "dash-b",
  resourceVersion: "7",
  at: 1,
};

describe("requestToPerform", () => {
  const cases: {
    desc: string;
    input: { raw: unknown; s: Rollout; performed?: string[] };
    want: string;
  }[] = [
    {
      desc: "a request about the current rollout: performed",
      input: { raw: req, s },
      want: "perform",
    },
    {
      desc: "already performed (its id is the state's last): not again",
      input: { raw: req, s, performed: ["r-0", "r-1", "r-2"] },
      want: "already performed",
    },
    {
      desc: "about an earlier rollout: not performed",
      input: { raw: { ...req, resourceVersion: "6" }, s },
      want: "about another rollout than the current one",
    },
    {
      desc: "no rollout: not performed",
      input: { raw: req, s: null },
      want: "about another rollout than the current one",
    },
    {
      desc: "asked at the step the rollout is at: performed",
      input: { raw: { ...req, step: 0 }, s },
      want: "perform",
    },
    {
      desc: "asked at an earlier step (another move was made first): superseded",
      input: { raw: { ...req, step: 0 }, s: { ...s!, core: { step: 1, aborted: false } } },
      want: "superseded: the rollout moved since it was asked",
    },
    {
      desc: "asked before the rollout was aborted: superseded",
      input: { raw: { ...req, step: 0 }, s: { ...s!, core: { step: 0, aborted: true } } },
      want: "superseded: the rollout moved since it was asked",
    },
    {
      desc: "an action that is no move: refused",
      input: { raw: { ...req, action: "delete" }, s },
      want: "not a move request",
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = requestToPerform(input.raw, input.s, input.performed ?? []);
    expect(r.ok ? "perform" : r.why).toBe(want);
  });

  it("says who asked, and where", () => {
    expect(requesterOf(req)).toBe("bob (via replica dash-b)");
  });
});

describe("pendingRequest", () => {
  const state = (o: object = {}) => ({
    version: 2,
    current: { resourceVersion: "7" },
    past: [],
    ...o,
  });
  // The schema reads a whole state: a minimal valid one is built by the rollout tests; here an
  // unreadable one (this partial current) counts as not performed.
  const cases: {
    desc: string;
    /** `seenAgo`: first seen here that long ago (ms, this replica's clock). */
    input: { raw: unknown; state: unknown; seenAgo?: number };
    want: boolean;
  }[] = [
    { desc: "none written", input: { raw: null, state: null }, want: false },
    {
      desc: "written, the state not readable: waits (not known performed)",
      input: { raw: req, state: state() },
      want: true,
    },
    {
      desc: "first seen here longer ago than a request waits: not waited for",
      input: { raw: req, state: state(), seenAgo: REQUEST_PENDING_MS + 1 },
      want: false,
    },
    {
      // break7: its `at` is the asking replica's clock, an hour behind this one's: judged by
      // it, the request was taken for gone at once and written over, never performed.
      desc: "asked on a replica whose clock is an hour behind, just seen here: waits",
      input: { raw: { ...req, at: 1 }, state: state(), seenAgo: 1000 },
      want: true,
    },
    {
      desc: "performed (the owner's last): not waiting",
      input: { raw: req, state: { version: 2, performed: "r-1", current: null, past: [] } },
      want: false,
    },
    {
      desc: "performed before the last: not waiting",
      input: {
        raw: req,
        state: { version: 2, performed: "r-2", performedBefore: ["r-1"], current: null, past: [] },
      },
      want: false,
    },
    {
      desc: "about a rollout no longer current: not waiting",
      input: { raw: req, state: { version: 2, current: null, past: [] } },
      want: false,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    let now = 3_600_000;
    const seen = new SeenRequests(() => now);
    if (input.seenAgo !== undefined) {
      seen.note(input.raw);
      now += input.seenAgo;
    }
    expect(pendingRequest(input.raw, input.state, seen) !== null).toBe(want);
  });

  it("says which move waits, by whom", () => {
    expect(pendingMessage({ ...req, action: "abort" })).toMatch(
      /^another move \(abort by bob \(via replica dash-b\)\) is waiting for the rollout's owner/,
    );
  });
});
