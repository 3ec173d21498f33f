import {
  DEFAULT_FLAGS,
  decodeDashboardMessage,
  defaultConfig,
  desiredChain,
  type FamilySnapshot,
  type Hello,
  jumpRuleLine,
  snapshotOf,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { describe, expect, it } from "vitest";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { FleetState, type ReporterLink } from "./fleet-state.js";

function hello(node: string, mode: "enforce" | "observe" = "enforce"): Hello {
  return helloFor(node, { mode });
}

function link(): ReporterLink & { frames: string[]; closed?: string } {
  const l = {
    frames: [] as string[],
    closed: undefined as string | undefined,
    send: (f: string) => l.frames.push(f),
    close: (_c: number, r: string) => (l.closed = r),
  };
  return l;
}

function setup() {
  let now = 1000;
  const desired = { generation: 1, revision: "1", config: defaultConfig() };
  const fleet = new FleetState({
    desired: () => desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    now: () => now,
  });
  return { fleet, desired, advance: (ms: number) => (now += ms) };
}

const types = (l: { frames: string[] }) =>
  l.frames.map((f) => (decodeDashboardMessage(f) as { ok: true; msg: { type: string } }).msg.type);

describe("FleetState", () => {
  it("welcomes, sends desired only to enforce nodes, and tracks the rollout", () => {
    const { fleet, desired } = setup();
    const a = link();
    const o = link();
    fleet.connect(hello("a"), a);
    fleet.connect(hello("o", "observe"), o);
    expect(types(a)).toEqual(["welcome", "desired"]);
    expect(types(o)).toEqual(["welcome"]);
    fleet.desiredChanged({ ...desired, generation: 2 });
    expect(types(a)).toEqual(["welcome", "desired", "desired"]);
    expect(fleet.rollout.view()).toMatchObject({ generation: 2, total: 1, pending: 1 });
    expect(fleet.nodes.get("a")!.status).toBe("applying");
    fleet.applyResult("a", {
      type: "apply-result",
      v: 2,
      generation: 2,
      ok: true,
      durationMs: 3,
      trigger: "desired",
      changed: false,
    });
    expect(fleet.rollout.view()).toMatchObject({ done: 1, pending: 0 });
    expect(fleet.nodes.get("a")!.appliedGeneration).toBe(2);
  });

  it("times out unacknowledged applies and fails disconnected rollout targets", () => {
    const { fleet, desired, advance } = setup();
    const a = link();
    const b = link();
    fleet.connect(hello("a"), a);
    fleet.connect(hello("b"), b);
    fleet.desiredChanged({ ...desired, generation: 2 });
    fleet.disconnect("b", b, "gone");
    expect(fleet.nodes.get("b")!.status).toBe("offline");
    advance(6000);
    fleet.sweep();
    expect(fleet.nodes.get("a")!.status).toBe("error");
    expect(fleet.nodes.get("a")!.summary).toMatch(/no apply-result within 5 s/);
    expect(fleet.rollout.view()).toMatchObject({ failed: 2, pending: 0 });
  });

  it("ignores the close of a connection that a newer one replaced", () => {
    const { fleet } = setup();
    const old = link();
    const fresh = link();
    fleet.connect(hello("a"), old);
    fleet.connect(hello("a"), fresh);
    expect(old.closed).toMatch(/replaced/);
    fleet.disconnect("a", old, "closed");
    expect(fleet.nodes.get("a")!.connected).toBe(true);
    expect(fleet.connectedCount()).toBe(1);
  });

  it("waits for the post-apply snapshot only when it has not come before the apply-result", () => {
    const { fleet, desired } = setup();
    const cfg = desired.config;
    const d = desiredChain(cfg, DEFAULT_FLAGS, "ipv4");
    const node = {
      family: "ipv4" as const,
      chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
      postrouting: [jumpRuleLine(d.chain)],
    };
    const rules = snapshotOf(node);
    const snap = (applied: number | null, linux: FamilySnapshot[] = [rules]) => ({
      type: "snapshot" as const,
      v: 2 as const,
      seq: 0,
      takenAt: 0,
      linux,
      appliedGeneration: applied,
    });
    const ok = {
      type: "apply-result" as const,
      v: 2 as const,
      generation: 1,
      ok: true,
      durationMs: 1,
      trigger: "desired" as const,
      changed: true,
    };

    // Snapshot (with the new generation) first, then the apply-result: in sync at once.
    fleet.connect(hello("a"), link());
    fleet.snapshot("a", snap(1));
    fleet.applyResult("a", ok);
    expect(fleet.nodes.get("a")!.status).toBe("in-sync");

    // Apply-result first: the held snapshot predates the apply, so the node shows applying.
    fleet.connect(hello("b"), link());
    fleet.snapshot("b", snap(null, [snapshotOf({ ...node, chain: null })]));
    fleet.applyResult("b", ok);
    expect(fleet.nodes.get("b")!.status).toBe("applying");
    fleet.snapshot("b", snap(1));
    expect(fleet.nodes.get("b")!.status).toBe("in-sync");
  });
});
