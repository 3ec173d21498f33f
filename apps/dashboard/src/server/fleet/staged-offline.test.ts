import { describe, expect, it } from "vitest";
import {
  FRESH_READS_IN_FLIGHT,
  FRESH_READS_PER_SECOND,
  OfflineSuspects,
  RECONNECT_GRACE_MS,
  REPORT_WAIT_MAX_MS,
} from "./staged-offline.js";

const REASON = "n-1 went offline 2 s after applying";
const BEHIND = "dash-c: 1200 reconnects not yet written";

/** Judges rollout "2"'s suspects at `now` with no node reconnected and no replica behind. */
const judgeAlone = (s: OfflineSuspects, now: number) =>
  s.judge(
    "2",
    now,
    () => false,
    () => [],
  );

describe("OfflineSuspects.judge", () => {
  const cases: {
    desc: string;
    input: {
      of: string | null;
      after: number;
      connected: boolean;
      /** The replicas behind, as of a renewal seen since the window; undefined: no others. */
      behind?: string[];
    };
    want: { reasons: string[]; left: number; since?: number };
  }[] = [
    {
      desc: "within the reconnect window, still offline: waited for",
      input: { of: "2", after: RECONNECT_GRACE_MS - 1, connected: false, behind: [] },
      want: { reasons: [], left: 1 },
    },
    {
      desc: "alone (no other replica): judged after the window",
      input: { of: "2", after: RECONNECT_GRACE_MS, connected: false },
      want: { reasons: [`${REASON}, and did not reconnect within 15 s`], left: 0 },
    },
    {
      desc: "after the window, every replica's reconnects written since: gone",
      input: { of: "2", after: RECONNECT_GRACE_MS, connected: false, behind: [] },
      want: {
        reasons: [
          `${REASON}, and no replica held it once every replica had written its reconnects`,
        ],
        left: 0,
        since: 1000 + RECONNECT_GRACE_MS,
      },
    },
    {
      desc: "after the window, a replica's reconnects not written yet: waited for (break7)",
      input: { of: "2", after: 60_000, connected: false, behind: [BEHIND] },
      want: { reasons: [], left: 1, since: 1000 + RECONNECT_GRACE_MS },
    },
    {
      desc: "not reported either way within the bound: pauses, saying it is not known",
      input: { of: "2", after: REPORT_WAIT_MAX_MS, connected: false, behind: [BEHIND] },
      want: {
        reasons: [
          `${REASON}; whether it reconnected was not known: no replica reported it connected within 300 s (${BEHIND})`,
        ],
        left: 0,
      },
    },
    {
      desc: "connected again (here or to another replica): dropped",
      input: { of: "2", after: 1000, connected: true, behind: [BEHIND] },
      want: { reasons: [], left: 0 },
    },
    {
      desc: "the rollout it went offline in was replaced: dropped",
      input: { of: "3", after: RECONNECT_GRACE_MS, connected: false, behind: [] },
      want: { reasons: [], left: 0 },
    },
    {
      desc: "no rollout to pause (finished, or followed here): dropped",
      input: { of: null, after: RECONNECT_GRACE_MS, connected: false, behind: [] },
      want: { reasons: [], left: 0 },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const s = new OfflineSuspects();
    s.add("n-1", REASON, "2", 1000);
    s.add("n-1", "a second disconnect does not restart the window", "2", 5000);
    const asked: number[] = [];
    const behind = input.behind;
    const unreported =
      behind &&
      ((since: number) => {
        asked.push(since);
        return behind;
      });
    const reasons = s.judge(input.of, 1000 + input.after, () => input.connected, unreported);
    expect(reasons).toEqual(want.reasons);
    expect(s.size).toBe(want.left);
    if (want.since !== undefined) expect(asked).toEqual([want.since]);
  });

  it("says which nodes hold the waves back and what is not known yet", () => {
    const s = new OfflineSuspects();
    expect(s.message()).toBeNull();
    for (const n of ["a", "b", "c", "d", "e"]) s.add(n, `${n} went offline`, "2", 0);
    expect(s.message()).toBe(
      "No wave goes on until it is known whether a, b, c and 2 more reconnected: offline right after applying, not yet reported connected by any replica (reporters reconnect within 10 s; judged by 1970-01-01T00:05:00.000Z at the latest)",
    );
    s.judge(
      "2",
      RECONNECT_GRACE_MS,
      () => false,
      () => [BEHIND],
    );
    expect(s.message()).toBe(
      `No wave goes on until it is known whether a, b, c and 2 more reconnected: offline right after applying, not yet reported connected by any replica (waiting for the replicas' reconnects to be written: ${BEHIND}; judged by 1970-01-01T00:05:00.000Z at the latest)`,
    );
  });

  it("alone (no other replica): names the end of the reconnect window, not the 300 s bound", () => {
    // newuser5: a one-replica demo read "judged by <now + 5 min> at the latest" and paused 15 s
    // after, as the window ends (judge without `unreported`).
    const s = new OfflineSuspects();
    s.add("a", "a went offline", "2", 1000);
    expect(s.message(true)).toBe(
      `No wave goes on until it is known whether a reconnected: offline right after applying, not reconnected yet (reporters reconnect within 10 s; judged at 1970-01-01T00:00:16.000Z)`,
    );
  });
});

