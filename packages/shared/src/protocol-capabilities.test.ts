import { describe, expect, it } from "vitest";
import { canonicalChain } from "./chain-digest.js";
import {
  APPLY_RESULT_SNAPSHOT,
  type Capability,
  CHAIN_DIGESTS,
  DIGEST_HISTORY,
  grantCapabilities,
  parseCapabilities,
  SNAPSHOT_DIGESTS,
} from "./protocol-capabilities.js";
import { canonicalLinuxRules } from "./snapshot-digest.js";

describe("parseCapabilities", () => {
  const cases: { desc: string; input: string | string[] | undefined; want: Capability[] }[] = [
    { desc: "no header (an old peer)", input: undefined, want: [] },
    { desc: "the one capability", input: "snapshot-digests", want: [SNAPSHOT_DIGESTS] },
    { desc: "case and spaces", input: " Snapshot-Digests ,x", want: [SNAPSHOT_DIGESTS] },
    { desc: "unknown tokens only", input: "compression, v9", want: [] },
    { desc: "the header repeated", input: ["x", "snapshot-digests"], want: [SNAPSHOT_DIGESTS] },
    { desc: "a prefix is not the name", input: "snapshot-digest", want: [] },
    { desc: "an oversized header", input: `snapshot-digests,${"x".repeat(300)}`, want: [] },
    {
      desc: "the last release's offer",
      input: "chain-digests, snapshot-digests, apply-result-snapshot",
      want: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
    },
    {
      desc: "this release's offer, digest-history within the header's bound",
      input:
        "chain-digests, snapshot-digests, apply-result-snapshot, unheard-heals, digest-history",
      want: [
        CHAIN_DIGESTS,
        SNAPSHOT_DIGESTS,
        APPLY_RESULT_SNAPSHOT,
        "unheard-heals",
        DIGEST_HISTORY,
      ],
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect([...parseCapabilities(input)]).toEqual(want);
  });
});

describe("grantCapabilities", () => {
  const cases: {
    desc: string;
    input: { offered: Capability[]; supported: Capability[] };
    want: string | undefined;
  }[] = [
    {
      desc: "offered and supported",
      input: { offered: [SNAPSHOT_DIGESTS], supported: [SNAPSHOT_DIGESTS] },
      want: SNAPSHOT_DIGESTS,
    },
    {
      desc: "not offered (an old reporter)",
      input: { offered: [], supported: [SNAPSHOT_DIGESTS] },
      want: undefined,
    },
    {
      desc: "not supported",
      input: { offered: [SNAPSHOT_DIGESTS], supported: [] },
      want: undefined,
    },
    {
      desc: "both digest formats offered: per chain alone",
      input: {
        offered: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
        supported: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
      },
      want: `${CHAIN_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}`,
    },
    {
      desc: "a reporter of the last release (whole-part digests only)",
      input: {
        offered: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
        supported: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
      },
      want: `${SNAPSHOT_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}`,
    },
    {
      desc: "a dashboard allowing only whole-part digests (or of the last release)",
      input: {
        offered: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
        supported: [SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
      },
      want: `${SNAPSHOT_DIGESTS}, ${APPLY_RESULT_SNAPSHOT}`,
    },
    {
      desc: "digest-history beside a digest format",
      input: {
        offered: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, DIGEST_HISTORY],
        supported: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, DIGEST_HISTORY],
      },
      want: `${CHAIN_DIGESTS}, ${DIGEST_HISTORY}`,
    },
    {
      desc: "digest-history to a dashboard that does not know it (an earlier release)",
      input: {
        offered: [CHAIN_DIGESTS, DIGEST_HISTORY],
        supported: [CHAIN_DIGESTS, SNAPSHOT_DIGESTS, APPLY_RESULT_SNAPSHOT],
      },
      want: CHAIN_DIGESTS,
    },
    {
      desc: "per chain offered alone",
      input: { offered: [CHAIN_DIGESTS], supported: [SNAPSHOT_DIGESTS, CHAIN_DIGESTS] },
      want: CHAIN_DIGESTS,
    },
  ];
  it.each(cases)("$desc", ({ input, want }) => {
    expect(grantCapabilities(new Set(input.offered), input.supported)).toBe(want);
  });
});

describe("the snapshot-digests capability names its canonical format", () => {
  it("format 1 is granted as snapshot-digests: change both or neither", () => {
    expect(canonicalLinuxRules([]).split("\n")[0]).toBe("masq-linux-rules/1");
    expect(SNAPSHOT_DIGESTS).toBe("snapshot-digests");
  });
});

describe("the chain-digests capability names its canonical chain format", () => {
  it("format 1 is granted as chain-digests: change both or neither", () => {
    expect(canonicalChain({ name: "X", lines: null }).split("\n")[0]).toBe("masq-chain-rules/1");
    expect(CHAIN_DIGESTS).toBe("chain-digests");
  });
});
