import { describe, expect, it } from "vitest";
import { rulesSource } from "./rules-source";

describe("rulesSource", () => {
  it.each([
    {
      desc: "a live node with rules: its real rules",
      input: { liveness: "live", lastSeenAt: 5, lastReportAt: 4 },
      want: { kind: "live" },
    },
    {
      desc: "an offline node with rules: its last known ones, as of when it was last seen",
      input: { liveness: "offline", lastSeenAt: 5, lastReportAt: 4 },
      want: { kind: "last-known", at: 5 },
    },
    {
      // A new user's find: after a dashboard restart a node whose reporter had not come back
      // was offered an answer "from this node's last known rules, 30s ago", and Check then said
      // its rules were not known here (the roster keeps no rules).
      desc: "a node not heard from since the dashboard restarted: no rules known here",
      input: { liveness: "offline", lastSeenAt: 5, lastReportAt: null, notHeardSinceStart: 9 },
      want: {
        kind: "not-known",
        text: "from this node's rules, which are not known here: not heard from since the dashboard restarted, they are once its reporter reconnects and reports them",
      },
    },
    {
      desc: "a connected node before its first report: not known yet",
      input: { liveness: "live", lastSeenAt: 5, lastReportAt: null },
      want: {
        kind: "not-known",
        text: "from this node's rules once its reporter has reported them (none yet)",
      },
    },
  ] as const)("$desc", ({ input, want }) => {
    expect(rulesSource(input)).toEqual(want);
  });
});
