import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { nodeEventsFile } from "../store/roster-file.js";
import { atomicWrite } from "../util/atomic-write.js";
import type { ReporterLink } from "./fleet-state.js";
import { addEvent, type NodeRecord } from "./node.js";
import {
  MAX_KEPT_EVENTS,
  MAX_KEPT_MESSAGE_CHARS,
  MAX_KEPT_ROUTINE,
  MAX_NODE_EVENTS_BYTES,
  NODE_EVENTS_FILE,
  NODE_EVENTS_WRITE_EVERY_MS,
  nodeEventsKeeper,
  nodeEventsText,
  parseNodeEvents,
} from "./node-events.js";
import type { RosterEntry } from "./node-roster.js";
import { testFleet } from "./post-apply.fixture.js";

const NOW = 1_764_800_000_000;
const file = (texts: unknown[], nodes: unknown[], version = 1) =>
  JSON.stringify({ version, texts, nodes });
const drift: [string, string] = ["drift", "drifted: rule 3 missing"];
const healed: [string, string] = ["healed", "resync put the rules back"];

describe("parseNodeEvents", () => {
  const cases: { desc: string; input: string; want: RegExp | null }[] = [
    {
      desc: "two nodes sharing a text",
      input: file(
        [drift, healed],
        [
          {
            node: "node-a",
            events: [
              [NOW - 2, 0],
              [NOW - 1, 1],
            ],
          },
          { node: "node-b", events: [[NOW - 3, 1]] },
        ],
      ),
      want: null,
    },
    { desc: "no nodes", input: file([], []), want: null },
    {
      desc: "an event a little ahead of the clock",
      input: file([drift], [{ node: "a", events: [[NOW + 60_000, 0]] }]),
      want: null,
    },
    { desc: "not JSON", input: '{"version":1,', want: /node-events\.json is not JSON/ },
    { desc: "not an object", input: "[]", want: /not a node events file: \(top\)/ },
    { desc: "another version", input: file([], [], 2), want: /: version/ },
    {
      desc: "an unknown field",
      input: JSON.stringify({ version: 1, texts: [], nodes: [], more: 1 }),
      want: /\(top\)/,
    },
    {
      desc: "a node name that is none",
      input: file([drift], [{ node: "Node A", events: [[1, 0]] }]),
      want: /nodes\.0\.node/,
    },
    {
      desc: "a node listed twice",
      input: file(
        [drift],
        [
          { node: "a", events: [[1, 0]] },
          { node: "a", events: [[2, 0]] },
        ],
      ),
      want: /listed twice/,
    },
    {
      desc: "a node with no event",
      input: file([drift], [{ node: "a", events: [] }]),
      want: /nodes\.0\.events/,
    },
    {
      desc: "more events than kept",
      input: file(
        [drift],
        [{ node: "a", events: Array.from({ length: MAX_KEPT_EVENTS + 1 }, (_, i) => [i, 0]) }],
      ),
      want: /nodes\.0\.events/,
    },
    {
      desc: "a text index out of range",
      input: file([drift], [{ node: "a", events: [[1, 1]] }]),
      want: /nodes\.0\.events\.0: text 1 is not in texts/,
    },
    {
      desc: "a negative time",
      input: file([drift], [{ node: "a", events: [[-1, 0]] }]),
      want: /nodes\.0\.events\.0\.0/,
    },
    {
      desc: "a fractional index",
      input: file([drift], [{ node: "a", events: [[1, 0.5]] }]),
      want: /nodes\.0\.events\.0\.1/,
    },
    {
      desc: "an event after the dashboard's clock",
      input: file(
        [drift],
        [
          {
            node: "a",
            events: [
              [1, 0],
              [NOW + 3_600_000, 0],
            ],
          },
        ],
      ),
      want: /nodes\.0\.events\.1: \d+ is after this dashboard's clock/,
    },
    {
      desc: "a message over the bound",
      input: file(
        [["drift", "x".repeat(MAX_KEPT_MESSAGE_CHARS + 1)]],
        [{ node: "a", events: [[1, 0]] }],
      ),
      want: /texts\.0\.1/,
    },
    {
      desc: "an empty kind",
      input: file([["", "x"]], [{ node: "a", events: [[1, 0]] }]),
      want: /texts\.0\.0/,
    },
    {
      desc: "over the byte bound",
      input: " ".repeat(MAX_NODE_EVENTS_BYTES + 1),
      want: /over \d+ bytes/,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const r = parseNodeEvents(input, NOW);
    if (want === null) expect(r).toMatchObject({ ok: true });
    else expect(r).toEqual({ ok: false, error: expect.stringMatching(want) });
  });

  it("reads each node's events oldest first, kind and text from the shared table", () => {
    const r = parseNodeEvents(
      file(
        [drift, healed],
        [
          {
            node: "node-a",
            events: [
              [NOW - 2, 0],
              [NOW - 1, 1],
            ],
          },
        ],
      ),
      NOW,
    );
    expect(r.ok && [...r.value]).toEqual([
      [
        "node-a",
        [
          { time: NOW - 2, kind: "drift", message: drift[1] },
          { time: NOW - 1, kind: "healed", message: healed[1] },
        ],
      ],
    ]);
  });
});

