// One interface for where the desired config lives (a file in the data dir, or the
// ip-masq-agent ConfigMap). Stores keep raw text in the upstream format; parsing and
// validation happen above them, so a store can hold (and report) an invalid config that
// someone wrote by hand.

import type { RolloutStrategy } from "@masq/shared";
import { z } from "zod";
import type { RosterFile } from "../fleet/roster-keeper.js";

/** What both stores record of a revision besides its text (the file store's index entries,
 * the Kubernetes store's history entries). */
export const revisionMetaSchema = z.object({
  /** Opaque, unique per change (file store: a counter; Kubernetes: the resourceVersion). */
  resourceVersion: z.string(),
  /** Monotonic across every change the store has seen; pushed to reporters. */
  revision: z.number().int().nonnegative(),
  author: z.string(),
  /** ISO 8601. */
  updatedAt: z.string(),
  message: z.string(),
});

/** One revision of the config text. */
export interface ConfigRevision extends z.infer<typeof revisionMetaSchema> {
  /** The ConfigMap `config` text, upstream format. */
  text: string;
  /**
   * How it rolls out, as saved with it (the Kubernetes store's `ipmasq.dev/rollout-strategy`,
   * trusted only while `ipmasq.dev/config-sha256` matches the text); absent: the default.
   */
  strategy?: RolloutStrategy;
}

export interface SaveRequest {
  text: string;
  author: string;
  message: string;
  /** The revision the author edited; any other current revision is a conflict. */
  expectedResourceVersion: string;
  /** How it rolls out (kept with the revision where the store can: kube-revision.ts). */
  strategy?: RolloutStrategy;
}

/** A save based on a revision that is no longer current. Carries the current one. */
export class StaleRevisionError extends Error {
  constructor(readonly current: ConfigRevision) {
    super("stale resourceVersion");
    this.name = "StaleRevisionError";
  }
}

export type StoreListener = (rev: ConfigRevision) => void;

/** What a store knows about its backing storage beyond "reachable", for /readyz and metrics. */
export interface StoreStatus {
  /** Sentences for a person: what is wrong and what the dashboard does meanwhile. Empty when fine. */
  problems: string[];
  /** The config's source object: there, deleted while running, or missing since the start. */
  source?: { name: string; state: "present" | "deleted" | "missing" };
  /** The watch that brings outside edits in. */
  watch?: {
    open: boolean;
    /** ISO 8601 time `open` last changed. */
    since: string;
    failures: number;
    lists: number;
    lastError?: string;
  };
  history?: { kept: number; retention: number; bytes: number; maxBytes: number; error?: string };
}

export interface ConfigStore {
  readonly kind: "file" | "kubernetes";
  /** Loads (or creates) the current config; resolves once `current()` is usable. */
  start(): Promise<void>;
  /** The latest revision known to this process. */
  current(): ConfigRevision;
  /** Saves unless `expectedRevision` is stale (StaleRevisionError). */
  save(req: SaveRequest): Promise<ConfigRevision>;
  /**
   * Saves from here on are numbered above `revision`: the merged revisions the config service
   * numbers (merged-desired.ts), so a number never names both a stored text and a merge.
   */
  numberAbove?(revision: number): void;
  /**
   * A new revision number for a merge, at least `min`, reserved so that no other process hands it
   * out for anything else (Kubernetes: the history ConfigMap's mark, every replica being active);
   * throws when it cannot be reserved. Absent: numbers are this process's own (the file store).
   */
  reserveRevision?(min: number): Promise<number>;
  /**
   * The highest merged revision any replica handed out, as the store last read it (Kubernetes:
   * the history ConfigMap's mark, read again by history()): a replica starting numbers its
   * merges above it, not only above the store's revisions.
   */
  mergedUpTo?(): number;
  /** Newest first, bounded by the store's retention. */
  history(): Promise<ConfigRevision[]>;
  /** Called for every new revision, whether saved here or seen from outside (kubectl). */
  onChange(listener: StoreListener): () => void;
  /** False while the backing storage is unreachable. */
  healthy(): boolean;
  /** Details for /readyz, the UI and metrics (the file store has none). */
  status?(): StoreStatus;
  /**
   * The staged rollout's state kept beside the revisions (checked by its reader); null: none.
   * `claim`: read by a replica taking the rollout over (its owner), which claims it first, so
   * no earlier owner's write lands after (Kubernetes: kube-rollout.ts claimKubeRollout).
   */
  loadRollout?(claim?: RolloutClaim): Promise<unknown | null>;
  saveRollout?(state: unknown | null): Promise<void>;
  /** Throws unless a saveRollout now would land (another replica claimed the rollout: fenced). */
  checkRollout?(): Promise<void>;
  /** Calls `listener` with the rollout state and move requests as they change (Kubernetes). */
  watchRollout?(listener: {
    state(raw: unknown | null): void;
    request(raw: unknown | null): void;
  }): void;
  /** Writes a move request beside the rollout state (checked by its reader). */
  saveRolloutRequest?(request: unknown): Promise<void>;
  /**
   * Where the node roster is kept across restarts (the file store's data dir); absent: nowhere
   * (the Kubernetes store: with replica sync NodeMasquerade objects keep the nodes).
   */
  nodeRoster?(): RosterFile;
  /**
   * Where the nodes' newest events are kept across restarts (the file store's data dir);
   * absent: nowhere (the Kubernetes store: they are Events in the API server).
   */
  nodeEvents?(): RosterFile;
  close(): Promise<void>;
}

/** Who takes a staged rollout over (the replica's name, recorded beside the owner epoch). */
export interface RolloutClaim {
  owner: string;
  /**
   * A replica holding no singleton Lease (leader election off): no claim while another replica
   * is recorded as owner and renewed that since `seen` (kube-rollout.ts RolloutHeldError).
   */
  yieldTo?: { seen?: string };
}

/** Listener fan-out shared by the stores. */
export class Listeners {
  private readonly set = new Set<StoreListener>();

  add(fn: StoreListener): () => void {
    this.set.add(fn);
    return () => this.set.delete(fn);
  }

  emit(rev: ConfigRevision): void {
    for (const fn of this.set) fn(rev);
  }
}
