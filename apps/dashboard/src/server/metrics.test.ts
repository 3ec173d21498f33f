import { describe, expect, it } from "vitest";
import { createMetrics } from "./metrics.js";

/** `ipmasq_snapshot_digests_total` by result, as /metrics says. */
async function digestSeries(m: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const text = await m.registry.metrics();
  const out: Record<string, number> = {};
  for (const x of text.matchAll(/^ipmasq_snapshot_digests_total\{result="(\w+)"\} (\d+)$/gm))
    out[x[1]!] = Number(x[2]);
  return out;
}

describe("counts by label, published at each scrape", () => {
  const cases: { desc: string; input: string[][]; want: Record<string, number>[] }[] = [
    { desc: "nothing counted: no series", input: [[]], want: [{}] },
    {
      desc: "each label its own count",
      input: [["known", "known", "unknown", "known", "whole"]],
      want: [{ known: 3, unknown: 1, whole: 1 }],
    },
    {
      desc: "scrapes in between neither lose nor count twice",
      input: [["known"], [], ["known", "refused"]],
      want: [{ known: 1 }, { known: 1 }, { known: 2, refused: 1 }],
    },
  ];
  for (const c of cases)
    it(c.desc, async () => {
      const m = createMetrics({ defaultMetrics: false });
      const got = [];
      for (const batch of c.input) {
        for (const label of batch) m.snapshotDigests.inc(label);
        got.push(await digestSeries(m));
      }
      expect(got).toEqual(c.want);
    });
});