describe("nodeEventsText", () => {
  function fleetWith(...names: string[]) {
    const desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
    const fleet = testFleet(() => desired, { now: () => NOW - 100_000 });
    const link: ReporterLink = { send: () => {}, close: () => {} };
    for (const name of names) fleet.connect(helloFor(name), link);
    return fleet;
  }

  it("keeps each node's newest MAX_KEPT_EVENTS, in order, and reads back as written", () => {
    const fleet = fleetWith("node-a", "node-b");
    const a = fleet.nodes.get("node-a")!;
    for (let i = 0; i < 30; i++) addEvent(a, "status", `event ${i}`, NOW - 100 + i);
    const r = parseNodeEvents(nodeEventsText(fleet.nodes.values()), NOW);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.get("node-a")).toEqual(a.events.list().slice(-MAX_KEPT_EVENTS));
    expect(r.value.get("node-a")!.at(-1)?.message).toBe("event 29");
    expect(r.value.get("node-b")).toEqual(fleet.nodes.get("node-b")!.events.list());
  });

  it("keeps at most MAX_KEPT_ROUTINE routine events, so restarts do not push drifts out", () => {
    const fleet = fleetWith("node-a");
    const a = fleet.nodes.get("node-a")!;
    for (let i = 0; i < 3; i++) addEvent(a, "drift", `drift ${i}`, NOW - 100 + i);
    // Three restarts' worth of routine entries, newer than the drifts.
    const routine = ["restored", "connected", "desired-sent", "applied", "responding"];
    for (let r = 0; r < 3; r++)
      for (const [i, kind] of routine.entries())
        addEvent(a, kind, `${kind} ${r}`, NOW - 50 + r * 10 + i);
    const r = parseNodeEvents(nodeEventsText(fleet.nodes.values()), NOW);
    if (!r.ok) throw new Error(r.error);
    expect(r.value.get("node-a")!.map((e) => e.message)).toEqual([
      // The connect's own status event, then the drifts, then the newest routine ones.
      ...a.events
        .list()
        .filter((e) => e.kind === "status")
        .map((e) => e.message),
      "drift 0",
      "drift 1",
      "drift 2",
      "connected 2",
      "desired-sent 2",
      "applied 2",
      "responding 2",
    ]);
    expect(MAX_KEPT_ROUTINE).toBe(4);
  });

  it("writes a text shared by nodes once", () => {
    const fleet = fleetWith("node-a", "node-b", "node-c");
    const text = JSON.parse(nodeEventsText(fleet.nodes.values())) as {
      texts: unknown[];
      nodes: { events: unknown[] }[];
    };
    // Each node's connect (connected, desired-sent, status) has the same kinds and texts.
    expect(text.nodes.map((n) => n.events.length)).toEqual([3, 3, 3]);
    expect(text.texts).toHaveLength(3);
  });

  it("cuts a message over the bound, so that what it writes is read back", () => {
    const fleet = fleetWith("node-a");
    addEvent(fleet.nodes.get("node-a")!, "drift", "y".repeat(5_000), NOW);
    const r = parseNodeEvents(nodeEventsText(fleet.nodes.values()), NOW);
    if (!r.ok) throw new Error(r.error);
    const last = r.value.get("node-a")!.at(-1)!;
    expect(last.message).toHaveLength(MAX_KEPT_MESSAGE_CHARS);
    expect(last.message.endsWith("…")).toBe(true);
  });

  it("never cuts a character in two (a rule's comment may hold any text)", () => {
    const fleet = fleetWith("node-a");
    // The bound falls between the two halves of the last emoji kept whole by a plain slice.
    const message = `${"y".repeat(MAX_KEPT_MESSAGE_CHARS - 2)}🚀🚀`;
    addEvent(fleet.nodes.get("node-a")!, "drift", message, NOW);
    const r = parseNodeEvents(nodeEventsText(fleet.nodes.values()), NOW);
    if (!r.ok) throw new Error(r.error);
    const last = r.value.get("node-a")!.at(-1)!;
    expect(last.message).toBe(`${"y".repeat(MAX_KEPT_MESSAGE_CHARS - 2)}…`);
    // No lone surrogate: a well-formed string survives a UTF-8 round trip unchanged.
    expect(Buffer.from(last.message, "utf8").toString("utf8")).toBe(last.message);
  });

  it("leaves out a node never heard from", () => {
    const fleet = fleetWith();
    const entry: RosterEntry = (() => {
      const { type: _t, v: _v, ...hello } = helloFor("known");
      return { hello, lastSeenAt: 1, appliedRevision: 1, status: "in-sync", summary: "in sync" };
    })();
    fleet.restore([entry], NOW);
    fleet.nodes.get("known")!.lastSeenAt = null;
    expect(JSON.parse(nodeEventsText(fleet.nodes.values())).nodes).toEqual([]);
  });
});

