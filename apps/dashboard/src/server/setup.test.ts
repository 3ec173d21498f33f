import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseEnv } from "./env.js";
import { silentLogger } from "./log.js";
import { setupFromEnv } from "./setup.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "setup-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("setupFromEnv", () => {
  const capabilities = [
    {
      desc: "unset: every known one",
      input: {},
      want: [
        "chain-digests",
        "snapshot-digests",
        "apply-result-snapshot",
        "unheard-heals",
        "digest-history",
      ],
    },
    {
      desc: "none: the previous release's wire",
      input: { IPMASQ_REPORTER_CAPABILITIES: "none" },
      want: [],
    },
    {
      desc: "a list",
      input: { IPMASQ_REPORTER_CAPABILITIES: "snapshot-digests" },
      want: ["snapshot-digests"],
    },
  ];
  it.each(capabilities)(
    "hands the gateway the granted capabilities, $desc",
    async ({ input, want }) => {
      const s = await setupFromEnv(parseEnv({ IPMASQ_DATA_DIR: dir, ...input }), silentLogger());
      expect(s.options.reporterCapabilities).toEqual(want);
    },
  );
});