describe("OfflineSuspects: a fresh read of the NodeMasquerade before the verdict", () => {
  const GONE = `${REASON}, and no replica held it once every replica had written its reconnects`;
  /** Lets the read's promise chain settle. */
  const settled = () => new Promise((r) => setImmediate(r));

  const cases: {
    desc: string;
    input: {
      /** What the GET answers: connected elsewhere or not; an Error: the read failed. */
      answer: boolean | Error;
      /** Time of the second judgement, after the read answered (ms since the suspect). */
      later: number;
      behind?: string[];
    };
    want: { reasons: string[]; left: number; reads: number };
  }[] = [
    {
      desc: "the watch lags: the API server says another replica holds it connected: not gone",
      input: { answer: true, later: RECONNECT_GRACE_MS + 1000 },
      want: { reasons: [], left: 0, reads: 1 },
    },
    {
      desc: "the API server says connected nowhere either: gone",
      input: { answer: false, later: RECONNECT_GRACE_MS + 1000 },
      want: { reasons: [GONE], left: 0, reads: 1 },
    },
    {
      desc: "the read failed: not known yet, never gone",
      input: { answer: new Error("503 Service Unavailable"), later: RECONNECT_GRACE_MS + 1000 },
      want: { reasons: [], left: 1, reads: 1 },
    },
    {
      desc: "the read kept failing until the bound: paused as not known, naming the failure",
      input: { answer: new Error("503 Service Unavailable"), later: REPORT_WAIT_MAX_MS },
      want: {
        reasons: [
          `${REASON}; whether it reconnected was not known: its NodeMasquerade could not be read (503 Service Unavailable) within 300 s`,
        ],
        left: 0,
        reads: 1,
      },
    },
    {
      desc: "a replica's reconnects not written at the bound, connected by the API server: not gone",
      input: { answer: true, later: REPORT_WAIT_MAX_MS + 1000, behind: [BEHIND] },
      want: { reasons: [], left: 0, reads: 1 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    let reads = 0;
    const s = new OfflineSuspects(async () => {
      reads++;
      if (input.answer instanceof Error) throw input.answer;
      return input.answer;
    });
    s.add("n-1", REASON, "2", 0);
    const behind = () => input.behind ?? [];
    const first = input.behind ? input.later - 1000 : RECONNECT_GRACE_MS;
    // The verdict is due: the read is asked, and nothing is judged before it answers.
    expect(s.judge("2", first, () => false, behind)).toEqual([]);
    await settled();
    expect(s.judge("2", input.later, () => false, behind)).toEqual(want.reasons);
    expect(s.size).toBe(want.left);
    expect(reads).toBe(want.reads);
  });

  it("a read not answered yet holds the verdict", () => {
    const s = new OfflineSuspects(() => new Promise<boolean>(() => {}));
    s.add("n-1", REASON, "2", 0);
    expect(judgeAlone(s, RECONNECT_GRACE_MS)).toEqual([]);
    expect(judgeAlone(s, RECONNECT_GRACE_MS + 60_000)).toEqual([]);
    expect(s.size).toBe(1);
  });

  it("bounded: reads in flight at most FRESH_READS_IN_FLIGHT, one per suspect", async () => {
    let reads = 0;
    const s = new OfflineSuspects(() => {
      reads++;
      return new Promise<boolean>(() => {});
    });
    for (let i = 0; i < 50; i++) s.add(`n-${i}`, REASON, "2", 0);
    for (let t = 0; t < 5; t++)
      s.judge(
        "2",
        RECONNECT_GRACE_MS + t * 1000,
        () => false,
        () => [],
      );
    await new Promise((r) => setImmediate(r));
    expect(reads).toBe(FRESH_READS_IN_FLIGHT);
  });

  it("rate-limited: at most FRESH_READS_PER_SECOND reads started a second", async () => {
    let reads = 0;
    const s = new OfflineSuspects(async () => {
      reads++;
      return false;
    });
    for (let i = 0; i < 100; i++) s.add(`n-${i}`, REASON, "2", 0);
    for (let t = 0; t < 30; t++) {
      s.judge(
        "2",
        RECONNECT_GRACE_MS + Math.floor(t / 10) * 1000,
        () => false,
        () => [],
      );
      await settled();
    }
    // Three seconds of judging (a burst, then a refill each second).
    expect(reads).toBeLessThanOrEqual(3 * FRESH_READS_PER_SECOND);
    expect(reads).toBeGreaterThan(0);
  });

  it("one process (file mode): no read, judged as before", () => {
    let reads = 0;
    const s = new OfflineSuspects(async () => {
      reads++;
      return true;
    });
    s.add("n-1", REASON, "2", 0);
    expect(s.judge("2", RECONNECT_GRACE_MS, () => false)).toEqual([
      `${REASON}, and did not reconnect within 15 s`,
    ]);
    expect(reads).toBe(0);
  });
});

describe("OfflineSuspects: a failed fresh read in the pause reason", () => {
  it("a reader that throws at once, with a long multi-line error: its first line, 200 characters at most", async () => {
    const s = new OfflineSuspects(() => {
      throw new Error(`HTTP-Code: 500 ${"x".repeat(500)}\nBody: {...}`);
    });
    s.add("n-1", REASON, "2", 0);
    expect(judgeAlone(s, RECONNECT_GRACE_MS)).toEqual([]);
    await new Promise((r) => setImmediate(r));
    const [reason] = judgeAlone(s, REPORT_WAIT_MAX_MS);
    expect(reason).toMatch(
      /its NodeMasquerade could not be read \(HTTP-Code: 500 x+\) within 300 s$/,
    );
    expect(reason!.length).toBeLessThan(REASON.length + 300);
  });
});

describe("OfflineSuspects: a holder that stopped renewing its Lease, maybe alive", () => {
  // Issue 17: a replica cut off from the API server (its Lease unrenewed) keeps its reporters;
  // the singleton marks its nodes disconnected by the Lease alone. Before, 30 s later a node it
  // still held was paused as gone: "no replica held it once every replica had written…".
  const UNKNOWN =
    "replica dash-b stopped renewing its Lease at 2026-12-01T08:00:00.000Z: whether it is alive and still holds the node is not known";
  const cases: {
    desc: string;
    input: { holder?: string; after: number; unknown: string | undefined; answer: boolean };
    want: { reasons: string[]; left: number };
  }[] = [
    {
      desc: "its holder's state not known, every other replica's reconnects written: not gone, waited for",
      input: { holder: "dash-b", after: 60_000, unknown: UNKNOWN, answer: false },
      want: { reasons: [], left: 1 },
    },
    {
      desc: "still not known at the bound: paused as not known, naming the holder, never gone",
      input: { holder: "dash-b", after: REPORT_WAIT_MAX_MS, unknown: UNKNOWN, answer: false },
      want: {
        reasons: [
          `${REASON}; whether it reconnected was not known: no replica reported it connected within 300 s (${UNKNOWN})`,
        ],
        left: 0,
      },
    },
    {
      desc: "its holder released its Lease (shut down) or is live: judged on the evidence as before",
      input: { holder: "dash-b", after: 60_000, unknown: undefined, answer: false },
      want: {
        reasons: [
          `${REASON}, and no replica held it once every replica had written its reconnects`,
        ],
        left: 0,
      },
    },
    {
      desc: "reconnected to another replica meanwhile (the API server says so): not gone",
      input: { holder: "dash-b", after: REPORT_WAIT_MAX_MS, unknown: UNKNOWN, answer: true },
      want: { reasons: [], left: 0 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const s = new OfflineSuspects(async () => input.answer);
    s.add("n-1", REASON, "2", 0, input.holder);
    const holderUnknown = (r: string) => (r === "dash-b" ? input.unknown : undefined);
    const judge = (now: number) =>
      s.judge(
        "2",
        now,
        () => false,
        () => [],
        holderUnknown,
      );
    // The verdict due asks the fresh read first, and is given once it answered.
    expect(judge(input.after)).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(judge(input.after + 1000)).toEqual(want.reasons);
    expect(s.size).toBe(want.left);
  });

  it("says the holder's state is what is not known while it waits", () => {
    const s = new OfflineSuspects();
    s.add("n-1", REASON, "2", 0, "dash-b");
    s.judge(
      "2",
      60_000,
      () => false,
      () => [],
      () => UNKNOWN,
    );
    expect(s.message()).toContain(UNKNOWN);
  });
});
