// What a staged rollout (staged-rollout.ts) is given: the fleet it sends revisions to, the nodes
// other replicas hold, and its options (persistence, Lease, refusal, labels).
import type {
  Rollout,
  RolloutOutcome,
  RolloutStrategy,
  StagedRolloutView,
  WavesStrategy,
} from "@masq/shared";
import type { Logger } from "pino";
import type { Desired } from "../config/merged-desired.js";
import type { NodeMasqueradeStatus } from "../replicas/node-masquerade.js";
import type { NodeRecord } from "./node.js";
import type { RolloutPersistence } from "./staged-state.js";

/** What the rollout needs of the fleet. */
export interface StagingFleet {
  readonly nodes: ReadonlyMap<string, NodeRecord>;
  /** Sends each named connected enforce-mode node its desired revision (desiredFor). */
  pushTo(names: readonly string[]): void;
  /** Every node returns to `previous` (an abort). */
  revert(previous: Desired): void;
  noteEvent(name: string, kind: string, message: string): void;
  rolloutChanged(): void;
  /** A node's place in the rollout changed (its summary is sent again). */
  nodeChanged?(name: string): void;
  /** How the fleet bar counts a target of `revision`'s rollout (undefined: not one). */
  counted?(name: string, revision: number): RolloutOutcome | undefined;
}

/**
 * Observe mode: the upstream agent reads the ConfigMap itself, so the one thing a rollout can
 * stage there is the resync that recreates its pod (IPMASQ_OBSERVE_RESYNC). `why` names the
 * rollout, wave and user for the node's timeline.
 */
export type UpstreamRestart = (names: readonly string[], why: string) => void;

export interface StagedOptions {
  log: Logger;
  persistence?: RolloutPersistence;
  /** The wall clock (ms since the epoch): times stored and shown (default Date.now). */
  now?: () => number;
  /**
   * The clock local durations are measured on: applied-to-offline, suspects, missing objects,
   * retries (default performance.now; `now` when only that is given, as tests step one clock).
   * Never the wall clock: a step of it (NTP, a VM resumed) missed an offline soon after applying.
   */
  monotonic?: () => number;
  /** A released node that goes offline this soon after applying pauses the rollout. */
  offlineWindowMs?: number;
  /** Recreates observe-mode nodes' upstream agent pods as their wave is released. */
  restartUpstream?: UpstreamRestart;
  /**
   * With leader election: is this replica the active one? A standby writes nothing, and reads
   * the persisted rollout again when it takes over (the active replica's waves, not its own).
   */
  active?: () => boolean;
  /**
   * Why a staged rollout cannot be run correctly now (other dashboard replicas push to their
   * own nodes: staged-scope.ts); null when it can. While refused no rollout starts (a change
   * rolls out all at once), operators' moves are refused, and no wave is released or finished.
   */
  refusal?: () => string | null;
  /**
   * With every replica active: the nodes others hold. The rollout's waves are cut over them
   * too, by the singleton Lease holder (`active`), the one owner (docs/scale-out.md step 2).
   */
  remote?: RemoteNodes;
  /**
   * Reads nodes' labels for a canary selector when the save's announcement did not bring them
   * (the revision was saved on another replica): every node is held on the previous revision
   * until they are read and the waves cut.
   */
  labels?: LabelReader;
  /** This replica's name, for moves asked here and performed by the owner. */
  replica?: string;
  /** The name its claim of the rollout records (a move refused elsewhere names it); `replica`. */
  claimAs?: string;
  /** How long a move asked of the owner waits for its word (REQUEST_CONFIRM_MS). */
  confirmWaitMs?: number;
  /**
   * With every replica active: the fleet bar over every node (this replica's and the others' by
   * their NodeMasquerade). The owner drops the all-at-once rollout it keeps once nothing on it
   * is pending (staged-rollout.ts atOnceOver).
   */
  fleetRollout?: () => Rollout | null;
}

/** What a follower starting on an unbegun staged revision needs to hold it (restore). */
export interface HeldAtStart {
  /** The strategy saved with the current revision (its annotation); undefined: none. */
  strategy: () => RolloutStrategy | undefined;
  /** The default strategy. */
  fallback: RolloutStrategy;
  /** The newest valid revision before `revision`. */
  before: (revision: number) => Promise<Desired | null>;
  /**
   * Holds the sources' merge with `aborted` desired and nodes on `stable` (config-service
   * holdAtStart); false when there is nothing to hold.
   */
  holdMerge?: (aborted: Desired, stable: Desired) => boolean;
  /** The persisted rollout's revisions were numbered up to `revision`: never number one again. */
  numberAbove?: (revision: number) => void;
}

/** Nodes other dashboard replicas hold, as their NodeMasquerade says (replica sync). */
export interface RemoteNodes {
  /** Nodes held by another replica, or by none (offline since): name and agent mode. */
  list(): Iterable<{ name: string; mode: "enforce" | "observe" }>;
  /** The NodeMasquerade status of a node held by another replica (undefined: held here). */
  status(name: string): NodeMasqueradeStatus | undefined;
  /**
   * Has the first list of NodeMasquerades been read? Until then the nodes others hold are not
   * known, and no wave is settled: a node joined meanwhile would make up the count of one the
   * persisted sizes hold and not seen yet (break6). Absent: always.
   */
  listed?(): boolean;
  /**
   * The live replicas that have not shown, in a Lease renewal seen at `since` (this replica's
   * clock) or later, that every reconnect to them is written to its NodeMasquerade, each with
   * why (replica-leases.ts). A node that went offline is called gone only once this is empty
   * (staged-offline.ts). Absent: none.
   */
  unreportedSince?(since: number): string[];
  /**
   * Why whether `replica` still holds its nodes is not known (it stopped renewing its Lease
   * without releasing it); undefined: known. A node it held is then never called gone
   * (staged-offline.ts HolderUnknown). Absent: always known.
   */
  holderUnknown?(replica: string): string | undefined;
  /**
   * Read fresh from the API server (a GET; the watch may lag): does the node's NodeMasquerade
   * name a connected holder? Rejects when the read fails. Asked before a node that went offline
   * is judged (staged-offline.ts FreshRead). Absent: not asked.
   */
  connectedFresh?(name: string): Promise<boolean>;
  /**
   * Read fresh from the API server: does the node's NodeMasquerade exist with a status? Rejects
   * when the read fails. Asked before a node whose object went is no longer waited for.
   */
  existsFresh?(name: string): Promise<boolean>;
}

/** Labels of the named nodes (a node without a Node object is left out). */
export type LabelReader = (
  names: readonly string[],
) => Promise<Map<string, Record<string, string>>>;

export type PauseListener = (view: StagedRolloutView, reason: string) => void;
export type ResumeListener = (rollout: { revision: number; resourceVersion: string }) => void;
export type ActionResult = { ok: true; view: StagedRolloutView } | { ok: false; error: string };

/** A staged revision whose waves are not known here yet, and what starting it takes. */
export interface Awaiting {
  revision: number;
  previous: Desired;
  strategy: WavesStrategy;
  next: Desired;
  user: string;
}
