// break8: a reporter speaking the previous release's field names (it met a dashboard of that
// release during a rolling upgrade) that a dashboard of this release granted
// apply-result-snapshot sends the result with its snapshot nested, both in the old names.
import { describe, expect, it } from "vitest";
import { DEFAULT_FLAGS } from "./config.js";
import { toLegacyRevisionNames } from "./legacy-revision-names.js";
import { applyResultSchema, type Hello, type Snapshot } from "./protocol.js";
import { createReporterDecoder } from "./protocol-v1.js";

const hello: Hello = {
  type: "hello",
  v: 2,
  node: "node-l",
  os: "linux",
  kernel: "6.1",
  iptablesVersion: "1.8.9",
  backend: "nf_tables",
  randomFullySupported: true,
  mode: "enforce",
  flags: DEFAULT_FLAGS,
  reporterVersion: "0.1.0",
  appliedRevision: 1,
};
const snapshot: Snapshot = { type: "snapshot", v: 2, seq: 1, takenAt: 1, appliedRevision: 2 };
/** The post-apply result: revision 2 applied, its rules changed. */
const result = applyResultSchema.parse({
  ...{ type: "apply-result", v: 2, revision: 2, ok: true },
  ...{ durationMs: 1, trigger: "desired", changed: true },
});

describe("a result carrying its snapshot in the previous release's names (break8)", () => {
  it("is read as this release's, the snapshot's names too", () => {
    const decoder = createReporterDecoder();
    expect(decoder.decode(JSON.stringify(toLegacyRevisionNames(hello))).ok).toBe(true);
    const folded = { ...toLegacyRevisionNames(result), snapshot: toLegacyRevisionNames(snapshot) };
    const d = decoder.decode(JSON.stringify(folded));
    expect(d).toEqual({ ok: true, msg: { ...result, snapshot } });
  });
});
