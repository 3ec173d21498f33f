// Whether two snapshots report the same rules: exactly the fields the assessment cache key
// covers (assess-node.ts snapshotKey), compared in place. In a push thousands of nodes send
// the same new rules one after another; comparing with the last one costs no allocation,
// where building and hashing a key costs a few µs and a string as long as the snapshot.
import type { FamilySnapshot, Snapshot } from "@masq/shared";

const sameStrings = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const sameOptional = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === undefined || b === undefined ? a === b : sameStrings(a, b);

function sameFamily(a: FamilySnapshot, b: FamilySnapshot): boolean {
  if (a.family !== b.family || a.backend !== b.backend) return false;
  if (a.chains.length !== b.chains.length) return false;
  if (a.unreadNote !== b.unreadNote || a.readError !== b.readError) return false;
  if (!sameOptional(a.unread, b.unread)) return false;
  return a.chains.every((c, i) => {
    const d = b.chains[i]!;
    if (c.name !== d.name) return false;
    return c.lines === null || d.lines === null
      ? c.lines === d.lines
      : sameStrings(c.lines, d.lines);
  });
}

/**
 * True when both are iptables-only snapshots (no nftables, no Windows part) with equal `linux`
 * (families in order, backend, chains and lines, unread chains, notes, read errors). False
 * when either has an nftables or Windows part: those are compared by key.
 */
export function sameRules(a: Snapshot, b: Snapshot): boolean {
  if (a.nftables || b.nftables || a.windows || b.windows) return false;
  if (a.linux === undefined || b.linux === undefined) return a.linux === b.linux;
  if (a.linux === b.linux) return true;
  return a.linux.length === b.linux.length && a.linux.every((f, i) => sameFamily(f, b.linux![i]!));
}
