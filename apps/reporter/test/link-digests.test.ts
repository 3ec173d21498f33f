// Snapshot digests and results carrying their snapshot over the real link (issue 17): offered
// in the handshake, used only where granted; a dashboard of the previous release (grants
// nothing, strict schemas without `linuxDigest` or `snapshot`) gets every message as before; a
// `snapshot-request` gets the latest snapshot whole.
import { sha256 } from "@masq/node-util";
import {
  APPLY_RESULT_SNAPSHOT,
  type ApplyResult,
  applyResultSchema,
  type Capability,
  CHAIN_DIGESTS,
  chainDigest,
  type DashboardMessage,
  defaultConfig,
  type FamilySnapshot,
  linuxChainDigests,
  linuxRulesDigest,
  SNAPSHOT_DIGESTS,
  type Snapshot,
  snapshotSchema,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { chainS, postroutingS } from "@masq/testkit/iptables-text";
import { until } from "@masq/testkit/wait";
import { afterEach, describe, expect, it } from "vitest";
import { createLink } from "../src/link.js";
import { type FakeDashboard, startFakeDashboard } from "./helpers/dashboard.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const linux = (cidr: string): FamilySnapshot[] => [
  {
    family: "ipv4",
    backend: "nf_tables",
    chains: [
      { name: "POSTROUTING", lines: postroutingS() },
      { name: "IP-MASQ-AGENT", lines: chainS([cidr]) },
    ],
  },
];
/** Someone else's chain (a hand edit, kube-proxy, a CNI), its rules `n`. */
const other = (n: number) => ({
  name: "KUBE-EDIT",
  lines: ["-N KUBE-EDIT", `-A KUBE-EDIT -d 10.${n}.0.0/16 -j RETURN`],
});
const snapshot = (seq: number, cidr = "10.0.0.0/8"): Snapshot => ({
  type: "snapshot",
  v: 2,
  seq,
  takenAt: 1,
  appliedRevision: 1,
  linux: linux(cidr),
});

/** A snapshot as the previous release's dashboard checks it: `linuxDigest` is unknown there. */
const previousSnapshotSchema = snapshotSchema.omit({ linuxDigest: true, linuxChains: true });
/** As the last release's dashboard checks it: it knew `linuxDigest`, not `linuxChains`. */
const lastSnapshotSchema = snapshotSchema.omit({ linuxChains: true });
const chainsOf = (cidr: string) =>
  linuxChainDigests(linux(cidr), (c) => chainDigest(c, (t) => sha256(t)));

type Offer = boolean | readonly Capability[];

async function connect(dash: { grant: Capability[] }, link: { offerCapabilities?: Offer } = {}) {
  const d = await startFakeDashboard(dash);
  cleanups.push(() => d.close());
  const received: DashboardMessage[] = [];
  const l = createLink({
    url: d.url,
    hello: () => helloFor("node-d"),
    onMessage: (m) => received.push(m),
    ...link,
  });
  cleanups.push(() => l.close());
  await d.waitFor("hello");
  return { d, l, received };
}

/** What this release offers. */
const OFFER = "chain-digests, snapshot-digests, apply-result-snapshot";

const snapshots = (d: FakeDashboard) =>
  d.messages.filter((m): m is Snapshot => m.type === "snapshot");

