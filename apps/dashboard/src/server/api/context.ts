import type { RolloutStrategy } from "@masq/shared";
import type { Logger } from "pino";
import type { AuthGuard } from "../auth/request-auth.js";
import type { SessionStore } from "../auth/sessions.js";
import type { PeopleAuthenticator } from "../auth/types.js";
import type { ConfigService } from "../config/config-service.js";
import type { FleetState } from "../fleet/fleet-state.js";
import type { StagedRollouts } from "../fleet/staged-rollout.js";
import type { Metrics } from "../metrics.js";
import type { ReplicaSync } from "../replicas/replica-sync.js";
import type { SseHub } from "./sse.js";

/** Restarts the upstream ip-masq-agent pod on a node (observe-mode resync). */
export interface ObserveResync {
  /** Resolves to the names of the pods deleted; rejects with an HttpError when there is none. */
  restart(node: string): Promise<string[]>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
  /** What is wrong without making the replica unready, in sentences (e.g. a deleted ConfigMap). */
  problems: string[];
  /** Store and Lease state (watch, source object, history, holder). */
  detail: Record<string, unknown>;
}

/** What the route modules need from the server. */
export interface ApiContext {
  config: ConfigService;
  fleet: FleetState;
  people: PeopleAuthenticator;
  sessions: SessionStore;
  /** Per-client backoff on wrong tokens (sign-in and bearer). */
  guard: AuthGuard;
  sse: SseHub;
  metrics: Metrics;
  observeResync: ObserveResync | null;
  readiness: () => Readiness;
  /** Force the Secure cookie flag; when undefined it follows the request (TLS or X-Forwarded-Proto). */
  secureCookies: boolean | undefined;
  log: Logger;
  /** When this dashboard process started serving (ms, Date.now()): FleetSummary.startedAt. */
  startedAt: number;
  /** The staged rollout of the newest change, if it rolls out in waves. */
  staged: StagedRollouts;
  /** How a change rolls out when the save does not say. */
  rolloutStrategy: RolloutStrategy;
  /** Every replica active (Kubernetes mode): nodes held by other replicas, cross-replica resync. */
  replicas?: ReplicaSync;
  /**
   * Where the nodes known are kept across restarts (the file store's roster): a node removed
   * by hand is written out of it before the removal is answered.
   */
  roster?: { writeNow(): Promise<void> };
  /**
   * Where the nodes' newest events are kept (node-events.json): a node removed by hand is
   * written out of it before the removal is answered too, or a crash within its 30 s turn left
   * its old timeline there, restored onto the node if its reporter came back before the crash.
   */
  nodeEvents?: { writeNow(): Promise<void> };
  /** Node labels for canary selectors; undefined where the dashboard cannot read Nodes. */
  nodeLabels?: (names: readonly string[]) => Promise<Map<string, Record<string, string>>>;
}
