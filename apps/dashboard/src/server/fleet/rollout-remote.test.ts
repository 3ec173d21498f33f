import { remoteStatusFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { offlineSince, type RemoteOutcome, remoteOutcome } from "./rollout-remote.js";

const status = (o: Partial<NodeMasqueradeStatus>): NodeMasqueradeStatus => remoteStatusFor(o);

describe("remoteOutcome (revision 2)", () => {
  const cases: { desc: string; input: Partial<NodeMasqueradeStatus>; want: RemoteOutcome }[] = [
    {
      desc: "its holder says it runs it",
      input: { appliedRevision: 2 },
      want: { outcome: "applied" },
    },
    {
      desc: "applied, then drifted from it",
      input: { appliedRevision: 2, health: "drifted", message: "1 rule differs" },
      want: {
        outcome: "failed",
        failed: "drifted: 1 rule differs (held by replica dash-b)",
        pause: "n1 drifted from revision 2: 1 rule differs (held by replica dash-b)",
      },
    },
    {
      desc: "sent it, and the apply failed",
      input: { health: "error", message: "apply failed: iptables-restore: line 3 failed" },
      want: {
        outcome: "failed",
        failed: "apply failed: iptables-restore: line 3 failed (held by replica dash-b)",
        pause:
          "n1 failed to apply: apply failed: iptables-restore: line 3 failed (held by replica dash-b)",
      },
    },
    {
      desc: "an error about the previous revision (not sent this one yet): pending",
      input: { health: "error", desiredRevision: 1 },
      want: { outcome: "pending" },
    },
    { desc: "sent it, applying", input: { health: "applying" }, want: { outcome: "pending" } },
    {
      // break8: the post-apply rules went by a digest its holder did not hold (asked for them)
      desc: "applied, its rules not known yet to its holder: pending until judged",
      input: { appliedRevision: 2, health: "unknown", message: "rules not known yet" },
      want: { outcome: "pending" },
    },
    {
      desc: "applied, its holder waiting for the rules it wrote: pending until judged",
      input: { appliedRevision: 2, health: "applying", message: "applied; waiting" },
      want: { outcome: "pending" },
    },
    {
      desc: "offline before applying: pending, never counted unseen",
      input: { connected: false, health: "offline", desiredRevision: 1 },
      want: { outcome: "pending" },
    },
    {
      desc: "switched to observe mode: applies nothing, never counted applied",
      input: { mode: "observe", appliedRevision: 2 },
      want: { outcome: "pending" },
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(remoteOutcome("n1", status(input), 2)).toEqual(want);
  });
});

describe("offlineSince", () => {
  const cond = (s: "True" | "False", at: string) => ({
    type: "Connected",
    status: s,
    reason: "",
    message: "",
    lastTransitionTime: at,
  });
  const cases: { desc: string; input: Partial<NodeMasqueradeStatus>; want: number | undefined }[] =
    [
      {
        desc: "disconnected: when the Connected condition turned False",
        input: { connected: false, conditions: [cond("False", "2026-01-01T00:00:05Z")] },
        want: Date.parse("2026-01-01T00:00:05Z"),
      },
      {
        desc: "connected: not offline",
        input: { connected: true, conditions: [cond("True", "2026-01-01T00:00:05Z")] },
        want: undefined,
      },
      { desc: "no condition written: not known", input: { connected: false }, want: undefined },
    ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(offlineSince(status(input))).toBe(want);
  });
});
