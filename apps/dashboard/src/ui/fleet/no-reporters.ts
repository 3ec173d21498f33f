// The commands the empty fleet page gives for a first standalone node: its own token (derived
// from the dashboard's reporter secret, which a reporter does not hold) and the reporter itself.
import { type FleetSummary, shellWord } from "@masq/shared";
import { relativeTime } from "../components/time";

/** `host` as the browser has it, one shell word (an IPv6 host's brackets are a glob). */
export function firstNodeCommands(scheme: "ws" | "wss", host: string): string[] {
  const url = shellWord(`${scheme}://${host}/api/reporter`);
  return [
    "ipmasq token --node NODE_NAME --secret-file DATA_DIR/reporter-token --out NODE_NAME.token",
    `ipmasq run --dashboard ${url} --node NODE_NAME --token-file NODE_NAME.token`,
  ];
}

/**
 * How long after a dashboard start an empty fleet is taken for reporters still reconnecting:
 * they back off up to 30 s between tries (reporter link.ts DEFAULT_BACKOFF), twice that here.
 */
export const RECONNECT_WINDOW_MS = 60_000;

/** What the empty fleet page says: a fleet with no reporter yet, or one not back yet. */
export interface NoReportersText {
  title: string;
  /** Set when reporters are likely reconnecting after a restart: said before the setup steps. */
  reconnecting: string | null;
}

/**
 * The empty fleet's words. Right after this dashboard started (or while a staged rollout it
 * resumed counts nodes not back), "no reporters have connected yet" read as a new install
 * while the reporters were reconnecting. `now`: the dashboard's clock.
 */
export function noReportersText(
  summary: Pick<FleetSummary, "startedAt" | "rollout"> | null,
  now: number,
): NoReportersText {
  const startedAt = summary?.startedAt;
  const unseen = summary?.rollout?.unseen ?? 0;
  const recent = startedAt !== undefined && now - startedAt < RECONNECT_WINDOW_MS;
  if (startedAt === undefined || (!recent && unseen === 0))
    return { title: "No reporters have connected yet", reconnecting: null };
  const counted =
    unseen > 0
      ? ` The rollout in progress counts ${unseen} ${unseen === 1 ? "node" : "nodes"} that ${unseen === 1 ? "has" : "have"} not reconnected.`
      : "";
  return {
    title: "No reporter has connected since the dashboard started",
    reconnecting: `The dashboard started ${relativeTime(startedAt, now)}. After a restart, reporters reconnect on their own, waiting up to 30 s between tries: nodes appear here as they do.${counted} If this is a new install, start the first node as below.`,
  };
}
