import { assignWaves, boundsOf, defaultConfig, type WavesStrategy } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { joinRollout, splitRollout } from "./staged-compat.js";
import { persistedSchema, recordOf, type StagedState } from "./staged-state.js";
import { previousPersistedSchema } from "./staged-state-17918c2.fixture.js";
import { setDigest } from "./wave-digest.js";

const strategy: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [50, 100],
  pause: { kind: "manual" },
};

/** A rollout of 6 nodes at wave 1, as the owner persists it (with per-wave digests). */
function written(): unknown {
  const names = ["node-a", "node-b", "node-c", "node-d", "node-e", "node-f"];
  const waves = assignWaves(
    names.map((name) => ({ name, labels: {} })),
    strategy,
  );
  const s: StagedState = {
    version: 1,
    resourceVersion: "200",
    revision: 7,
    previous: { resourceVersion: "190", revision: 6 },
    config: defaultConfig(),
    previousConfig: defaultConfig(),
    strategy,
    waves,
    observe: waves.map(() => []),
    bounds: boundsOf(waves, strategy),
    digests: waves.map(setDigest),
    core: {
      step: 1,
      lastStep: waves.length - 1,
      phase: "progressing",
      pause: null,
      aborted: false,
    },
    failed: {},
    actions: [{ action: "start", user: "alice", time: new Date(0).toISOString(), detail: "" }],
    startedAt: 0,
    startedBy: "alice",
  };
  return { version: 2, begun: 7, current: recordOf(s), past: [] };
}

/** The parsed state, as the store hands it to staged-rollout.ts. */
const stored = (text: string, extras: string | null) =>
  joinRollout(JSON.parse(text) as unknown, text, extras);

describe("rollout.json stays readable by the previous release (17918c2)", () => {
  it("what this release writes with digests: the previous schema refuses it whole (the fault)", () => {
    expect(previousPersistedSchema.safeParse(written()).success).toBe(false);
  });

  it("rollout.json as written now: the previous release's schema parses it", () => {
    const { text, extras } = splitRollout(written());
    expect(previousPersistedSchema.safeParse(JSON.parse(text!)).success).toBe(true);
    expect(extras).not.toBeNull();
  });

  it("this release reads back what it wrote: the digests with it", () => {
    const state = written();
    const { text, extras } = splitRollout(state);
    const back = stored(text!, extras);
    expect(back.dropped).toBeUndefined();
    expect(persistedSchema.parse(back.state)).toEqual(persistedSchema.parse(state));
  });

  it("this release reads what the previous one writes (no extras): counted by number", () => {
    const { text } = splitRollout(written());
    const old = JSON.stringify(previousPersistedSchema.parse(JSON.parse(text!)));
    const back = persistedSchema.parse(stored(old, null).state);
    expect(back.current?.digests).toBeUndefined();
    expect(back.current?.sizes).toEqual(
      (written() as { current: { sizes: number[] } }).current.sizes,
    );
  });

  const cases: {
    desc: string;
    input: (text: string, extras: string) => { text: string; extras: string | null };
    want: { digests: boolean; dropped?: RegExp };
  }[] = [
    {
      desc: "the extras written with the state: put back",
      input: (text, extras) => ({ text, extras }),
      want: { digests: true },
    },
    {
      desc: "an older owner rewrote rollout.json (a wave promoted), extras left: dropped",
      input: (text, extras) => {
        const v = JSON.parse(text);
        v.current.core.step = 2;
        return { text: JSON.stringify(v), extras };
      },
      want: { digests: false, dropped: /belongs to another rollout.json/ },
    },
    {
      desc: "extras that are not JSON (a hand edit): dropped",
      input: (text) => ({ text, extras: "{" }),
      want: { digests: false, dropped: /not JSON/ },
    },
    {
      desc: "extras of an unknown shape: dropped",
      input: (text) => ({ text, extras: JSON.stringify({ version: 2 }) }),
      want: { digests: false, dropped: /not valid/ },
    },
    {
      desc: "no extras (a state without digests, or the previous release's): as stored",
      input: (text) => ({ text, extras: null }),
      want: { digests: false },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const split = splitRollout(written());
    const { text, extras } = input(split.text!, split.extras!);
    const back = stored(text, extras);
    expect(back.dropped).toEqual(want.dropped ? expect.stringMatching(want.dropped) : undefined);
    const parsed = persistedSchema.parse(back.state);
    expect(parsed.current?.digests !== undefined).toBe(want.digests);
  });

  it("no rollout: nothing stored; a state without digests: no extras", () => {
    expect(splitRollout(null)).toEqual({ text: null, extras: null });
    const none = { version: 2, current: null, past: [] };
    expect(splitRollout(none)).toEqual({ text: JSON.stringify(none), extras: null });
  });
});

// The content the owner began (begunConfig: a revision number alone may name two merged configs)
// is kept apart as the digests are: the previous release refuses a field it does not know.
describe("begunConfig", () => {
  const begunConfig = "a".repeat(64);
  for (const current of ["a rollout", "none"] as const)
    it(`with ${current}: rollout.json as the previous release reads it, put back whole`, () => {
      const state = {
        ...(persistedSchema.parse(written()) as object),
        begun: 7,
        begunConfig,
        ...(current === "none" ? { current: null } : {}),
      };
      const { text, extras } = splitRollout(state);
      expect(previousPersistedSchema.safeParse(JSON.parse(text!)).success).toBe(true);
      const back = joinRollout(JSON.parse(text!), text!, extras);
      expect(back.dropped).toBeUndefined();
      expect(persistedSchema.parse(back.state)).toEqual(persistedSchema.parse(state));
    });
});

// An all-at-once rollout in progress (atOnce, at-once-state.ts) is kept apart too, and a bad one
// drops nothing else with it: it is checked by its reader alone.
describe("atOnce", () => {
  const atOnce = {
    version: 1,
    revision: 8,
    resourceVersion: "8",
    config: "b".repeat(64),
    startedAt: 1000,
    startedBy: "alice",
    targets: 3,
  };
  const cases: { desc: string; input: unknown; want: { digests: boolean } }[] = [
    { desc: "a rollout of it beside no staged one", input: atOnce, want: { digests: false } },
    {
      desc: "a bad one (a hand edit) beside a staged rollout's digests",
      input: { ...atOnce, targets: "three" },
      want: { digests: true },
    },
  ];
  it.each(cases)(
    "$desc: rollout.json as the previous release reads it, put back whole",
    ({ input, want }) => {
      const parsed = persistedSchema.parse(written()) as Record<string, unknown>;
      const state = { ...parsed, ...(want.digests ? {} : { current: null }), atOnce: input };
      const { text, extras } = splitRollout(state);
      expect(JSON.parse(text!)).not.toHaveProperty("atOnce");
      expect(previousPersistedSchema.safeParse(JSON.parse(text!)).success).toBe(true);
      const back = joinRollout(JSON.parse(text!), text!, extras);
      expect(back.dropped).toBeUndefined();
      const read = persistedSchema.parse(back.state);
      expect(read.atOnce).toEqual(input);
      expect(read.current?.digests !== undefined).toBe(want.digests);
    },
  );
});
