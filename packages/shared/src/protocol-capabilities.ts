// Protocol capabilities, negotiated in the WebSocket handshake (issue 17). Both ends check
// frames against strict schemas, so a field or message an old peer does not know breaks it.
// A reporter offers what it can do in a request header; a dashboard that can do it too grants
// it in the 101 response's header. An old dashboard ignores the request header and grants
// nothing; an old reporter offers nothing and is granted nothing. A capability is used only
// once granted, so neither end ever sees a frame it cannot read.

/** The header of the upgrade request (offered) and of its 101 response (granted). */
export const CAPABILITIES_HEADER = "x-ipmasq-capabilities";

/**
 * `snapshot-digests`: the reporter may send a snapshot with `linuxDigest` in place of `linux`
 * (snapshot-digest.ts); the dashboard answers a digest it does not hold with a
 * `snapshot-request`, and the reporter then sends its latest snapshot whole. The name stands
 * for canonical format 1 (snapshot-digest.ts): a new format needs a new name
 * (`snapshot-digests-2`), or a dashboard of format 1 would grant it to a reporter of format 2
 * and refuse every whole snapshot of that reporter as a digest mismatch.
 */
export const SNAPSHOT_DIGESTS = "snapshot-digests";

/**
 * `chain-digests`: the reporter may send a snapshot with `linuxChains` (each chain of `linux`
 * by its own digest, chain-digest.ts) in place of `linux`; the dashboard resolves every chain
 * from chains it holds, else answers with a `snapshot-request` and the reporter sends its
 * latest snapshot whole. Stands for canonical chain format 1 (chain-digest.ts). Supersedes
 * `snapshot-digests`: a dashboard offered both grants this one alone (grantCapabilities).
 */
export const CHAIN_DIGESTS = "chain-digests";

/**
 * `apply-result-snapshot`: the reporter may send the snapshot read right after an apply inside
 * that apply's `apply-result` (`snapshot`), one frame in place of two; the dashboard takes the
 * snapshot first, then the result, as it would take the two frames.
 */
export const APPLY_RESULT_SNAPSHOT = "apply-result-snapshot";

/**
 * `unheard-heals`: after its hello the reporter may send one `unheard-heals` message naming
 * the drift it healed on its own while no dashboard heard it (protocol.ts); the dashboard
 * tells each on the node's timeline. A reporter not granted it keeps them for a connection
 * that is.
 */
export const UNHEARD_HEALS = "unheard-heals";

/**
 * `digest-history`: where a digest format is granted too, the digests of each of the last
 * DIGEST_HISTORY_SNAPSHOTS distinct snapshots written on the connection count as held, not
 * only the last one's (limits.ts): the dashboard keeps the rules of that many it resolved, and
 * a reporter names by digest a snapshot toggled back to one of them (a hand edit, then its
 * heal) instead of sending it whole. Not granted (a dashboard of an earlier release), both
 * count the last snapshot alone. Stands for DIGEST_HISTORY_SNAPSHOTS = 4: another number needs
 * another name.
 */
export const DIGEST_HISTORY = "digest-history";

/** Every capability this release knows. */
export const KNOWN_CAPABILITIES = [
  CHAIN_DIGESTS,
  SNAPSHOT_DIGESTS,
  APPLY_RESULT_SNAPSHOT,
  UNHEARD_HEALS,
  DIGEST_HISTORY,
] as const;
export type Capability = (typeof KNOWN_CAPABILITIES)[number];

/** A header longer than this is read as offering nothing (a peer's text, bounded). */
const MAX_HEADER_CHARS = 256;

/**
 * The known capabilities named in a header value (comma-separated tokens, case-insensitive,
 * as HTTP list headers are); unknown tokens are ignored, an absent or oversized header names
 * none.
 */
export function parseCapabilities(header: string | string[] | undefined): Set<Capability> {
  const text = Array.isArray(header) ? header.join(",") : (header ?? "");
  const found = new Set<Capability>();
  if (text.length > MAX_HEADER_CHARS) return found;
  for (const token of text.split(",")) {
    const t = token.trim().toLowerCase();
    for (const c of KNOWN_CAPABILITIES) if (t === c) found.add(c);
  }
  return found;
}

/**
 * Capabilities never granted together, the first winning: both name a snapshot's rules by
 * digest, and one snapshot speaks one format. Per chain wins: it resolves on fleets whose
 * nodes hold per-node chains, and costs a few digests more where they do not.
 */
const EXCLUSIVE: readonly Capability[] = [CHAIN_DIGESTS, SNAPSHOT_DIGESTS];

/**
 * The header value granting what is both offered and supported (of EXCLUSIVE, only the
 * first such); undefined when nothing.
 */
export function grantCapabilities(
  offered: ReadonlySet<Capability>,
  supported: readonly Capability[],
): string | undefined {
  const both = supported.filter((c) => offered.has(c));
  const first = EXCLUSIVE.find((c) => both.includes(c));
  const granted = both.filter((c) => !EXCLUSIVE.includes(c) || c === first);
  return granted.length > 0 ? granted.join(", ") : undefined;
}
