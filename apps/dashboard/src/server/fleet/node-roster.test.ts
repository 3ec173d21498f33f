import { defaultConfig } from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { ReporterLink } from "./fleet-state.js";
import {
  MAX_ROSTER_BYTES,
  MAX_ROSTER_NODES,
  parseRoster,
  type RosterEntry,
  rosterOf,
  rosterText,
  toRestore,
} from "./node-roster.js";
import { testFleet } from "./post-apply.fixture.js";

const entry = (name: string, lastSeenAt = 1_000): RosterEntry => {
  const { type: _t, v: _v, ...hello } = helloFor(name);
  return { hello, lastSeenAt, appliedRevision: 3, status: "in-sync", summary: "in sync" };
};
const roster = (nodes: unknown[]) => JSON.stringify({ version: 1, nodes });

describe("parseRoster", () => {
  const good = entry("node-a");
  const cases: { desc: string; input: string; want: RegExp | null }[] = [
    { desc: "a roster written by rosterText", input: rosterText([good]), want: null },
    { desc: "no nodes", input: roster([]), want: null },
    { desc: "not JSON", input: '{"version":1,"nodes":[', want: /nodes\.json is not JSON/ },
    { desc: "not an object", input: "[]", want: /not a node roster: \(top\)/ },
    { desc: "another version", input: JSON.stringify({ version: 2, nodes: [] }), want: /version/ },
    {
      desc: "an entry without its hello",
      input: roster([{ ...good, hello: undefined }]),
      want: /nodes\.0\.hello/,
    },
    {
      desc: "a status that is none",
      input: roster([{ ...good, status: "fine" }]),
      want: /nodes\.0\.status/,
    },
    {
      desc: "a negative last seen time",
      input: roster([{ ...good, lastSeenAt: -1 }]),
      want: /nodes\.0\.lastSeenAt/,
    },
    {
      desc: "a node name that is no node name",
      input: roster([{ ...good, hello: { ...good.hello, node: "a b/../c" } }]),
      want: /nodes\.0\.hello\.node/,
    },
    {
      desc: "an unknown field (strict)",
      input: roster([{ ...good, rules: "-A POSTROUTING" }]),
      want: /nodes\.0/,
    },
    { desc: "a node listed twice", input: roster([good, good]), want: /listed twice/ },
    {
      desc: "more nodes than a roster may list",
      input: roster(Array.from({ length: MAX_ROSTER_NODES + 1 }, () => ({}))),
      want: /nodes: Too big/i,
    },
    {
      // new Date() of it is no date: restoring it threw and stopped every start (a crash loop).
      desc: "a last seen time past any date",
      input: roster([{ ...good, lastSeenAt: 9e15 }]),
      want: /nodes\.0\.lastSeenAt: 9000000000000000 is after this dashboard's clock/,
    },
    {
      // Such a node would read "last seen" in years to come and never expire.
      desc: "a last seen time after now",
      input: roster([good, { ...entry("node-b"), lastSeenAt: Date.now() + 3600_000 }]),
      want: /nodes\.1\.lastSeenAt: \d+ is after this dashboard's clock/,
    },
    {
      desc: "a last seen time just ahead (a clock stepped back a little)",
      input: roster([{ ...good, lastSeenAt: Date.now() + 60_000 }]),
      want: null,
    },
    {
      desc: "a huge file, refused before parsing",
      input: `${roster([])}${" ".repeat(MAX_ROSTER_BYTES)}`,
      want: /over 67108864 bytes/,
    },
  ];
  for (const { desc, input, want } of cases)
    it(desc, () => {
      const r = parseRoster(input);
      if (want === null) expect(r).toMatchObject({ ok: true });
      else {
        expect(r.ok).toBe(false);
        expect(r.ok ? "" : r.error).toMatch(want);
      }
    });

  it("gives back the entries written", () => {
    const r = parseRoster(rosterText([entry("b", 2), good]));
    expect(r.ok && r.entries.map((e) => e.hello.node)).toEqual(["b", "node-a"].sort());
    expect(r.ok && r.entries.find((e) => e.hello.node === "node-a")).toEqual(good);
  });
});

const link = (): ReporterLink => ({ send: () => {}, close: () => {} });

function fleetAt(clock: { now: number }) {
  const desired = { revision: 3, resourceVersion: "3", config: defaultConfig() };
  return testFleet(() => desired, { now: () => clock.now });
}

describe("rosterOf", () => {
  it("keeps connected nodes (seen time floored) and the offline ones seen last, up to the cap", () => {
    const clock = { now: 10 * 60_000 + 1_234 };
    const fleet = fleetAt(clock);
    for (const name of ["off-1", "off-2", "off-3"]) {
      const l = link();
      fleet.connect(helloFor(name), l);
      fleet.disconnect(name, l, "gone");
      clock.now += 1000;
    }
    fleet.connect(helloFor("live"), link());
    const got = rosterOf(fleet.nodes.values(), 2, 60_000);
    expect(got.map((e) => [e.hello.node, e.lastSeenAt, e.status])).toEqual([
      ["live", 10 * 60_000, "applying"],
      ["off-3", 10 * 60_000 + 3_234, "offline"],
      ["off-2", 10 * 60_000 + 2_234, "offline"],
    ]);
    expect(got[0]?.hello).not.toHaveProperty("v");
  });

  it("keeps a restored node's status from before the restart, not its 'not heard from' one", () => {
    const clock = { now: 5_000 };
    const fleet = fleetAt(clock);
    fleet.restore([entry("gone", 1_000)], 4_000);
    expect(fleet.nodes.get("gone")?.summary).toMatch(
      /not heard from since the dashboard restarted/,
    );
    expect(rosterOf(fleet.nodes.values(), 10, 60_000)).toEqual([entry("gone", 1_000)]);
  });
});

describe("toRestore", () => {
  it("restores the maxOffline nodes seen last", () => {
    const got = toRestore([entry("a", 1), entry("b", 3), entry("c", 2)], 2);
    expect(got.map((e) => e.hello.node)).toEqual(["b", "c"]);
  });
});
