// `ipmasq run` options of the link to the dashboard: how fast a silent dashboard is given up
// (link-liveness.ts, link-hedge.ts) and the CA bundle that signs a `wss://` proxy's certificate.
// Pure but for reading the CA file, so the chart's env contract is unit-tested.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { rootCertificates } from "node:tls";
import { parseGoDuration } from "@masq/shared";
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_LIVENESS, LIVENESS_CHECK_MS, type LivenessPolicy } from "../link-liveness.js";

/** "10s", "1m30s" or plain milliseconds ("500"). */
export function parseInterval(text: string, what: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text);
  const d = parseGoDuration(text.trim());
  if (!d.ok) throw new InvalidArgumentError(`${what}: ${d.message}`);
  return d.ms;
}

export interface LinkCliOptions {
  livenessPingIdle: string;
  livenessDeadAfter: string;
  livenessHedge: string;
  dashboardCa?: string;
}

/** Bounds of the liveness timings, ms: below them checks every 0.5 s cannot keep up. */
export const LIVENESS_BOUNDS = {
  pingIdleMs: { min: LIVENESS_CHECK_MS, max: 60_000 },
  deadAfterMs: { max: 300_000 },
  /** deadAfter must exceed pingIdle by this much: a ping needs time to be answered. */
  answerMs: 2 * LIVENESS_CHECK_MS,
  hedgeMs: { min: 100, max: 60_000 },
};

const seconds = (ms: number) => `${ms / 1000}s`;

export function addLinkOptions(cmd: Command): Command {
  const opt = (flags: string, help: string, env: string) => new Option(flags, help).env(env);
  return cmd
    .addOption(
      opt(
        "--liveness-ping-idle <duration>",
        "ping the dashboard after this long without a frame from it (0.5s–60s; more: less dashboard CPU per quiet node, a lost dashboard noticed later)",
        "IPMASQ_LIVENESS_PING_IDLE",
      ).default(seconds(DEFAULT_LIVENESS.pingIdleMs)),
    )
    .addOption(
      opt(
        "--liveness-dead-after <duration>",
        "reconnect elsewhere after this long without a frame or pong (at least 1s above the ping idle time, at most 5m; less: a busy dashboard's stall is taken for a loss)",
        "IPMASQ_LIVENESS_DEAD_AFTER",
      ).default(seconds(DEFAULT_LIVENESS.deadAfterMs)),
    )
    .addOption(
      opt(
        "--liveness-hedge <duration>",
        "after a silent dashboard, start another connect when one has not opened within this long (0.1s–60s, at most 3)",
        "IPMASQ_LIVENESS_HEDGE",
      ).default(seconds(DEFAULT_LIVENESS.hedgeMs)),
    )
    .addOption(
      opt(
        "--dashboard-ca <file>",
        "PEM file of CA certificates trusted for a wss:// dashboard URL, besides the public ones (a privately signed TLS proxy)",
        "IPMASQ_DASHBOARD_CA",
      ),
    );
}

/** The liveness policy from its three options; a bad or inconsistent value throws naming it. */
export function livenessFrom(o: LinkCliOptions): LivenessPolicy {
  const b = LIVENESS_BOUNDS;
  const within = (text: string, flag: string, min: number, max: number) => {
    const ms = parseInterval(text, flag);
    if (ms < min || ms > max)
      throw new InvalidArgumentError(`${flag}: ${text} is outside ${seconds(min)}–${seconds(max)}`);
    return ms;
  };
  const pingIdleMs = within(
    o.livenessPingIdle,
    "--liveness-ping-idle (IPMASQ_LIVENESS_PING_IDLE)",
    b.pingIdleMs.min,
    b.pingIdleMs.max,
  );
  const deadAfterMs = within(
    o.livenessDeadAfter,
    "--liveness-dead-after (IPMASQ_LIVENESS_DEAD_AFTER)",
    0,
    b.deadAfterMs.max,
  );
  if (deadAfterMs < pingIdleMs + b.answerMs)
    throw new InvalidArgumentError(
      `--liveness-dead-after (IPMASQ_LIVENESS_DEAD_AFTER) ${o.livenessDeadAfter} must exceed --liveness-ping-idle ${o.livenessPingIdle} by at least ${seconds(b.answerMs)}, the time a ping needs to be answered`,
    );
  const hedgeMs = within(
    o.livenessHedge,
    "--liveness-hedge (IPMASQ_LIVENESS_HEDGE)",
    b.hedgeMs.min,
    b.hedgeMs.max,
  );
  return { pingIdleMs, deadAfterMs, hedgeMs };
}

/**
 * The CA certificates a `wss://` connect trusts: Node's public roots plus every certificate of
 * the PEM file (passing `ca` alone would replace the public roots). Throws naming the file when
 * it cannot be read or holds no valid certificate.
 */
export function dashboardCaFrom(file: string): string[] {
  const what = `--dashboard-ca (IPMASQ_DASHBOARD_CA) ${file}`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new InvalidArgumentError(`${what}: ${(e as Error).message}`);
  }
  const pems = text.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0)
    throw new InvalidArgumentError(`${what}: no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  pems.forEach((pem, i) => {
    try {
      new X509Certificate(pem);
    } catch (e) {
      throw new InvalidArgumentError(`${what}: certificate ${i + 1}: ${(e as Error).message}`);
    }
  });
  return [...rootCertificates, ...pems];
}
