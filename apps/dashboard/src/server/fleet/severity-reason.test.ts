// Why a row's severity is not known, as the row says it: the reason is the node's actual one.
// A node held back by a staged rollout, offline, that never reported its rules was said to be
// "applying its desired revision"; one whose rules were never known showed 0 critical and 0
// warnings as facts, without saying they are not known.
import { describe, expect, it } from "vitest";
import type { FleetState } from "./fleet-state.js";
import { toSummary } from "./node.js";
import { okResult, rulesOf, snap } from "./post-apply.fixture.js";
import { stagedFleet, v1 } from "./staged-fleet.fixture.js";

const OFFLINE_NO_RULES =
  "the node went offline before reporting its rules: they are judged when it reconnects and reports them";
const RULES_UNKNOWN =
  "its rules came named by a digest this dashboard does not hold: they are judged when the reporter sends them whole";
const APPLYING =
  "the node is applying its desired revision: its rules are judged when it reports them";
const APPLIED_WAITING =
  "the node applied its desired revision: its rules are judged when it reports the ones it applied";

type Scene = ReturnType<typeof stagedFleet>;
const RULES_UNKNOWN_WHY = "rules not known yet: asked for them";

/** Node `name`'s rules made unknown (a digest not held here), as inbound.ts tells the fleet. */
const rulesUnknown = (fleet: FleetState, name: string) =>
  fleet.rulesUnknown(name, snap(1), RULES_UNKNOWN_WHY);

describe("the reason a row gives for not knowing its node's severity", () => {
  const cases: {
    desc: string;
    /** Acts on the last wave's node (held back by the canary wave), named `n`. */
    act: (t: Scene, n: string) => void;
    want: { status: string; reason: string | undefined };
  }[] = [
    {
      desc: "held back, offline, no rules known, its wave released: offline, no rules reported",
      act: (t, n) => {
        rulesUnknown(t.fleet, n);
        t.fleet.disconnect(n, t.links.get(n)!, "gone");
        expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
      },
      want: { status: "offline", reason: OFFLINE_NO_RULES },
    },
    {
      desc: "held back, offline, no rules known, its wave still waiting: the same, not 0 and 0",
      act: (t, n) => {
        rulesUnknown(t.fleet, n);
        t.fleet.disconnect(n, t.links.get(n)!, "gone");
      },
      want: { status: "offline", reason: OFFLINE_NO_RULES },
    },
    {
      desc: "held back, connected, its rules named by a digest not held here: that, not 0 and 0",
      act: (t, n) => rulesUnknown(t.fleet, n),
      want: { status: "unknown", reason: RULES_UNKNOWN },
    },
    {
      desc: "its wave released, connected: it is applying",
      act: (t) => expect(t.staged.promote("bob", false)).toMatchObject({ ok: true }),
      want: { status: "applying", reason: APPLYING },
    },
    {
      desc: "its wave released, applied, its post-apply rules not come yet: applied, waiting",
      act: (t, n) => {
        expect(t.staged.promote("bob", false)).toMatchObject({ ok: true });
        t.fleet.applyResult(n, okResult(2));
      },
      want: { status: "applying", reason: APPLIED_WAITING },
    },
    {
      desc: "held back, its rules known and judged: the severity is known",
      act: (t, n) => t.fleet.snapshot(n, snap(1, rulesOf(v1.config))),
      want: { status: "in-sync", reason: undefined },
    },
  ];
  for (const c of cases)
    it(c.desc, () => {
      const t = stagedFleet({
        kind: "waves",
        canary: { count: 1 },
        waves: [100],
        pause: { kind: "manual" },
      });
      const n = t.order[2]!;
      expect(t.fleet.desiredOf(n)?.revision).toBe(1); // held back by the canary wave
      c.act(t, n);
      const row = toSummary(t.fleet.nodes.get(n)!);
      expect({ status: row.status, reason: row.notKnownHere?.reason }).toEqual(c.want);
      if (c.want.reason) expect(row.notKnownHere?.fields).toEqual(["severity"]);
      t.fleet.close();
    });
});
