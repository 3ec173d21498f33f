// How current a live node's answer is where its reporter polls rather than watches: iptables-
// legacy has no change events (xtables-monitor follows nf_tables only, and only when the
// reporter writes there), so a change made in a polled backend reaches the dashboard at the
// reporter's next poll. An answer from such rules says when they were reported and that a
// change since may not be in them yet; one from watched rules (nf_tables followed by
// xtables-monitor, the native nftables ruleset by `nft monitor`) claims no such delay.
import type { RulesBackend } from "./node-verdicts.js";
import type { BackendKind, IptablesBackend } from "./protocol.js";

/** The reporter's default poll (IPMASQ_POLL_INTERVAL): reporters do not report their own. */
export const DEFAULT_POLL_INTERVAL_MS = 10_000;

export interface PolledRules {
  /** The backends of the answer its reporter polls (legacy; both when it writes to legacy). */
  backends: IptablesBackend[];
  /** When the rules the answer read arrived (the node's lastReportAt, dashboard clock). */
  reportedAt: number | null;
  /** The poll interval, when the reporter reports it; null: not known (DEFAULT_POLL_INTERVAL_MS
   * unless IPMASQ_POLL_INTERVAL is set). */
  intervalMs: number | null;
  /** In words, after "Answered from this node's real rules as reported N ago." (the UI). */
  note: string;
}

/**
 * The backends of an answer the reporter polls: iptables-legacy always; nf_tables too when the
 * reporter writes to legacy (it then runs no xtables-monitor). `written`: the hello's backend.
 */
export function polledBackends(
  written: BackendKind,
  backends: readonly RulesBackend[],
): IptablesBackend[] {
  return backends.filter(
    (b): b is IptablesBackend => b === "legacy" || (b === "nf_tables" && written === "legacy"),
  );
}

const LABEL: Record<IptablesBackend, string> = {
  legacy: "iptables-legacy",
  nf_tables: "iptables-nft (nf_tables)",
};

/** The delay an answer from a live node's rules may carry, or null when its rules are watched. */
export function polledRules(
  written: BackendKind,
  backends: readonly RulesBackend[],
  reportedAt: number | null,
  intervalMs: number | null = null,
): PolledRules | null {
  const polled = polledBackends(written, backends);
  if (polled.length === 0) return null;
  const where = polled.map((b) => LABEL[b]).join(" and ");
  const every =
    intervalMs === null
      ? `every ${DEFAULT_POLL_INTERVAL_MS / 1000} s unless IPMASQ_POLL_INTERVAL says otherwise (reporters do not report theirs)`
      : `every ${intervalMs / 1000} s (its poll interval)`;
  const why =
    written === "legacy"
      ? "the reporter writes to iptables-legacy and runs no change monitor"
      : "iptables-legacy has no change events";
  return {
    backends: polled,
    reportedAt,
    intervalMs,
    // "as reported N ago" is when the reporter last sent the rules (a change, a reconnect, a
    // resync asked), not its last poll: a poll that finds them the same sends nothing.
    note: `${where} ${polled.length > 1 ? "are" : "is"} polled, not watched (${why}): its reporter re-reads ${polled.length > 1 ? "them" : "it"} ${every} and sends the node's rules only when they change (that time is when it last sent them, not its last poll), so a change made there since the last poll is not in this answer yet`,
  };
}
