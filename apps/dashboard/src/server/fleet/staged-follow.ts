// What a replica that does not own the staged rollout (it does not hold the singleton Lease)
// makes of the state the owner persisted (docs/scale-out.md step 4): the rollout of the
// revision it is told to enforce, or the owner's word that the revision goes at once, or not
// known yet, in which case its nodes stay on the previous revision (late, never early).
import { createHash } from "node:crypto";
import { configKey, configsEqual, type MasqConfig, primaryOf, zodReason } from "@masq/shared";
import type { Desired } from "../config/merged-desired.js";
import { type PastRollout, persistedSchema, type StagedRecord } from "./staged-state.js";

export type Followed =
  /** The owner's rollout of `current`; `previous` is null when its config is not kept. */
  | { kind: "rollout"; state: StagedRecord; previous: Desired | null; past: PastRollout[] }
  /** The owner began `current` without staging it: every node gets it. */
  | { kind: "at-once"; past: PastRollout[] }
  /**
   * The owner has not begun `current` yet, or its state is not readable here (`unreadable`:
   * said in /readyz and the rollout view): nodes are held.
   */
  | { kind: "not-yet"; reason: string; unreadable?: true };

/**
 * The persisted rollout if it is the one of `current`: the same revision of the same config,
 * or (a merged config, numbered anew after a restart) the same config of the same primary
 * save, then renumbered as `current`. The same config saved again (a roll forward after a
 * rollback or an abort) is another save, another rollout: never the old one's waves (issue 17).
 * Nor is another config under the same number: each process numbers its merges
 * (merged-desired.ts), so another replica's revision N may be another merge.
 */
export function sameRollout(s: StagedRecord, current: Desired): StagedRecord | null {
  if (s.config && !configsEqual(s.config, current.config)) return null;
  if (s.revision === current.revision) return s;
  if (primaryOf(s.resourceVersion) !== primaryOf(current.resourceVersion)) return null;
  if (!s.config) return null;
  return { ...s, revision: current.revision, resourceVersion: current.resourceVersion };
}

/** The stored config's resourceVersion a (merged) revision was made from (@masq/shared). */
export { primaryOf };

/** What the owner's persisted state (`raw`, unchecked) says of the revision `current`. */
export function followedOf(raw: unknown, current: Desired): Followed {
  const parsed = persistedSchema.safeParse(raw);
  if (!parsed.success)
    return {
      kind: "not-yet",
      reason: `the owner's rollout state is not readable (${zodReason(parsed.error, { root: "state" })})`,
      unreadable: true,
    };
  const { past } = parsed.data;
  const staged = parsed.data.current;
  const s = staged ? sameRollout(staged, current) : null;
  if (staged && !s && staged.revision === current.revision)
    return {
      kind: "not-yet",
      reason: `the owner's revision ${current.revision} is another config than this replica's (merges are numbered by each replica)`,
    };
  if (s?.previous) {
    const kept = s.previousConfig;
    return {
      kind: "rollout",
      state: s,
      previous: kept ? { ...s.previous, config: kept } : null,
      past,
    };
  }
  // Only the very revision: a later one begun means this replica has not seen the newest yet.
  if (begunHere(parsed.data, current)) return { kind: "at-once", past };
  return {
    kind: "not-yet",
    reason: `the owner has not begun revision ${current.revision} yet (newest begun: ${parsed.data.begun ?? "none"}${parsed.data.begun === current.revision ? ", another config or one it does not name" : ""})`,
  };
}

/** The owner's word that it began a revision, as persisted (staged-state.ts). */
export interface Said {
  begun: number;
  begunConfig: string;
}

/** A read of the persisted state: whether it was read, and the owner's word if it said one. */
export type Loaded = { read: boolean } & Partial<Said>;

/** The word an owner persists when it begins `d`. */
export const saidOf = (d: Desired): Said => ({
  begun: d.revision,
  begunConfig: configDigest(d.config),
});

/** The owner's word in a persisted state (absent fields: not said). */
export function said(p: { begun?: number; begunConfig?: string }): Partial<Said> {
  return {
    ...(p.begun !== undefined ? { begun: p.begun } : {}),
    ...(p.begunConfig !== undefined ? { begunConfig: p.begunConfig } : {}),
  };
}

/** SHA-256 (hex) of a config's identity (configKey): what `begunConfig` holds. */
export function configDigest(config: MasqConfig): string {
  return createHash("sha256").update(configKey(config)).digest("hex");
}

/**
 * Did the owner begin `current` itself (`begun`, `begunConfig`: its persisted word)? The same
 * number and, for a merged revision (numbered by each process, merged-desired.ts), the same
 * config: another replica's revision N may be another merge, whose nodes then went to this
 * one's N early. A merged revision begun without its config named (an owner of the previous
 * release, or its extras dropped) is not taken as this one: held, late rather than early.
 */
export function begunHere(
  owner: { begun?: number; begunConfig?: string },
  current: Desired,
): boolean {
  if (owner.begun !== current.revision) return false;
  if (owner.begunConfig !== undefined) return owner.begunConfig === configDigest(current.config);
  return primaryOf(current.resourceVersion) === current.resourceVersion;
}

/**
 * The ids of the move requests the owner performed, newest last (a replica taking the Lease
 * over performs none of them again, even when its read of the state fails then).
 */
export function performedOf(raw: unknown): string[] | undefined {
  const parsed = persistedSchema.safeParse(raw);
  if (!parsed.success || parsed.data.performed === undefined) return undefined;
  return [...(parsed.data.performedBefore ?? []), parsed.data.performed];
}
