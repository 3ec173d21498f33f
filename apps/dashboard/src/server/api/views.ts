// JSON shapes of docs/api.md, built from server state.
import type { ConfigState } from "../config/config-service.js";
import type { FleetState } from "../fleet/fleet-state.js";
import { actualFamilies, type NodeRecord, toSummary } from "../fleet/node.js";
import type { ApiContext } from "./context.js";

export function fleetSummary(ctx: Pick<ApiContext, "fleet" | "config">) {
  const state = ctx.config.current();
  return {
    total: ctx.fleet.nodes.size,
    byStatus: ctx.fleet.countByStatus(),
    revision: state.rev.revision,
    generation: state.desired?.generation ?? null,
    rollout: ctx.fleet.rollout.view(),
  };
}

export function configEvent(state: ConfigState) {
  return {
    revision: state.rev.revision,
    generation: state.desired?.generation ?? null,
    valid: state.result.ok,
  };
}

export function configView(state: ConfigState) {
  const r = state.result;
  return {
    config: r.ok ? r.config : (state.desired?.config ?? null),
    yaml: state.rev.text,
    revision: state.rev.revision,
    generation: state.desired?.generation ?? null,
    desiredRevision: state.desired?.revision ?? null,
    valid: r.ok,
    errors: r.ok ? [] : r.errors,
    warnings: r.warnings,
    author: state.rev.author,
    updatedAt: state.rev.updatedAt,
    message: state.rev.message,
  };
}

export function nodeDetail(n: NodeRecord) {
  const a = n.assessment;
  return {
    node: { ...toSummary(n), flags: n.hello.flags, hello: n.hello },
    desired: a?.desired ?? [],
    actual: actualFamilies(n),
    ...(n.hello.os === "windows"
      ? { windows: { desired: a?.windowsDesired ?? [], snapshot: n.snapshot?.windows ?? null } }
      : {}),
    differences: a?.report.differences ?? [],
    cosmetic: a?.report.cosmetic ?? false,
    snapshotAt: n.snapshot?.takenAt ?? null,
    lastApply: n.lastApply,
    pending: n.pending,
    events: [...n.events].reverse(),
  };
}

export function allSummaries(fleet: FleetState) {
  return [...fleet.nodes.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(toSummary);
}
