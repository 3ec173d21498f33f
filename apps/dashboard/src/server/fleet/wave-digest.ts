// Which nodes a staged rollout's wave counted, without their names: the persisted state keeps
// per wave its size and a digest of its members' names (a sum of 48-bit name hashes, mod 2^48),
// so an owner that restarts or takes the rollout over can tell whether the nodes it knows are
// the ones counted, not just as many (break7: a node joined since stood in for a counted node
// whose NodeMasquerade was gone, and the last wave was called applied without it). The sum can
// be added to and taken from one name at a time, and one node more than counted (a joiner) is
// found by its hash.
import { hash as digestOf } from "node:crypto";

const MOD = 2 ** 48;

/** A name's 48-bit hash (the first 6 bytes of its SHA-256): an integer in [0, 2^48). */
export function nameHash(name: string): number {
  return Number.parseInt(digestOf("sha256", name, "hex").slice(0, 12), 16);
}

/** The digest of a set of names (order does not matter). */
export function setDigest(names: Iterable<string>): number {
  let d = 0;
  for (const n of names) d = (d + nameHash(n)) % MOD;
  return d;
}

/** `digest` with `name` added (+1) or taken out (-1). */
export function withName(digest: number, name: string, sign: 1 | -1): number {
  return (((digest + sign * nameHash(name)) % MOD) + MOD) % MOD;
}

/** The members counted at the last write of the state: how many, and their digest. */
export interface Counted {
  size: number;
  digest: number;
}

/**
 * Are the members counted all among `known` (the names of the wave known here)? Yes when
 * `known` is exactly them, or them and one node more (a joiner, found by its hash: returned).
 * Otherwise not known: some counted member is not seen here (its record gone, or not listed),
 * or more than one node joined since (told apart only as the members come back or go).
 */
export function verifyMembers(
  known: readonly string[],
  counted: Counted,
): { ok: true; joiner?: string } | { ok: false } {
  const extra = known.length - counted.size;
  if (extra < 0 || extra > 1) return { ok: false };
  const diff = (setDigest(known) - counted.digest + MOD) % MOD;
  if (extra === 0) return diff === 0 ? { ok: true } : { ok: false };
  const joiner = known.find((n) => nameHash(n) === diff);
  return joiner === undefined ? { ok: false } : { ok: true, joiner };
}
