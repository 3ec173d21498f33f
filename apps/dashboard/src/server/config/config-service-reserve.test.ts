// Where the store reserves revision numbers (Kubernetes, every replica active), a merge takes a
// number only once it is reserved: a reservation that fails holds the merge back (nodes keep
// what they have) and is tried again, never replaced by a number of the replica's own count.
import { type ConfigSource, DEFAULT_FLAGS } from "@masq/shared";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ExtraSource, SourceSet } from "../store/sources.js";
import type { ConfigRevision, ConfigStore } from "../store/types.js";
import { ConfigService } from "./config-service.js";

const PRIMARY: ConfigRevision = {
  resourceVersion: "1",
  revision: 1,
  author: "admin",
  updatedAt: "2026-01-01T00:00:00Z",
  message: "",
  text: "nonMasqueradeCIDRs: [10.0.0.0/8]\n",
};

/** A store whose reservations come from a shared mark (another replica's reserve too). */
function reservingStore(mark: { up: number; fail: boolean }): ConfigStore {
  return {
    kind: "kubernetes",
    start: async () => {},
    current: () => PRIMARY,
    history: async () => [PRIMARY],
    onChange: () => () => {},
    healthy: () => true,
    save: async () => PRIMARY,
    close: async () => {},
    reserveRevision: async (min: number) => {
      if (mark.fail) throw new Error("the API server is restarting");
      mark.up = Math.max(min, mark.up + 1);
      return mark.up;
    },
  };
}

function teamSource() {
  let extras: ExtraSource[] = [];
  let changed = () => {};
  const source: ConfigSource = { kind: "configmap", name: "ip-masq-team", key: "config" };
  const set = {
    primary: { kind: "configmap", name: "ip-masq-agent", key: "config" },
    start: async () => {},
    list: () => extras,
    onChange: (fn: () => void) => {
      changed = fn;
      return () => {};
    },
  } as unknown as SourceSet;
  const edit = (cidr: string) => {
    const text = `nonMasqueradeCIDRs: [${cidr}]\n`;
    extras = [{ source, text, resourceVersion: cidr, author: "kubectl", updatedAt: "" }];
    changed();
  };
  return { set, edit };
}

const cidrsOf = (c: ConfigService) => c.current().desired?.config.nonMasqueradeCIDRs;

/** A started service merging ip-masq-agent with one more source, numbers from `mark`. */
async function started(mark: { up: number; fail: boolean }) {
  const team = teamSource();
  team.edit("100.64.0.0/10");
  const config = new ConfigService(reservingStore(mark), DEFAULT_FLAGS, team.set);
  await config.start();
  return { team, config };
}

describe("ConfigService with reserved revision numbers", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("numbers each merge with a reserved number, above the mark another replica raised", async () => {
    const mark = { up: 0, fail: false };
    const { team, config } = await started(mark);
    expect(config.current().desired?.revision).toBe(2);
    mark.up = 7; // another replica reserved up to 7 meanwhile
    team.edit("100.65.0.0/16");
    await config.settled();
    expect(config.current().desired?.revision).toBe(8);
    expect(cidrsOf(config)).toContain("100.65.0.0/16");
    config.close();
  });

  it("holds a merge whose number cannot be reserved, and takes it once one is", async () => {
    const mark = { up: 0, fail: false };
    const { team, config } = await started(mark);
    const before = config.current();
    const told: number[] = [];
    config.onChange((s) => told.push(s.desired?.revision ?? 0));

    mark.fail = true;
    team.edit("100.65.0.0/16");
    await vi.advanceTimersByTimeAsync(5000); // retried: 1 s, 2 s
    expect(config.current()).toBe(before); // nodes keep what they have; nobody is told
    expect(told).toEqual([]);

    mark.up = 4;
    mark.fail = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(config.current().desired?.revision).toBe(5);
    expect(cidrsOf(config)).toContain("100.65.0.0/16");
    expect(told).toEqual([5]);
    config.close();
  });

  it("starts with the merge held when its number cannot be reserved, then numbers it", async () => {
    const mark = { up: 0, fail: true };
    const { config } = await started(mark);
    expect(config.current().desired).toBeNull();
    expect(config.current().merge?.held).toMatch(/could not be reserved/);
    mark.fail = false;
    await vi.advanceTimersByTimeAsync(1500);
    expect(config.current().merge?.held).toBeUndefined();
    expect(config.current().desired?.revision).toBe(2);
    config.close();
  });
});
