// Snapshot digests (issue 17): a reporter may send the digest of its snapshot's `linux` part in
// place of the part when the dashboard already holds that content; a fleet's nodes mostly hold
// the same rules, and the `linux` part is ~90 % of a snapshot's bytes. Both ends compute the
// digest over the same canonical text (below), so key order or JSON spacing on the wire never
// decides it. Pure: the hash function is passed in (node:crypto sha256 in the apps).
import { z } from "zod";
import type { FamilySnapshot } from "./protocol.js";

/** A digest on the wire: the algorithm, a colon, 64 lowercase hex digits. */
export const rulesDigestSchema = z
  .string()
  .regex(/^sha256:[0-9a-f]{64}$/, "a rules digest is sha256: and 64 lowercase hex digits");
export type RulesDigest = z.infer<typeof rulesDigestSchema>;

/** Hex SHA-256 of a UTF-8 text (`sha256` of @masq/node-util). */
export type Sha256Hex = (text: string) => string;

/**
 * Bumped when the canonical text changes, together with the capability's name
 * (SNAPSHOT_DIGESTS, protocol-capabilities.ts): peers of different formats then never agree to
 * digests at all (a test pins the two together).
 */
const CANONICAL_FORMAT = "masq-linux-rules/1";

/**
 * The canonical text of a `linux` part: a format tag, then JSON of arrays in a fixed order
 * (family, backend, chains as [name, lines|null], unread|null, unreadNote|null,
 * readError|null). Equal parts give equal text however their objects were built; any
 * difference a judge could see (a line, a chain, a note) gives a different text.
 */
export function canonicalLinuxRules(linux: readonly FamilySnapshot[]): string {
  const families = linux.map((f) => [
    f.family,
    f.backend,
    f.chains.map((c) => [c.name, c.lines]),
    f.unread ?? null,
    f.unreadNote ?? null,
    f.readError ?? null,
  ]);
  return `${CANONICAL_FORMAT}\n${JSON.stringify(families)}`;
}

/** The digest of a `linux` part as the protocol carries it (`sha256:<hex>`). */
export function linuxRulesDigest(linux: readonly FamilySnapshot[], sha256: Sha256Hex): RulesDigest {
  return `sha256:${sha256(canonicalLinuxRules(linux))}`;
}
