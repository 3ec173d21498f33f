// Tests' snapshots of a node running a config's rules exactly (the agent's chain and its
// POSTROUTING jump, IPv4), as a reporter reads them after applying it.
import {
  DEFAULT_FLAGS,
  desiredChain,
  type FamilySnapshot,
  jumpRuleLine,
  type MasqConfig,
  type Snapshot,
  snapshotOf,
} from "@masq/shared";
import { silentLogger } from "../log.js";
import { ChangeFeed } from "./change-feed.js";
import { type FleetOptions, FleetState } from "./fleet-state.js";

/** The IPv4 rules `config` renders to, read back; `after`: other rules after the jump. */
export function rulesOf(config: MasqConfig, after: string[] = []): FamilySnapshot[] {
  const d = desiredChain(config, DEFAULT_FLAGS, "ipv4");
  return [
    snapshotOf({
      family: "ipv4",
      chain: [`-N ${d.chain}`, ...d.rules.map((r) => r.line)],
      postrouting: [jumpRuleLine(d.chain), ...after],
    }),
  ];
}

/** `config`'s rules with another component's MASQUERADE after the agent's jump (its drift). */
export const rulesWithForeign = (config: MasqConfig): FamilySnapshot[] =>
  rulesOf(config, ["-A POSTROUTING -d 10.0.0.0/8 -j MASQUERADE"]);

/** A snapshot of a node that applied `applied`, with `linux` rules (none: envelope only). */
export const snap = (applied: number, linux?: FamilySnapshot[]): Snapshot => ({
  type: "snapshot",
  v: 2,
  seq: applied,
  takenAt: 0,
  appliedRevision: applied,
  ...(linux ? { linux } : {}),
});

/** A successful apply-result of `revision` (`changed`: it rewrote the rules). */
export const okResult = (
  revision: number,
  trigger: "desired" | "resync" | "periodic" = "desired",
  changed = trigger === "desired",
) => ({
  type: "apply-result" as const,
  v: 2 as const,
  revision,
  ok: true,
  durationMs: 3,
  trigger,
  changed,
});

/** A real fleet for tests: a quiet log and feed, 1 s heartbeats, 5 s apply timeout. */
export function testFleet(
  desired: FleetOptions["desired"],
  more: Partial<FleetOptions> = {},
): FleetState {
  return new FleetState({
    desired,
    feed: new ChangeFeed(250, () => {}),
    log: silentLogger(),
    heartbeatMs: 1000,
    applyTimeoutMs: 5000,
    ...more,
  });
}
