// The merged revision numbers a persisted rollout recorded, read before the config service
// composes its first merge (merged-desired.ts NumberingSeed). Merged numbers live in the
// process that hands them out; without this a restart numbered the rollout's own merge anew
// (revision 11 came back as 10, equal to the revision before it), and a new merge could take
// an aborted revision's number.
import { mergedRevisionOf } from "@masq/shared";
import type { Desired, NumberingSeed } from "../config/merged-desired.js";
import { persistedSchema, type StagedRecord } from "./staged-state.js";

function knownOf(s: StagedRecord): Desired[] {
  const known: Desired[] = [];
  if (s.config)
    known.push({ revision: s.revision, resourceVersion: s.resourceVersion, config: s.config });
  if (s.previous && s.previousConfig) known.push({ ...s.previous, config: s.previousConfig });
  return known;
}

/**
 * The seed from a persisted rollout state (`raw`, unchecked: a state that does not parse seeds
 * nothing, and StagedRollouts.restore says why). Pure.
 */
export function numberingSeedOf(raw: unknown): NumberingSeed | undefined {
  const parsed = persistedSchema.safeParse(raw);
  if (!parsed.success) return undefined;
  const { current, past, begun } = parsed.data;
  const numbers = [
    begun ?? 0,
    current?.revision ?? 0,
    current?.previous?.revision ?? 0,
    ...past.flatMap((p) => [mergedRevisionOf(p.resourceVersion) ?? 0, p.supersededBy ?? 0]),
  ];
  return { known: current ? knownOf(current) : [], highest: Math.max(...numbers) };
}

/** Reads the persisted rollout once (no claim) for the seed; undefined when it cannot. */
export async function readNumberingSeed(
  load: (() => Promise<unknown | null>) | undefined,
): Promise<NumberingSeed | undefined> {
  if (!load) return undefined;
  try {
    const raw = await load();
    return raw === null ? undefined : numberingSeedOf(raw);
  } catch {
    return undefined; // restore reads it again, retrying, and reports a failure
  }
}