describe("snapshot digests on the link", () => {
  const cases: {
    desc: string;
    input: { grant: Capability[]; offerCapabilities?: Offer };
    want: { offered: string | undefined; byDigest: false | "part" | "chains" };
  }[] = [
    {
      desc: "a dashboard of the previous release (grants nothing): whole snapshots it accepts",
      input: { grant: [] },
      want: { offered: OFFER, byDigest: false },
    },
    {
      desc: "a dashboard of the last release (snapshot-digests only): the whole part by digest",
      input: { grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT] },
      want: { offered: OFFER, byDigest: "part" },
    },
    {
      desc: "a dashboard granting chain-digests: each chain by digest",
      input: { grant: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT] },
      want: { offered: OFFER, byDigest: "chains" },
    },
    {
      desc: "a reporter of the last release (offers snapshot-digests only) to this dashboard",
      input: {
        grant: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
        offerCapabilities: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
      },
      want: { offered: "snapshot-digests, apply-result-snapshot", byDigest: "part" },
    },
    {
      desc: "a reporter that does not offer them (as the previous release): whole snapshots",
      input: { grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT], offerCapabilities: false },
      want: { offered: undefined, byDigest: false },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const { d, l } = await connect(
      { grant: input.grant },
      { offerCapabilities: input.offerCapabilities },
    );
    expect(d.offered).toEqual([want.offered]);
    expect(l.send(snapshot(1))).toBe(true);
    await d.waitFor("snapshot");
    const [got] = snapshots(d);
    const digest = linuxRulesDigest(linux("10.0.0.0/8"), (t) => sha256(t));
    if (want.byDigest === "part") {
      expect(got).toEqual({ ...snapshot(1), linux: undefined, linuxDigest: digest });
      expect(lastSnapshotSchema.safeParse(got).success).toBe(true);
    } else if (want.byDigest === "chains")
      expect(got).toEqual({
        ...snapshot(1),
        linux: undefined,
        linuxChains: chainsOf("10.0.0.0/8"),
      });
    else {
      expect(got).toEqual(snapshot(1));
      expect(previousSnapshotSchema.safeParse(got).success).toBe(true);
    }
  });

  it("answers a snapshot-request with its latest snapshot whole, chain digests beside it", async () => {
    const { d, l } = await connect({ grant: [CHAIN_DIGESTS] });
    l.send(snapshot(1));
    l.send(snapshot(2, "10.1.0.0/16"));
    await until(() => snapshots(d).length === 2);
    d.send({
      type: "snapshot-request",
      v: 2,
      digest: chainsOf("10.1.0.0/16")[0]!.chains[1]!.digest,
    });
    await until(() => snapshots(d).length === 3);
    expect(snapshots(d)[2]).toEqual({
      ...snapshot(2, "10.1.0.0/16"),
      linuxChains: chainsOf("10.1.0.0/16"),
    });
    expect(d.invalid).toEqual([]);
  });

  it("answers a snapshot-request with its latest snapshot whole, digest beside it", async () => {
    const { d, l } = await connect({ grant: [SNAPSHOT_DIGESTS] });
    l.send(snapshot(1));
    l.send(snapshot(2, "10.1.0.0/16"));
    await until(() => snapshots(d).length === 2);
    const digest = linuxRulesDigest(linux("10.1.0.0/16"), (t) => sha256(t));
    d.send({ type: "snapshot-request", v: 2, digest });
    await until(() => snapshots(d).length === 3);
    expect(snapshots(d)[2]).toEqual({ ...snapshot(2, "10.1.0.0/16"), linuxDigest: digest });
    expect(d.invalid).toEqual([]);
  });

  it("answers with the rules alone when the chain digests beside them would not fit a frame", async () => {
    // 200 chains of ~1.25 KB: ~244 KiB whole, ~265 KiB with a digest per chain beside.
    const big: FamilySnapshot[] = [
      {
        family: "ipv4",
        backend: "nf_tables",
        chains: Array.from({ length: 200 }, (_, c) => {
          const name = `KUBE-X${c}`;
          const rules = Array.from(
            { length: 29 },
            (_, i) => `-A ${name} -d 10.${c}.${i}.0/24 -j RETURN`,
          );
          return { name, lines: [`-N ${name}`, ...rules] };
        }),
      },
    ];
    const { d, l } = await connect({ grant: [CHAIN_DIGESTS] });
    l.send({ ...snapshot(1), linux: big });
    await until(() => snapshots(d).length === 1);
    d.send({ type: "snapshot-request", v: 2, digest: `sha256:${"0".repeat(64)}` });
    await until(() => snapshots(d).length === 2);
    expect(snapshots(d)[1]).toEqual({ ...snapshot(1), linux: big });
  });

  it("does not hand a snapshot-request to the agent, nor answer one where not granted", async () => {
    const { d, received } = await connect({ grant: [] });
    d.send({ type: "snapshot-request", v: 2, digest: `sha256:${"0".repeat(64)}` });
    d.send({ type: "resync", v: 2, requestId: "r" });
    await until(() => received.some((m) => m.type === "resync"));
    expect(received.map((m) => m.type)).toEqual(["welcome", "resync"]);
    expect(snapshots(d)).toEqual([]);
  });
});

