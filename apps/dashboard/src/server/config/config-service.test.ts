// The merge held after an abort (heldMerge): a source change must not publish a merge of the
// aborted primary text while every node runs the stable revision; a primary save ends the hold.
import { type ConfigSource, DEFAULT_FLAGS, defaultConfig } from "@masq/shared";
import { describe, expect, it } from "vitest";
import type { ExtraSource, SourceSet } from "../store/sources.js";
import type { ConfigRevision, ConfigStore } from "../store/types.js";
import { ConfigService } from "./config-service.js";
import type { Desired } from "./merged-desired.js";

const rev = (revision: number, text: string): ConfigRevision => ({
  resourceVersion: String(revision),
  revision,
  author: "admin",
  updatedAt: "2026-01-01T00:00:00Z",
  message: "",
  text,
});

function fakes(first: ConfigRevision) {
  let current = first;
  const history = [first];
  let onRev: (r: ConfigRevision) => void = () => {};
  let onSources: () => void = () => {};
  let extras: ExtraSource[] = [];
  const store = {
    kind: "file",
    start: async () => {},
    current: () => current,
    history: async () => history,
    onChange: (fn: (r: ConfigRevision) => void) => {
      onRev = fn;
      return () => {};
    },
    healthy: () => true,
  } as unknown as ConfigStore;
  const primary: ConfigSource = { kind: "file", name: "config.yaml", key: "config.yaml" };
  const sources = {
    primary,
    start: async () => {},
    list: () => extras,
    onChange: (fn: () => void) => {
      onSources = fn;
      return () => {};
    },
    editable: () => true,
    status: () => ({ problems: [] }),
  } as unknown as SourceSet;
  return {
    store,
    sources,
    save(r: ConfigRevision) {
      current = r;
      history.unshift(r);
      onRev(r);
    },
    setExtra(text: string | null) {
      const source: ConfigSource = { kind: "file", name: "ip-masq-team", key: "ip-masq-team" };
      extras =
        text === null
          ? []
          : [{ source, text, resourceVersion: text, author: "file", updatedAt: "" }];
      onSources();
    },
  };
}

const cidrs = (d: Desired | null) => d?.config.nonMasqueradeCIDRs;

describe("ConfigService after an abort", () => {
  it("holds a source change's merge while the primary's save is aborted, until the primary is saved", async () => {
    const f = fakes(rev(1, "nonMasqueradeCIDRs: [10.0.0.0/8]\n"));
    const config = new ConfigService(f.store, DEFAULT_FLAGS, f.sources);
    await config.start();
    const stable = config.current().desired!;
    f.save(rev(2, "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n"));
    const aborted = config.current().desired!;
    expect(aborted.revision).toBe(2);
    config.holdAfterAbort((d) => (d.revision === aborted.revision ? stable : null));

    f.setExtra("nonMasqueradeCIDRs: [100.100.0.0/16]\n");
    const held = config.current();
    expect(held.desired).toBe(aborted); // no new revision: nothing is pushed
    expect(held.merge?.held).toMatch(/^revision 2 was aborted: every node runs revision 1/);
    expect(held.merge?.result.config.nonMasqueradeCIDRs).toContain("100.100.0.0/16");
    expect(config.sourceHistory.list()[0]).toMatchObject({ change: "added", revision: null });

    f.setExtra(null); // removed again: what was aborted is all there is, nothing held
    expect(config.current().merge?.held).toBeUndefined();
    f.setExtra("nonMasqueradeCIDRs: [100.100.0.0/16]\n");
    expect(config.current().merge?.held).toBeDefined();

    f.save(rev(3, "nonMasqueradeCIDRs: [10.0.0.0/8]\n"));
    const saved = config.current();
    expect(saved.merge?.held).toBeUndefined();
    expect(saved.desired!.revision).toBeGreaterThan(3);
    expect(cidrs(saved.desired)).toEqual(["10.0.0.0/8", "100.100.0.0/16"]);
  });

  it("merges as before when nothing was aborted", async () => {
    const f = fakes(rev(1, "nonMasqueradeCIDRs: [10.0.0.0/8]\n"));
    const config = new ConfigService(f.store, DEFAULT_FLAGS, f.sources);
    await config.start();
    config.holdAfterAbort(() => null);
    f.setExtra("nonMasqueradeCIDRs: [100.100.0.0/16]\n");
    expect(config.current().merge?.held).toBeUndefined();
    expect(cidrs(config.current().desired)).toEqual(["10.0.0.0/8", "100.100.0.0/16"]);
  });
});

// Restarted after a source changed while down (StagedRollouts.restore read the aborted rollout):
// held as while running, but never over a primary saved since (a kubectl edit, another replica).
describe("ConfigService.holdAtStart", () => {
  const abortedText = "nonMasqueradeCIDRs: [10.0.0.0/8, 198.51.100.0/24]\n";
  const stable: Desired = {
    revision: 1,
    resourceVersion: "1",
    config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
  };
  const cases: { desc: string; input: { primary: string }; want: boolean }[] = [
    { desc: "the primary is still the aborted text: held", input: { primary: "2" }, want: true },
    { desc: "the primary was saved since: not held", input: { primary: "3" }, want: false },
  ];
  it.each(cases)("$desc", async ({ input, want }) => {
    const f = fakes(rev(Number(input.primary), abortedText));
    f.setExtra("nonMasqueradeCIDRs: [100.101.0.0/16]\n");
    const config = new ConfigService(f.store, DEFAULT_FLAGS, f.sources);
    await config.start();
    const aborted: Desired = {
      revision: 3,
      resourceVersion: "2+1@r3",
      config: {
        ...defaultConfig(),
        nonMasqueradeCIDRs: ["10.0.0.0/8", "198.51.100.0/24", "100.100.0.0/16"],
      },
    };
    expect(config.holdAtStart(aborted, stable)).toBe(want);
    const state = config.current();
    expect(state.desired === aborted).toBe(want);
    expect(Boolean(state.merge?.held)).toBe(want);
  });
});