describe("nodeEventsKeeper on the data dir", () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  async function keeperIn(text: string | null, nodes: () => NodeRecord[] = () => []) {
    dir = await mkdtemp(join(tmpdir(), "node-events-"));
    if (text !== null) await writeFile(join(dir, NODE_EVENTS_FILE), text);
    const clock = { now: 0 };
    const writes: string[] = [];
    const real = nodeEventsFile(dir, atomicWrite);
    const counted = {
      ...real,
      write: (t: string) => {
        writes.push(t);
        return real.write(t);
      },
    };
    const k = nodeEventsKeeper({ file: counted, nodes, log: silentLogger(), now: () => clock.now });
    return { k, clock, dir, writes };
  }

  const refusals: { desc: string; input: string; want: RegExp }[] = [
    { desc: "not JSON", input: "{", want: /node-events\.json is not JSON/ },
    {
      desc: "an event after the clock",
      input: file([drift], [{ node: "a", events: [[Date.now() + 3_600_000, 0]] }]),
      want: /nodes\.0\.events\.0: \d+ is after this dashboard's clock/,
    },
  ];
  it.each(refusals)(
    "moves a bad file aside, never deleting it, and says so: $desc",
    async ({ input, want }) => {
      const { k, dir } = await keeperIn(input);
      expect(await k.load()).toEqual(new Map());
      expect(k.problems()).toEqual([
        expect.stringMatching(
          new RegExp(
            `the nodes' kept events \\S+ could not be read \\(.*${want.source}.*moved aside to \\S+\\.bad-\\d+\\): the timelines of nodes known before this start begin at this start`,
          ),
        ),
      ]);
      const names = await readdir(dir);
      expect(names).not.toContain(NODE_EVENTS_FILE);
      const aside = names.find((n) => n.startsWith(`${NODE_EVENTS_FILE}.bad-`));
      expect(aside && (await readFile(join(dir, aside), "utf8"))).toBe(input);
    },
  );

  it("refuses a file that is no regular file (a FIFO) unopened: the start goes on", async () => {
    dir = await mkdtemp(join(tmpdir(), "node-events-"));
    execFileSync("mkfifo", [join(dir, NODE_EVENTS_FILE)]);
    const k = nodeEventsKeeper({
      file: nodeEventsFile(dir, atomicWrite),
      nodes: () => [],
      log: silentLogger(),
    });
    expect(await k.load()).toEqual(new Map());
    expect(k.problems()).toEqual([expect.stringMatching(/not a regular file.*moved aside/)]);
  });

  it("writes at most once per NODE_EVENTS_WRITE_EVERY_MS, and at a clean stop", async () => {
    const nodes: NodeRecord[] = [];
    const { k, clock, dir, writes } = await keeperIn(null, () => nodes);
    expect(await k.load()).toEqual(new Map());
    const fleet = testFleet(
      () => ({ revision: 1, resourceVersion: "1", config: defaultConfig() }),
      { now: () => NOW - 100_000 },
    );
    fleet.connect(helloFor("node-a"), { send: () => {}, close: () => {} });
    nodes.push(fleet.nodes.get("node-a")!);
    const read = async () =>
      parseNodeEvents(await readFile(join(dir, NODE_EVENTS_FILE), "utf8"), NOW);
    k.tick();
    await k.flush(); // waits for the tick's write; writes nothing more: the text is the same
    const first = await read();
    expect(first.ok && first.value.get("node-a")?.map((e) => e.kind)).toEqual(
      nodes[0]!.events.list().map((e) => e.kind),
    );
    addEvent(nodes[0]!, "status", "in-sync → drifted: rule 1 missing", NOW - 50_000);
    k.changed();
    clock.now += NODE_EVENTS_WRITE_EVERY_MS - 1;
    k.tick();
    expect(writes).toHaveLength(1); // throttled
    clock.now += 1;
    k.tick();
    expect(writes).toHaveLength(2);
    // A clean stop right after: written, past the throttle.
    addEvent(nodes[0]!, "status", "drifted → in-sync: healed", NOW - 40_000);
    await k.flush();
    expect(writes).toHaveLength(3);
    const last = await read();
    expect(
      last.ok &&
        last.value
          .get("node-a")
          ?.slice(-2)
          .map((e) => e.message),
    ).toEqual(["in-sync → drifted: rule 1 missing", "drifted → in-sync: healed"]);
  });
});