describe("per chain, a snapshot naming a chain the dashboard was not shown", () => {
  /**
   * `edit`: a snapshot whose agent chain and another chain are both new; `edit+result`: such
   * a snapshot read back after applying, then the result, in one turn (the result may carry it).
   */
  type Step = "snapshot" | "edit" | "edit+result" | "desired" | "result";
  const cases: {
    desc: string;
    input: { mode: "enforce" | "observe"; fold: boolean; steps: Step[]; part?: boolean };
    /** How each snapshot went: by digest, or whole with the digests beside. */
    want: ("digest" | "whole")[];
  }[] = [
    {
      desc: "the first on a connection goes by digest (a restarted dashboard's cache has most)",
      input: { mode: "enforce", fold: true, steps: ["snapshot"] },
      want: ["digest"],
    },
    {
      desc: "a hand edit (new chain, no desired pending) goes whole at once",
      input: { mode: "enforce", fold: true, steps: ["snapshot", "snapshot"] },
      want: ["digest", "whole"],
    },
    {
      desc: "also where results do not carry their snapshot",
      input: { mode: "enforce", fold: false, steps: ["snapshot", "snapshot"] },
      want: ["digest", "whole"],
    },
    {
      desc: "the agent writing a desired config: by digest until its result, whole after",
      input: {
        mode: "enforce",
        fold: true,
        steps: ["snapshot", "desired", "snapshot", "snapshot", "result", "snapshot"],
      },
      want: ["digest", "digest", "digest", "whole"],
    },
    {
      desc: "the whole part by one digest (a dashboard of the last release): the same",
      input: {
        mode: "enforce",
        fold: true,
        part: true,
        steps: ["snapshot", "snapshot", "desired", "snapshot", "result", "snapshot"],
      },
      want: ["digest", "whole", "digest", "whole"],
    },
    {
      desc: "a hand edit while the agent writes a desired config: whole, not by digest",
      input: { mode: "enforce", fold: true, steps: ["snapshot", "desired", "edit", "result"] },
      want: ["digest", "whole"],
    },
    {
      desc: "the same where results do not carry their snapshot",
      input: { mode: "enforce", fold: false, steps: ["snapshot", "desired", "edit", "result"] },
      want: ["digest", "whole"],
    },
    {
      desc: "the agent's own writing, then an edit before its result: by digest, then whole",
      input: {
        mode: "enforce",
        fold: true,
        steps: ["snapshot", "desired", "snapshot", "edit", "result"],
      },
      want: ["digest", "digest", "whole"],
    },
    {
      desc: "a hand edit read back after applying, its result in the same turn: whole",
      input: { mode: "enforce", fold: true, steps: ["snapshot", "desired", "edit+result"] },
      want: ["digest", "whole"],
    },
    {
      desc: "the whole part by one digest: a hand edit while applying goes whole too",
      input: {
        mode: "enforce",
        fold: true,
        part: true,
        steps: ["snapshot", "desired", "edit", "result"],
      },
      want: ["digest", "whole"],
    },
    {
      desc: "in observe mode a desired config is not applied: an edit goes whole",
      input: { mode: "observe", fold: true, steps: ["snapshot", "desired", "snapshot"] },
      want: ["digest", "whole"],
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const format: Capability = input.part ? SNAPSHOT_DIGESTS : CHAIN_DIGESTS;
    const grant: Capability[] = input.fold ? [format, APPLY_RESULT_SNAPSHOT] : [format];
    const d = await startFakeDashboard({ grant });
    cleanups.push(() => d.close());
    const received: DashboardMessage[] = [];
    const l = createLink({
      url: d.url,
      hello: () => helloFor("node-e", { mode: input.mode }),
      onMessage: (m) => received.push(m),
    });
    cleanups.push(() => l.close());
    await d.waitFor("hello");
    await play(input.steps, l, d, received);
    await until(() => snapshotsIn(d).length === want.length);
    expect(snapshotsIn(d).map((m) => (m.linux ? "whole" : "digest"))).toEqual(want);
    // A whole one carries its digests beside, as an answer to a request does.
    for (const m of snapshotsIn(d).filter((x) => x.linux))
      if (input.part) expect(m.linuxDigest).toBe(linuxRulesDigest(m.linux!, (t) => sha256(t)));
      else
        expect(m.linuxChains).toEqual(
          linuxChainDigests(m.linux!, (c) => chainDigest(c, (t) => sha256(t))),
        );
    expect(d.invalid).toEqual([]);
  });
});

