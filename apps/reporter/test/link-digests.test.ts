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
  DEFAULT_FLAGS,
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
import WebSocket from "ws";
import { createMemoryBackend } from "../src/backend/memory.js";
import { createLink } from "../src/link.js";
import { Outbox } from "../src/link-outbox.js";
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
const OFFER =
  "chain-digests, snapshot-digests, apply-result-snapshot, unheard-heals, digest-history";

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

/** Enforce-mode cases alike where results carry their snapshot and where they do not. */
function foldOrNot<S extends string, W extends string>(desc: string, steps: S[], want: W[]) {
  return [true, false].map((fold) => ({
    desc: fold ? desc : `${desc} (results without their snapshot)`,
    input: { mode: "enforce" as const, fold, steps },
    want,
  }));
}

describe("per chain, a snapshot naming a chain the dashboard was not shown", () => {
  /**
   * `snapshot`: the agent's own chain edited by hand (a rule added, new each time); `write`:
   * the agent chain as the agent writes the last desired config (what the dashboard renders
   * for it); `edit`: the agent's writing and another writer's new chain; `+result`: the
   * result in the same turn (it may carry the snapshot); `other+result`: an apply of another
   * revision (a periodic one already running when the desired came) read back, its result in
   * the same turn; `invalid`: a snapshot whose frame cannot be encoded, then the same rules.
   */
  type Step =
    | "snapshot"
    | "write"
    | "edit"
    | "edit+result"
    | "other+result"
    | "invalid"
    | "desired"
    | "result";
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
        steps: ["snapshot", "desired", "write", "result", "snapshot", "write"],
      },
      want: ["digest", "digest", "whole", "whole"],
    },
    {
      desc: "the whole part by one digest (a dashboard of the last release): the same",
      input: {
        mode: "enforce",
        fold: true,
        part: true,
        steps: ["snapshot", "snapshot", "desired", "write", "result", "snapshot"],
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
        steps: ["snapshot", "desired", "write", "edit", "result"],
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
      input: { mode: "observe", fold: true, steps: ["snapshot", "desired", "write"] },
      want: ["digest", "whole"],
    },
    ...foldOrNot(
      "a hand edit of the agent's own chain while it applies: whole (not what it writes)",
      ["snapshot", "desired", "write", "snapshot", "result"],
      ["digest", "digest", "whole"],
    ),
    {
      desc: "a desired that never got its result: a later hand edit of the agent chain goes whole",
      input: {
        mode: "enforce",
        fold: true,
        steps: ["snapshot", "desired", "snapshot", "snapshot"],
      },
      want: ["digest", "whole", "whole"],
    },
    {
      desc: "an apply of another revision read back while a desired is pending: whole, alone",
      input: { mode: "enforce", fold: true, steps: ["snapshot", "desired", "other+result"] },
      want: ["digest", "whole"],
    },
    ...foldOrNot(
      "rules whose frame could not be encoded were never shown: the same rules go whole",
      ["snapshot", "invalid"],
      ["digest", "whole"],
    ),
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
    await new Promise((r) => setTimeout(r, 50)); // none more
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

/** The config of the `n`th desired: each its own CIDR, so each renders its own agent chain. */
const desiredConfig = (n: number) => ({
  ...defaultConfig(),
  nonMasqueradeCIDRs: [`10.${200 + n}.0.0/16`],
});

/** The rules the agent leaves on a node after applying `config` (the memory backend's read). */
async function written(config: ReturnType<typeof desiredConfig>): Promise<FamilySnapshot[]> {
  const backend = createMemoryBackend({ flags: DEFAULT_FLAGS });
  const o = await backend.apply(config, "desired");
  if (!o.ok) throw new Error(`the memory backend refused ${JSON.stringify(config)}`);
  return backend.read();
}

/** Sends each step's messages, or a desired config from the dashboard, one turn apart. */
async function play(
  steps: readonly string[],
  l: { send(m: Snapshot | ApplyResult): boolean },
  d: FakeDashboard,
  received: DashboardMessage[],
): Promise<void> {
  const at = { seq: 0, desired: 0 };
  for (const step of steps) {
    if (step === "desired") {
      const revision = ++at.desired;
      const config = desiredConfig(revision);
      d.send({ type: "desired", v: 2, revision, resourceVersion: "r", config });
      await until(() => received.filter((m) => m.type === "desired").length === revision);
    } else if (step === "invalid") {
      const rules = await written(desiredConfig(50));
      expect(l.send({ ...snapshot(at.seq++), takenAt: -1, linux: rules })).toBe(false);
      await new Promise((r) => setImmediate(r));
      l.send({ ...snapshot(at.seq++), linux: rules });
    } else for (const m of await messagesOf(step, at)) l.send(m);
    await new Promise((r) => setImmediate(r)); // a held snapshot goes alone
  }
}

/** What the agent sends, in one turn, for `step` (`at`: the next seq, the last desired). */
async function messagesOf(
  step: string,
  at: { seq: number; desired: number },
): Promise<(Snapshot | ApplyResult)[]> {
  const mine = await written(desiredConfig(at.desired));
  const seq = at.seq++;
  switch (step) {
    case "snapshot": // each by hand holds an agent chain of its own: new to the dashboard
      return [{ ...snapshot(seq), linux: byHand(mine, seq) }];
    case "write":
      return [{ ...snapshot(seq), linux: mine }];
    case "edit":
      return [edited(seq, mine)];
    case "edit+result":
      return [edited(seq, mine), result(at.desired)];
    case "other+result": // the revision applied before (0): its agent chain, not the desired's
      return [
        { ...snapshot(seq), linux: await written(desiredConfig(0)) },
        { ...result(0), trigger: "periodic" },
      ];
    case "result":
      return [result(at.desired)];
    default:
      throw new Error(`no step ${step}`);
  }
}

/** The agent's own chain in `rules` edited by hand: a rule added, its own for each `n`. */
function byHand(rules: FamilySnapshot[], n: number): FamilySnapshot[] {
  return rules.map((f) => ({
    ...f,
    chains: f.chains.map((c) =>
      c.name === DEFAULT_FLAGS.masqChain && c.lines
        ? { ...c, lines: [...c.lines, `-A ${c.name} -d 192.0.2.${n}/32 -j RETURN`] }
        : c,
    ),
  }));
}

/** A snapshot of `rules` whose family also holds another writer's chain, new with each `seq`. */
function edited(seq: number, rules: FamilySnapshot[]): Snapshot {
  const [f] = rules;
  return { ...snapshot(seq), linux: [{ ...f!, chains: [...f!.chains, other(seq)] }] };
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

describe("a frame that could not be sent shows nothing", () => {
  it("a socket already closing: the snapshot is reported dropped, its digests not shown", async () => {
    const d = await startFakeDashboard({ grant: [CHAIN_DIGESTS] });
    cleanups.push(() => d.close());
    const ws = new WebSocket(d.url);
    await new Promise((r) => ws.once("open", r));
    let written = 0;
    const box = new Outbox(
      (m) => JSON.stringify(m),
      () => written++,
    );
    box.opened({ digests: false, chains: true, fold: false });
    expect(box.send(ws, snapshot(1))).toBe(true);
    ws.close();
    expect(box.send(ws, snapshot(2, "10.1.0.0/16"))).toBe(false);
    expect(written).toBe(1);
    // A request still gets the last snapshot written, not the one that never went.
    await until(() => ws.readyState === WebSocket.CLOSED);
    const again = new WebSocket(d.url);
    cleanups.push(() => again.close());
    await new Promise((r) => again.once("open", r));
    box.answerRequest(again);
    await until(() => snapshots(d).length === 2);
    expect(snapshots(d)[1]).toEqual({ ...snapshot(1), linuxChains: chainsOf("10.0.0.0/8") });
  });
});
