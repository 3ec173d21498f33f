// Capability `digest-history` on the real link: where granted, the digests of the last
// DIGEST_HISTORY_SNAPSHOTS distinct snapshots written count as shown, so a node toggled back to
// a recent state (a hand edit, then its heal) goes by digest, not whole; one further back goes
// whole. A `snapshot-request` (the dashboard could not resolve one) leaves only the snapshot
// answered shown. A dashboard of an earlier release (not granted) sees what it saw before.
import { sha256 } from "@masq/node-util";
import {
  APPLY_RESULT_SNAPSHOT,
  type Capability,
  CHAIN_DIGESTS,
  chainDigest,
  DIGEST_HISTORY,
  DIGEST_HISTORY_SNAPSHOTS,
  type FamilySnapshot,
  linuxChainDigests,
  linuxRulesDigest,
  SNAPSHOT_DIGESTS,
  type Snapshot,
} from "@masq/shared";
import { helloFor, rulesState } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createLink } from "../src/link.js";
import { type FakeDashboard, startFakeDashboard } from "./helpers/dashboard.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const linux = rulesState;
const snapshot = (seq: number, n: number): Snapshot => ({
  type: "snapshot",
  v: 2,
  seq,
  takenAt: 1,
  appliedRevision: 1,
  linux: linux(n),
});
const snapshots = (d: FakeDashboard) =>
  d.messages.filter((m): m is Snapshot => m.type === "snapshot");

const K = DIGEST_HISTORY_SNAPSHOTS;
/** States 0 … count-1 in turn. */
const states = (count: number) => Array.from({ length: count }, (_, i) => i);
const whole = (count: number): "whole"[] => Array(count).fill("whole");

describe("digest-history: snapshots toggled back to a recent state", () => {
  /** A state number sends that state's snapshot; `request`: the dashboard asks for the rules. */
  type Step = number | "request";
  const cases: {
    desc: string;
    input: { grant: Capability[]; steps: Step[] };
    /** How each snapshot went, the answers to requests included. */
    want: ("digest" | "whole")[];
  }[] = [
    {
      desc: "A → B → A: A goes by digest, B too",
      input: { grant: [CHAIN_DIGESTS, DIGEST_HISTORY], steps: [0, 1, 0, 1] },
      want: ["digest", "whole", "digest", "digest"],
    },
    {
      desc: `a state ${K} distinct snapshots back still goes by digest`,
      input: { grant: [CHAIN_DIGESTS, DIGEST_HISTORY], steps: [...states(K), 0] },
      want: ["digest", ...whole(K - 1), "digest"],
    },
    {
      desc: `a state ${K + 1} distinct snapshots back goes whole`,
      input: { grant: [CHAIN_DIGESTS, DIGEST_HISTORY], steps: [...states(K + 1), 0] },
      want: ["digest", ...whole(K), "whole"],
    },
    {
      desc: "a state written again moves up: the least recently written is dropped first",
      input: {
        grant: [CHAIN_DIGESTS, DIGEST_HISTORY],
        steps: [0, 1, 0, ...states(K + 1).slice(2), 0, 1],
      },
      want: ["digest", "whole", "digest", ...whole(K - 1), "digest", "whole"],
    },
    {
      desc: "the same rules again take no place: an older state still goes by digest",
      input: { grant: [CHAIN_DIGESTS, DIGEST_HISTORY], steps: [0, 1, 1, 1, 1, 1, 0] },
      want: ["digest", "whole", "digest", "digest", "digest", "digest", "digest"],
    },
    {
      desc: "a request: only the snapshot answered counts as shown, the older states go whole",
      input: { grant: [CHAIN_DIGESTS, DIGEST_HISTORY], steps: [0, 1, "request", 0, 1] },
      want: ["digest", "whole", "whole", "whole", "digest"],
    },
    {
      desc: "the whole part by one digest: A → B → A by digest too",
      input: { grant: [SNAPSHOT_DIGESTS, DIGEST_HISTORY], steps: [0, 1, 0] },
      want: ["digest", "whole", "digest"],
    },
    {
      desc: "a dashboard of an earlier release (not granted): A goes whole again, as before",
      input: { grant: [CHAIN_DIGESTS, APPLY_RESULT_SNAPSHOT], steps: [0, 1, 0, 1] },
      want: ["digest", "whole", "whole", "whole"],
    },
    {
      desc: "not granted, a request: as before",
      input: { grant: [CHAIN_DIGESTS], steps: [0, 1, "request", 1, 0] },
      want: ["digest", "whole", "whole", "digest", "whole"],
    },
    {
      desc: "not granted, the whole part: as before",
      input: { grant: [SNAPSHOT_DIGESTS], steps: [0, 1, 0] },
      want: ["digest", "whole", "whole"],
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const d = await startFakeDashboard({ grant: input.grant });
    cleanups.push(() => d.close());
    const l = createLink({ url: d.url, hello: () => helloFor("node-h"), onMessage: () => {} });
    cleanups.push(() => l.close());
    await d.waitFor("hello");
    const part = input.grant.includes(SNAPSHOT_DIGESTS);
    let seq = 0;
    for (const step of input.steps) {
      const before = snapshots(d).length;
      if (step === "request")
        d.send({ type: "snapshot-request", v: 2, digest: `sha256:${"0".repeat(64)}` });
      else l.send(snapshot(seq++, step));
      await until(() => snapshots(d).length === before + 1);
    }
    await new Promise((r) => setTimeout(r, 50)); // none more
    const got = snapshots(d);
    expect(got.map((m) => (m.linux ? "whole" : "digest"))).toEqual(want);
    // Each names its rules' digests as the dashboard computes them, whole or not.
    for (const m of got) {
      const rules = linux(input.steps.filter((s) => s !== "request")[m.seq] as number);
      if (part) expect(m.linuxDigest).toBe(linuxRulesDigest(rules, (t) => sha256(t)));
      else
        expect(m.linuxChains).toEqual(
          linuxChainDigests(rules, (c) => chainDigest(c, (t) => sha256(t))),
        );
    }
    expect(d.invalid).toEqual([]);
  });
});

