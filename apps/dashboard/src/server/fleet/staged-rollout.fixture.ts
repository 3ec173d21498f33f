// The fleet, links and revisions the StagedRollouts tests share (staged-rollout*.test.ts).
import {
  compareNodeOrder,
  decodeDashboardMessage,
  defaultConfig,
  type WavesStrategy,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import { until } from "@masq/testkit/wait";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import { ChangeFeed } from "./change-feed.js";
import type { FleetState, ReporterLink } from "./fleet-state.js";
import { rulesOf, snap, testFleet } from "./post-apply.fixture.js";
import { type StagedOptions, StagedRollouts, type StagingFleet } from "./staged-rollout.js";

export type Link = ReporterLink & { frames: string[] };
export function link(): Link {
  const l = { frames: [] as string[], send: (f: string) => l.frames.push(String(f)), close() {} };
  return l;
}

/** Revisions of the desired frames a link got, in order. */
export const sent = (l: Link) =>
  l.frames.flatMap((f) => {
    const d = decodeDashboardMessage(f);
    return d.ok && d.msg.type === "desired" ? [d.msg.revision] : [];
  });

export const WAVES: WavesStrategy = {
  kind: "waves",
  canary: { count: 1 },
  waves: [100],
  pause: { kind: "manual" },
};
export const v1: Desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
export const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};

export function setup(
  names = ["a", "b", "c"],
  observe: string[] = [],
  refusal: { reason: string | null; saveError?: string; active?: boolean } = { reason: null },
  extra: Partial<StagedOptions> = {},
) {
  const restarted: [string[], string][] = [];
  let now = 1000;
  let desired = v1;
  const saved: unknown[] = [];
  // Nodes whose row the browsers are to be sent again.
  const told = new Set<string>();
  const feed = new ChangeFeed(250, () => {});
  feed.node = (name: string) => void told.add(name);
  const fleet = testFleet(() => desired, { feed, now: () => now });
  const staged = new StagedRollouts({
    log: silentLogger(),
    now: () => now,
    persistence: {
      loadRollout: async () => saved.at(-1) ?? null,
      saveRollout: async (s) => {
        if (refusal.saveError) throw new Error(refusal.saveError);
        saved.push(s);
      },
    },
    restartUpstream: (n, why) => void restarted.push([[...n], why]),
    refusal: () => refusal.reason,
    active: () => refusal.active ?? true,
    ...extra,
  });
  fleet.attachStaging(staged);
  const links = new Map(names.map((n) => [n, link()]));
  for (const [n, l] of links) {
    fleet.connect(helloFor(n, { mode: "enforce" }), l);
    applied(fleet, n, 1);
  }
  for (const n of observe) fleet.connect(helloFor(n, { mode: "observe" }), link());
  const order = [...names].sort(compareNodeOrder);
  return {
    restarted,
    feed,
    fleet,
    staged,
    links,
    saved,
    canary: order[0]!,
    rest: order.slice(1),
    advance: (ms: number) => (now += ms),
    now: () => now,
    /** The store's desired revision. */
    current: () => desired,
    /** Names told since the last call, sorted. */
    told: () => {
      const out = [...told].sort();
      told.clear();
      return out;
    },
    /** A new revision: `strategy` the default, `announced` the one saved with it. */
    save(
      d: Desired,
      strategy: WavesStrategy | { kind: "all-at-once" } = WAVES,
      announced?: WavesStrategy,
    ) {
      const prev = desired;
      desired = d;
      staged.begin(d, prev, "text", "alice", strategy, announced);
      fleet.desiredChanged(d);
    },
  };
}

/**
 * Nodes other replicas hold; `statuses`: their NodeMasquerade status (none: not written yet);
 * `behind`: the replicas whose reconnects are not known to be written (replica Leases).
 */
export function remote(
  names: string[],
  statuses = new Map<string, NodeMasqueradeStatus>(),
  behind: (since: number) => string[] = () => [],
) {
  return {
    list: () => names.map((name) => ({ name, mode: "enforce" as const })),
    status: (name: string) => statuses.get(name),
    unreportedSince: behind,
  };
}

/**
 * An apply as a reporter of this release sends it: the snapshot read after it folded into the
 * apply-result (taken first, gateway/inbound.ts), then the result. Without that snapshot the
 * node is applied, waiting for its rules (rollout-done.ts), not done.
 */
export function applied(fleet: FleetState, name: string, revision: 1 | 2 | 3): void {
  const config = { 1: v1, 2: v2, 3: v3 }[revision].config;
  fleet.snapshot(name, snap(revision, rulesOf(config)));
  fleet.applyResult(name, apply(revision));
}

export const apply = (revision: number, ok = true, error?: string) => ({
  type: "apply-result" as const,
  v: 2 as const,
  revision,
  ok,
  error,
  durationMs: 3,
  trigger: "desired" as const,
  changed: true,
});

export const v3: Desired = {
  revision: 3,
  resourceVersion: "3",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8", "192.0.2.0/24"] },
};

/** Both replicas restored and saving v2; the follower has read the owner's persisted state. */
export async function savedAndFollowed(
  owner: ReturnType<typeof setup>,
  follower: ReturnType<typeof setup>,
  find: (resourceVersion: string) => Promise<Desired | null>,
): Promise<void> {
  await owner.staged.restore(owner.current, find);
  await follower.staged.restore(follower.current, find);
  owner.save(v2);
  follower.save(v2);
  await owner.staged.flush();
  follower.staged.follow(owner.saved.at(-1));
  await until(() => follower.staged.view() !== null, 2000, 10, "followed");
}

/** The fleet side a StagedRollouts is attached to: `nodes`, pushes recorded in `pushed`. */
export function fleetHooks(nodes: StagingFleet["nodes"], pushed?: string[]): StagingFleet {
  return {
    nodes,
    pushTo: (names) => void pushed?.push(...names),
    revert() {},
    noteEvent() {},
    rolloutChanged() {},
  };
}

/** A StagedRollouts started anew on what `t` persisted, attached to the same fleet. */
export async function restartedFrom(
  t: ReturnType<typeof setup>,
  current: () => Desired | null,
  find: (resourceVersion: string) => Promise<Desired | null>,
): Promise<StagedRollouts> {
  const again = new StagedRollouts({
    log: silentLogger(),
    persistence: { loadRollout: async () => t.saved.at(-1)!, saveRollout: async () => {} },
  });
  await again.restore(current, find);
  again.attach(fleetHooks(t.fleet.nodes));
  return again;
}

/**
 * A replica not holding the Lease (`ctl.active` false: set it to take the Lease over), restored
 * on v1 where the holder persisted carol's rollout of v2 (its canary progressing). `toV2` makes
 * v2 this replica's current revision too.
 */
export async function notHolding(extra: Partial<StagedOptions> = {}) {
  const leader = setup();
  leader.staged.begin(v2, v1, "text", "carol", WAVES);
  await leader.staged.flush();
  const ctl = { reason: null, active: false };
  const t = setup(["a", "b", "c"], [], ctl, extra);
  t.saved.push(leader.saved.at(-1)); // the holder's last state
  let current = v1;
  await t.staged.restore(
    () => current,
    async (r) => (r === "1" ? v1 : null),
  );
  const toV2 = () => {
    current = v2;
    t.save(v2);
  };
  return { t, ctl, toV2 };
}
