import { describe, expect, it } from "vitest";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import type { NodeRecord } from "./node.js";
import { type AppliedState, appliedState, remoteAppliedState } from "./rollout-done.js";

type Local = Pick<
  NodeRecord,
  "appliedRevision" | "rulesUnknown" | "rulesWaiting" | "rulesAfterApply"
>;

describe("appliedState (revision 4)", () => {
  const cases: { desc: string; input: Local | undefined; want: AppliedState }[] = [
    { desc: "runs it, its rules judged", input: { appliedRevision: 4 }, want: "done" },
    {
      desc: "runs it, its post-apply rules by a digest not held here",
      input: { appliedRevision: 4, rulesUnknown: "rules not known yet: asked for them" },
      want: "awaiting-rules",
    },
    {
      desc: "runs it, its post-apply snapshot waiting in the intake",
      input: { appliedRevision: 4, rulesWaiting: true },
      want: "awaiting-rules",
    },
    {
      desc: "runs it, the snapshot read after its apply not come yet (no one-frame acknowledgement)",
      input: { appliedRevision: 4, rulesAfterApply: true },
      want: "awaiting-rules",
    },
    { desc: "runs the previous revision", input: { appliedRevision: 3 }, want: "not-applied" },
    { desc: "never applied", input: { appliedRevision: null }, want: "not-applied" },
    { desc: "not known here", input: undefined, want: "not-applied" },
  ];
  for (const c of cases) it(c.desc, () => expect(appliedState(c.input, 4)).toBe(c.want));
});

type Remote = Pick<NodeMasqueradeStatus, "appliedRevision" | "connected" | "health">;

describe("remoteAppliedState (revision 4)", () => {
  const cases: { desc: string; input: Remote; want: AppliedState }[] = [
    {
      desc: "its holder judged it in sync",
      input: { appliedRevision: 4, connected: true, health: "in-sync" },
      want: "done",
    },
    {
      desc: "its holder judged it drifted: applied, rules judged (the rollout calls it failed)",
      input: { appliedRevision: 4, connected: true, health: "drifted" },
      want: "done",
    },
    {
      desc: "its holder does not hold the rules' digest",
      input: { appliedRevision: 4, connected: true, health: "unknown" },
      want: "awaiting-rules",
    },
    {
      desc: "its holder waits for the post-apply read",
      input: { appliedRevision: 4, connected: true, health: "applying" },
      want: "awaiting-rules",
    },
    {
      desc: "offline: its holder's last judgement stands",
      input: { appliedRevision: 4, connected: false, health: "offline" },
      want: "done",
    },
    {
      desc: "disconnected before its post-apply rules were judged (break9)",
      input: { appliedRevision: 4, connected: false, health: "applying" },
      want: "awaiting-rules",
    },
    {
      desc: "runs the previous revision",
      input: { appliedRevision: 3, connected: true, health: "in-sync" },
      want: "not-applied",
    },
    {
      desc: "no applied revision written",
      input: { connected: true, health: "applying" },
      want: "not-applied",
    },
  ];
  for (const c of cases) it(c.desc, () => expect(remoteAppliedState(c.input, 4)).toBe(c.want));
});
