import { describe, expect, it } from "vitest";
import {
  pendingMessage,
  pendingRequest,
  REQUEST_PENDING_MS,
  requesterOf,
  requestToPerform,
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
    expect(requesterOf({ ...req, action: "promote" })).toBe("bob (via replica dash-b)");
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
    input: { raw: unknown; state: unknown; now: number };
    want: boolean;
  }[] = [
    { desc: "none written", input: { raw: null, state: null, now: 2 }, want: false },
    {
      desc: "written, the state not readable: waits (not known performed)",
      input: { raw: req, state: state(), now: 2 },
      want: true,
    },
    {
      desc: "asked longer ago than a request waits: not waited for",
      input: { raw: req, state: state(), now: 1 + REQUEST_PENDING_MS + 1 },
      want: false,
    },
    {
      desc: "performed (the owner's last): not waiting",
      input: { raw: req, state: { version: 2, performed: "r-1", current: null, past: [] }, now: 2 },
      want: false,
    },
    {
      desc: "performed before the last: not waiting",
      input: {
        raw: req,
        state: { version: 2, performed: "r-2", performedBefore: ["r-1"], current: null, past: [] },
        now: 2,
      },
      want: false,
    },
    {
      desc: "about a rollout no longer current: not waiting",
      input: { raw: req, state: { version: 2, current: null, past: [] }, now: 2 },
      want: false,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(pendingRequest(input.raw, input.state, input.now) !== null).toBe(want);
  });

  it("says which move waits, by whom", () => {
    expect(pendingMessage({ ...req, action: "abort" })).toMatch(
      /^another move \(abort by bob \(via replica dash-b\)\) is waiting for the rollout's owner/,
    );
  });
});
