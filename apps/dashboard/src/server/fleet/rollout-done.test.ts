import type { RolloutOutcome } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import {
  type AppliedState,
  type LocalFacts,
  localOutcome,
  remoteAppliedState,
} from "./rollout-done.js";

const local = (over: Partial<LocalFacts>): LocalFacts => ({
  appliedRevision: 4,
  connected: true,
  pending: null,
  lastApply: null,
  ...over,
});
const failedApply = (revision: number) => ({
  type: "apply-result" as const,
  v: 2 as const,
  revision,
  ok: false,
  error: "iptables-restore: exit 1",
  durationMs: 3,
  trigger: "desired" as const,
  changed: false,
});

describe("localOutcome: a node held here, in the rollout of revision 4", () => {
  const cases: { desc: string; input: LocalFacts; want: RolloutOutcome }[] = [
    { desc: "runs it, its rules judged", input: local({}), want: "done" },
    {
      desc: "runs it, its post-apply rules by a digest not held here",
      input: local({ rulesUnknown: "rules not known yet: asked for them" }),
      want: "awaiting-rules",
    },
    {
      desc: "runs it, its post-apply snapshot waiting in the intake",
      input: local({ rulesWaiting: true }),
      want: "awaiting-rules",
    },
    {
      desc: "runs it, the snapshot read after its apply not come yet (no one-frame acknowledgement)",
      input: local({ rulesAfterApply: true }),
      want: "awaiting-rules",
    },
    {
      desc: "a read shows it runs it, the apply sent not answered yet (its holder writes applying)",
      input: local({ pending: { kind: "desired", revision: 4, sentAt: 0 } }),
      want: "awaiting-rules",
    },
    { desc: "runs the previous revision", input: local({ appliedRevision: 3 }), want: "pending" },
    {
      desc: "runs the previous revision, offline",
      input: local({ appliedRevision: 3, connected: false }),
      want: "offline",
    },
    {
      desc: "its apply of this revision failed",
      input: local({ appliedRevision: 3, lastApply: failedApply(4) }),
      want: "failed",
    },
    {
      desc: "its apply of the stable revision failed (held back): pending here",
      input: local({ appliedRevision: 2, lastApply: failedApply(3) }),
      want: "pending",
    },
    { desc: "never applied", input: local({ appliedRevision: null }), want: "pending" },
  ];
  for (const c of cases) it(c.desc, () => expect(localOutcome(c.input, 4)).toBe(c.want));
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
