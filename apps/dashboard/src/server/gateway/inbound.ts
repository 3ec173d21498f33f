// What an accepted reporter connection's messages do to the fleet state, as its handshake
// granted (protocol-capabilities.ts): snapshots whose rules go by digest are judged only from
// rules held here, else the node is unknown and its rules asked for (snapshot-digests.ts); an
// apply-result carrying the snapshot read after it is taken as the two frames would be, the
// snapshot first. Anything a connection was not granted is refused (`reject`).
import {
  type ApplyResult,
  type DesiredChains,
  encodeMessage,
  PROTOCOL_VERSION,
  type ReporterMessage,
  type Snapshot,
  UNHEARD_HEALS,
} from "@masq/shared";
import type { FleetState, ReporterLink } from "../fleet/fleet-state.js";
import type { Metrics } from "../metrics.js";
import type { DigestSession, Resolved } from "./snapshot-digests.js";

/**
 * What a connection's handshake granted: its digest session, results with snapshots, and
 * `unheard-heals` (absent: not granted).
 */
export interface Granted {
  digests: DigestSession;
  fold: boolean;
  heals?: boolean;
}

export interface InboundContext {
  fleet: FleetState;
  metrics: Metrics;
  link: ReporterLink;
  granted: Granted;
  /** Refuses the connection (an `error` frame, close 1008). */
  reject: (reason: string) => void;
  /** The connection is still open (not closing after a refusal). */
  isOpen: () => boolean;
  /** Agent chains rendered here, tried for chains not held (shared desired-chains.ts). */
  desiredChains?: DesiredChains;
}

/** What a node shows while its rules are asked for. */
const UNKNOWN_DIGEST =
  "rules not known yet: the reporter named rules by a digest this dashboard does not hold; asked for them";

/** Chains named in the text at most (a node may name 256 per family). */
const MAX_NAMED = 5;

/** The node's summary while its rules are asked for; `chains`: those not held, per chain. */
function unknownText(chains: readonly string[] | undefined): string {
  if (!chains) return UNKNOWN_DIGEST;
  const named = chains.slice(0, MAX_NAMED).join(", ");
  const more = chains.length > MAX_NAMED ? ` and ${chains.length - MAX_NAMED} more` : "";
  return `rules not known yet: the reporter named chains by digests this dashboard does not hold (${named}${more}); asked for them`;
}

/** The function taking each message of an accepted connection for `name`. */
export function inboundDelivery(c: InboundContext): (name: string, msg: ReporterMessage) => void {
  const { fleet, metrics, link, granted, reject, desiredChains } = c;
  /** The agent chains node `name` should hold: its desired revision, its effective flags. */
  const rendered = (name: string) => () => {
    const hello = fleet.nodes.get(name)?.hello;
    const desired = fleet.desiredOf(name);
    if (!hello || !desired || !desiredChains) return [];
    return desiredChains.ofNode(desired, hello);
  };
  const snapshot = (name: string, msg: Snapshot) => {
    const r = granted.digests.resolve(msg, performance.now(), rendered(name));
    if (msg.linuxDigest !== undefined || msg.linuxChains !== undefined)
      metrics.snapshotDigests.inc(digestResult(msg, r));
    if (r.kind === "whole") return fleet.snapshot(name, r.msg);
    if (r.kind === "refused") return reject(r.reason);
    if (r.kind === "stale") return;
    fleet.rulesUnknown(name, r.envelope, unknownText(r.chains));
    if (r.request)
      link.send(encodeMessage({ type: "snapshot-request", v: PROTOCOL_VERSION, digest: r.digest }));
  };
  const applyResult = (name: string, msg: ApplyResult) => {
    const after = msg.snapshot;
    const result = after === undefined ? msg : resultOnly(msg);
    if (after !== undefined) {
      if (!granted.fold)
        return reject("snapshot: this connection was not granted apply-result-snapshot");
      snapshot(name, after);
      if (!c.isOpen()) return; // the snapshot was refused
    }
    fleet.applyResult(name, result);
  };
  return (name, msg) => {
    fleet.seen(name);
    if (msg.type === "snapshot") snapshot(name, msg);
    else if (msg.type === "apply-result") applyResult(name, msg);
    else if (msg.type !== "unheard-heals") return;
    else if (!granted.heals)
      reject(`unheard-heals: this connection was not granted ${UNHEARD_HEALS}`);
    else fleet.unheardHeals(name, msg);
  };
}

/** What a snapshot's digest was here, for the metric. */
function digestResult(msg: Snapshot, r: Resolved): string {
  if (r.kind !== "whole") return r.kind;
  return msg.linux ? "whole" : "known";
}

/**
 * An apply-result without the snapshot it carried (taken apart). Built field by field: object
 * rest costs ~0.2 µs per frame in V8's generic copy, a literal ~30 ns (issue 17); a test holds
 * the fields to the schema's.
 */
export function resultOnly(msg: ApplyResult): ApplyResult {
  const { type, v, revision, ok, error, durationMs, trigger, changed } = msg;
  return error === undefined
    ? { type, v, revision, ok, durationMs, trigger, changed }
    : { type, v, revision, ok, error, durationMs, trigger, changed };
}