/** Sends each step's message, or a desired config from the dashboard, one turn apart. */
async function play(
  steps: readonly ("snapshot" | "edit" | "edit+result" | "desired" | "result")[],
  l: { send(m: Snapshot | ApplyResult): boolean },
  d: FakeDashboard,
  received: DashboardMessage[],
): Promise<void> {
  let seq = 0;
  let desired = 0;
  for (const step of steps) {
    // Every snapshot holds an agent chain of its own: each is new to the dashboard.
    if (step === "snapshot") l.send(snapshot(seq, `10.${seq++}.0.0/16`));
    else if (step === "edit") l.send(edited(seq, `10.${seq++}.0.0/16`));
    else if (step === "edit+result") {
      l.send(edited(seq, `10.${seq++}.0.0/16`));
      l.send(result(desired));
    } else if (step === "result") l.send(result(desired));
    else {
      desired++;
      const config = defaultConfig();
      d.send({ type: "desired", v: 2, revision: desired, resourceVersion: "r", config });
      await until(() => received.filter((m) => m.type === "desired").length === desired);
    }
    await new Promise((r) => setImmediate(r)); // a held snapshot goes alone
  }
}

/** A snapshot whose family also holds another writer's chain, new with each `seq`. */
function edited(seq: number, cidr: string): Snapshot {
  const [f] = linux(cidr);
  return { ...snapshot(seq, cidr), linux: [{ ...f!, chains: [...f!.chains, other(seq)] }] };
}

/** Snapshots as the dashboard got them, alone or inside an apply-result. */
const snapshotsIn = (d: FakeDashboard): Snapshot[] =>
  d.messages.flatMap((m) =>
    m.type === "snapshot" ? [m] : m.type === "apply-result" && m.snapshot ? [m.snapshot] : [],
  );

const result = (revision: number): ApplyResult => ({
  type: "apply-result",
  v: 2,
  revision,
  ok: true,
  durationMs: 2,
  trigger: "desired",
  changed: true,
});
/** An apply-result as the previous release's dashboard checks it: `snapshot` is unknown there. */
const previousResultSchema = applyResultSchema.omit({ snapshot: true });

describe("an apply-result carrying its snapshot", () => {
  const cases: {
    desc: string;
    input: { grant: Capability[]; sameTurn: boolean };
    want: { frames: number; folded: number };
  }[] = [
    {
      desc: "granted, the snapshot then the result in one turn: one frame",
      input: { grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT], sameTurn: true },
      want: { frames: 2, folded: 1 },
    },
    {
      desc: "granted, the result in a later turn: the snapshot went alone at the end of its turn",
      input: { grant: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT], sameTurn: false },
      want: { frames: 3, folded: 0 },
    },
    {
      desc: "not granted (the previous release): two frames it accepts",
      input: { grant: [], sameTurn: true },
      want: { frames: 3, folded: 0 },
    },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const { d, l } = await connect({ grant: input.grant });
    expect(l.send(snapshot(1))).toBe(true);
    if (!input.sameTurn) await until(() => snapshots(d).length === 1);
    expect(l.send(result(4))).toBe(true);
    await d.waitFor("apply-result");
    expect(d).toMatchObject(want); // the hello is the first frame
    // The snapshot before the result, the result without it, as two frames would have come.
    expect(d.messages.map((m) => m.type)).toEqual(["hello", "snapshot", "apply-result"]);
    expect(d.messages[2]).toEqual(result(4));
    if (input.grant.length === 0)
      expect(previousResultSchema.safeParse(d.messages[2]).success).toBe(true);
  });

  it("a heartbeat sent after a held snapshot goes after it", async () => {
    const { d, l } = await connect({ grant: [APPLY_RESULT_SNAPSHOT] });
    l.send(snapshot(1));
    l.send({ type: "heartbeat", v: 2, ts: 1 });
    await d.waitFor("heartbeat");
    expect(d.messages.map((m) => m.type)).toEqual(["hello", "snapshot", "heartbeat"]);
  });
});
