// "Resync all drifted": its label, title and whether it can do anything, from the counts the
// server computed (FleetSummary.driftedResync) of the nodes it will resync and will skip; and
// the toasts its answer gives.
import type { BulkResyncResponse, DriftedResync } from "@masq/shared";

export interface BulkResyncButton {
  label: string;
  title: string;
  disabled: boolean;
}

const drifted = (n: number) => `${n} drifted node${n === 1 ? "" : "s"}`;

/**
 * `drifted`: the drifted nodes counted by status; `counts`: the server's split (absent from a
 * server that does not send it: then every drifted node is taken as resyncable, as before).
 * Drifted nodes a resync would not change (`counts.cannotHeal`) are neither counted nor resynced:
 * the title says how many and why.
 */
export function bulkResyncButton(
  driftedCount: number,
  counts: DriftedResync | undefined,
  canEdit: boolean,
): BulkResyncButton {
  const resyncable = counts ? counts.resyncable : driftedCount;
  const skipped = counts?.skipped ?? [];
  const cannotHeal = counts?.cannotHeal ?? [];
  const left = sum(skipped) + sum(cannotHeal);
  const label =
    left > 0
      ? `Resync all drifted (${resyncable} of ${resyncable + left})`
      : `Resync all drifted${resyncable > 0 ? ` (${resyncable})` : ""}`;
  const title = canEdit ? titleOf(resyncable, skipped, cannotHeal) : "Only editors can resync";
  return { label, title, disabled: !canEdit || resyncable === 0 };
}

type Counted = DriftedResync["skipped"];

const sum = (c: Counted) => c.reduce((n, s) => n + s.count, 0);

/** "2 drifted nodes are skipped (reason)", each reason with its count when there are several. */
function countedClause(c: Counted, verb: { one: string; many: string }): string {
  const n = sum(c);
  if (n === 0) return "";
  const why = c.map((s) => (c.length === 1 ? s.reason : `${s.count}: ${s.reason}`)).join("; ");
  return `${drifted(n)} ${n === 1 ? verb.one : verb.many} (${why})`;
}

function titleOf(resyncable: number, skipped: Counted, cannotHeal: Counted): string {
  if (resyncable === 0 && sum(skipped) === 0 && sum(cannotHeal) === 0) return "No node is drifted";
  const clauses = [
    countedClause(skipped, { one: "is skipped", many: "are skipped" }),
    countedClause(cannotHeal, {
      one: "is left alone: a resync would not change it",
      many: "are left alone: a resync would not change them",
    }),
  ].filter((c) => c !== "");
  const rest = clauses.join("; ");
  if (resyncable === 0) return `Nothing to resync: ${rest}`;
  return `Re-apply the desired rules on ${drifted(resyncable)}${rest ? `; ${rest}` : ""}`;
}

/** The toasts a bulk resync's answer gives: resynced (some via the replicas holding them), skipped. */
export function bulkResyncToasts(r: BulkResyncResponse): ["success" | "error", string][] {
  const skipped = r.skipped ?? [];
  const plural = (n: number) => `${n} node${n === 1 ? "" : "s"}`;
  const via = r.requested?.length ?? 0;
  const wait = r.requestBacklog;
  // Requests for nodes held elsewhere are written at a bounded rate: say when the last goes.
  const later =
    wait && wait.waiting > 0
      ? `; ${wait.waiting} wait, all sent within ${wait.drainSeconds} s`
      : "";
  const out: ["success" | "error", string][] = [];
  if (r.nodes.length > 0)
    out.push([
      "success",
      `Resync requested for ${plural(r.nodes.length)}${via > 0 ? ` (${via} via the replicas holding them${later})` : ""}`,
    ]);
  if (skipped.length > 0)
    out.push([
      "error",
      `${plural(skipped.length)} not resynced: ${skipped
        .slice(0, 2)
        .map((s) => `${s.name} (${s.reason})`)
        .join("; ")}${skipped.length > 2 ? "…" : ""}`,
    ]);
  if (r.nodes.length === 0 && skipped.length === 0)
    out.push(["success", "No drifted nodes to resync"]);
  return out;
}
