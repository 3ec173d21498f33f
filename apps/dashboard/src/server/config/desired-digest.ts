// The SHA-256 of a desired revision's config, computed once per Desired object: written in each
// held node's NodeMasquerade (`desiredConfig`) and matched by the other replicas, which number
// merged revisions each their own way (shared rollout-count.ts inReaderNumbering).
import type { NumberedConfig } from "@masq/shared";
import { configDigest } from "../fleet/staged-follow.js";
import type { Desired } from "./merged-desired.js";

const digests = new WeakMap<Desired, string>();

/** SHA-256 (hex) of `d`'s config (staged-follow.ts configDigest), cached with the object. */
export function desiredDigest(d: Desired): string {
  let digest = digests.get(d);
  if (digest === undefined) {
    digest = configDigest(d.config);
    digests.set(d, digest);
  }
  return digest;
}

/** The given revisions (absent ones skipped) as this replica numbers them, with their configs. */
export function revisionRefs(...ds: readonly (Desired | null | undefined)[]): NumberedConfig[] {
  const out: NumberedConfig[] = [];
  for (const d of ds) if (d) out.push({ revision: d.revision, config: desiredDigest(d) });
  return out;
}
