// rollout.json stays readable by the previous release (commit 17918c2), whose strict schema
// refuses a state with a field it does not know: after `helm rollback` mid-rollout an older owner
// could not resume the rollout. Fields added since (per-wave `digests`, `begunConfig`, `atOnce`) are kept apart, as
// `rollout-extras.json` beside it (the history ConfigMap key or the file store's file), written
// in the same write and bound to the rollout.json text they belong to by its SHA-256: a state
// rewritten under them (an older owner, a hand edit) drops them, and its waves are counted by
// number (staged-state.ts, wave-digest.ts).
import { createHash } from "node:crypto";
import { z } from "zod";
import { digestsSchema } from "./staged-state.js";

/** The history ConfigMap key (and file store file) of the fields the previous release refuses. */
export const EXTRAS_KEY = "rollout-extras.json";

/** The log message when stored extras are not put back (the reason is logged beside it). */
export const EXTRAS_DROPPED = `${EXTRAS_KEY} not used: the rollout's waves are counted by number, not by the nodes they named, and an all-at-once rollout in progress is not tracked again`;

const extrasSchema = z.strictObject({
  version: z.literal(1),
  /** SHA-256 (hex) of the rollout.json text these fields belong to. */
  of: z.string().regex(/^[0-9a-f]{64}$/),
  /** `current.digests` (staged-state.ts): per wave, the digest of the names its size counts. */
  digests: digestsSchema.optional(),
  /** `begunConfig` (staged-state.ts): the config of the revision the owner said it began. */
  begunConfig: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  /**
   * `atOnce` (staged-state.ts): an all-at-once rollout in progress, checked by its reader
   * (at-once-state.ts) so that a bad one is said and dropped alone, not these digests with it.
   */
  atOnce: z.unknown().optional(),
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The texts to store for `state` (null: none): rollout.json as the previous release reads it, and
 * the extras bound to it (null: none, the key removed).
 */
export function splitRollout(state: unknown | null): {
  text: string | null;
  extras: string | null;
} {
  if (state === null) return { text: null, extras: null };
  if (!isObj(state)) return { text: JSON.stringify(state), extras: null };
  const { begunConfig, atOnce, ...top } = state;
  const current = isObj(top.current) ? top.current : undefined;
  const { digests, ...kept } = current ?? {};
  if (digests === undefined && begunConfig === undefined && atOnce === undefined)
    return { text: JSON.stringify(state), extras: null };
  const text = JSON.stringify(current ? { ...top, current: kept } : top);
  const extras = { version: 1, of: sha256(text), digests, begunConfig, atOnce };
  return { text, extras: JSON.stringify(extras) };
}

/**
 * The state stored as `text` (rollout.json, parsed) with its extras put back when they belong to
 * that very text; `dropped` says why extras were not (absent: none stored, or put back).
 */
export function joinRollout(
  state: unknown,
  text: string,
  extras: string | null | undefined,
): { state: unknown; dropped?: string } {
  if (extras === null || extras === undefined) return { state };
  let parsed: unknown;
  try {
    parsed = JSON.parse(extras);
  } catch {
    return { state, dropped: `${EXTRAS_KEY} is not JSON` };
  }
  const e = extrasSchema.safeParse(parsed);
  if (!e.success) return { state, dropped: `${EXTRAS_KEY} is not valid: ${e.error.message}` };
  if (e.data.of !== sha256(text))
    return { state, dropped: `${EXTRAS_KEY} belongs to another rollout.json (rewritten since)` };
  if (!isObj(state)) return { state, dropped: "rollout.json is not an object" };
  const { digests, begunConfig, atOnce } = e.data;
  const current = isObj(state.current) ? state.current : undefined;
  if (digests !== undefined && !current)
    return { state, dropped: "rollout.json holds no current rollout" };
  const out: Obj = { ...state };
  if (begunConfig !== undefined && out.begunConfig === undefined) out.begunConfig = begunConfig;
  if (atOnce !== undefined && out.atOnce === undefined) out.atOnce = atOnce;
  if (digests !== undefined && current && current.digests === undefined)
    out.current = { ...current, digests };
  return { state: out };
}
