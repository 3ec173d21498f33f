import { defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import {
  MAX_ROLLOUT_NODES,
  MAX_ROLLOUT_STATE_BYTES,
  rolloutStateBytes,
  sizeRefusalOf,
} from "./staged-size.js";

/** AWS-style node names (ip-10-1-2-3.eu-west-1.compute.internal): ~40 bytes each. */
const awsNames = (n: number) =>
  Array.from(
    { length: n },
    (_, i) => `ip-10-${(i >> 16) & 255}-${(i >> 8) & 255}-${i & 255}.eu-west-1.compute.internal`,
  );
/** Short names (node-00001), as kind or bare-metal clusters name them. */
const shortNames = (n: number) =>
  Array.from({ length: n }, (_, i) => `node-${String(i).padStart(5, "0")}`);

describe("sizeRefusalOf(rolloutStateBytes)", () => {
  const config = defaultConfig();
  const cases: { desc: string; input: string[]; want: RegExp | null }[] = [
    { desc: "5,000 AWS nodes: persisted", input: awsNames(5_000), want: null },
    { desc: "15,000 AWS nodes: fits both limits", input: awsNames(15_000), want: null },
    {
      desc: "18,000 AWS nodes: under the count, yet ~780 KiB of state",
      input: awsNames(18_000),
      want: /state over 18000 nodes would take 78\d KiB, more than the 768 KiB/,
    },
    {
      desc: "20,001 short names (~300 KiB): persisted, beyond one process's reporters",
      input: shortNames(20_001),
      want: null,
    },
    {
      desc: "65,000 short names: over the bytes",
      input: shortNames(65_000),
      want: /state over 65000 nodes would take \d+ KiB, more than the 768 KiB/,
    },
    {
      desc: "100,001 short names: more than the state's schema reads",
      input: shortNames(100_001),
      want: /fleet has 100001 nodes, more than the 100000 .* would stay on the previous revision/,
    },
    {
      desc: "19,000 nodes with 63-character names: under the count, over the bytes",
      input: Array.from(
        { length: 19_000 },
        (_, i) => `${"n".repeat(57)}-${String(i).padStart(5, "0")}`,
      ),
      want: /would take 1\d{3} KiB, more than the 768 KiB the history ConfigMap/,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    const got = sizeRefusalOf(input.length, rolloutStateBytes(input, [config, config]));
    if (want === null) expect(got).toBeNull();
    else expect(got).toMatch(want);
  });

  it("counts what JSON.stringify of the names and configs takes, plus the rest of the state", () => {
    const names = awsNames(1_000);
    const exact = Buffer.byteLength(JSON.stringify(names)) + 2 * JSON.stringify(config).length;
    const got = rolloutStateBytes(names, [config, config]);
    expect(got).toBeGreaterThanOrEqual(exact);
    expect(got - exact).toBeLessThanOrEqual(17 * 1024);
  });

  it("the limits: the count the schema reads, three quarters of a ConfigMap's 1 MiB", () => {
    expect(MAX_ROLLOUT_NODES).toBe(100_000);
    expect(MAX_ROLLOUT_STATE_BYTES).toBe(786_432);
  });
});
