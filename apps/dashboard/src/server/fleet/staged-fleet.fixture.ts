// Tests' fleet of three enforce-mode nodes (a, b, c) that applied revision 1, with a staged
// rollout attached, then revision 2 saved: in waves (`strategy`), or to every node at once (null).
import {
  compareNodeOrder,
  defaultConfig,
  type FamilySnapshot,
  type WavesStrategy,
} from "@masq/shared";
import { helloFor } from "@masq/testkit/fixtures";
import type { Desired } from "../config/merged-desired.js";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { FleetState, type ReporterLink } from "./fleet-state.js";
import { okResult, rulesOf, snap } from "./post-apply.fixture.js";
import type { IntakeOptions } from "./snapshot-intake.js";
import { StagedRollouts } from "./staged-rollout.js";

export const v1: Desired = { revision: 1, resourceVersion: "1", config: defaultConfig() };
export const v2: Desired = {
  revision: 2,
  resourceVersion: "2",
  config: { ...defaultConfig(), nonMasqueradeCIDRs: ["10.0.0.0/8"] },
};

export function stagedFleet(
  strategy: WavesStrategy | null,
  intake?: IntakeOptions,
  now = () => 1000,
  /** Each node's rules before the save (default: revision 1's exactly). */
  before: (name: string) => FamilySnapshot[] = () => rulesOf(v1.config),
) {
  let desired = v1;
  const log = silentLogger();
  const feed = new ChangeFeed(250, () => {});
  const fleet = new FleetState({
    ...(intake ? { intake } : {}),
    desired: () => desired,
    feed,
    log,
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    now,
  });
  const staged = new StagedRollouts({
    log,
    now,
    persistence: { loadRollout: async () => null, saveRollout: async () => {} },
    refusal: () => null,
    active: () => true,
  });
  fleet.attachStaging(staged);
  const names = ["a", "b", "c"];
  const links = new Map<string, ReporterLink>();
  for (const n of names) {
    const link: ReporterLink = { send() {}, close() {} };
    links.set(n, link);
    fleet.connect(helloFor(n, { mode: "enforce" }), link);
    fleet.snapshot(n, snap(1, before(n)));
    fleet.applyResult(n, okResult(1));
  }
  desired = v2;
  if (strategy) staged.begin(v2, v1, "text", "alice", strategy);
  fleet.desiredChanged(v2);
  return { fleet, staged, links, order: [...names].sort(compareNodeOrder) };
}