describe("digest-history: a new combination of chains shown in different snapshots", () => {
  /** POSTROUTING in variant `x`, the agent's chain in variant `y`. */
  const mixed = (x: number, y: number): FamilySnapshot[] => [
    {
      family: "ipv4",
      backend: "nf_tables",
      chains: [
        {
          name: "POSTROUTING",
          lines: x === 0 ? postroutingS() : [...postroutingS(), "-A POSTROUTING -o eth9 -j RETURN"],
        },
        { name: "IP-MASQ-AGENT", lines: chainS([`10.${y}.0.0/16`]) },
      ],
    },
  ];
  // The fourth state's POSTROUTING was shown in the second, its agent chain in the third: held
  // per chain, but its whole part was never shown, which the dashboard resolves only as a whole.
  const cases: { desc: string; grant: Capability[]; want: "digest" | "whole" }[] = [
    { desc: "per chain: by digest", grant: [CHAIN_DIGESTS, DIGEST_HISTORY], want: "digest" },
    { desc: "the whole part: whole", grant: [SNAPSHOT_DIGESTS, DIGEST_HISTORY], want: "whole" },
  ];
  it.each(cases)("$desc", async ({ grant, want }) => {
    const d = await startFakeDashboard({ grant });
    cleanups.push(() => d.close());
    const l = createLink({ url: d.url, hello: () => helloFor("node-m"), onMessage: () => {} });
    cleanups.push(() => l.close());
    await d.waitFor("hello");
    const steps = [mixed(0, 0), mixed(1, 0), mixed(1, 1), mixed(0, 1)];
    for (const [seq, rules] of steps.entries()) {
      l.send({ type: "snapshot", v: 2, seq, takenAt: 1, appliedRevision: 1, linux: rules });
      await until(() => snapshots(d).length === seq + 1);
    }
    expect(snapshots(d).map((m) => (m.linux ? "whole" : "digest"))).toEqual([
      "digest",
      "whole",
      "whole",
      want,
    ]);
    expect(d.invalid).toEqual([]);
  });
});
