import type { RolloutWaveView } from "@masq/shared";
import { describe, expect, it } from "vitest";
import { waveState } from "./wave-state";

const wave = (over: Partial<RolloutWaveView>): RolloutWaveView => ({
  index: 0,
  name: "canary",
  released: true,
  total: 1,
  applied: 0,
  pending: 1,
  failed: 0,
  appliedNodes: [],
  pendingNodes: [],
  failedNodes: [],
  ...over,
});
const running = { aborted: false, step: 1, previousRevision: 1 };

describe("waveState", () => {
  const cases: {
    desc: string;
    input: [RolloutWaveView, typeof running];
    want: string;
  }[] = [
    {
      // A new user's find: after a restart "Canary 0/1 applied" beside "wave 1 applied".
      desc: "a released wave whose member has not reconnected since a restart",
      input: [wave({ unseen: 1 }), running],
      want: "0/1 applied · 1 not heard from here yet",
    },
    {
      desc: "applied and failed, every member known",
      input: [wave({ total: 3, applied: 2, failed: 1, pending: 0 }), running],
      want: "2/3 applied · 1 failed",
    },
    {
      desc: "not released",
      input: [wave({ index: 2, released: false, total: 4 }), running],
      want: "4 nodes, not released",
    },
    {
      desc: "aborted after its release",
      input: [wave({ index: 1 }), { ...running, aborted: true }],
      want: "1 node, returned to revision 1",
    },
  ];
  for (const { desc, input, want } of cases) it(desc, () => expect(waveState(...input)).toBe(want));
});
