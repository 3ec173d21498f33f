// Per-chain digests (issue 17, capability `chain-digests`): a snapshot names each chain of its
// `linux` part by the digest of that chain alone. On real fleets some chains on the nat path
// carry per-node content (flannel's FLANNEL-POSTRTG names the node's pod subnet, AWS VPC CNI's
// AWS-SNAT-CHAIN-* its IP, Cilium's CILIUM_POST_nat its pod CIDR), so a digest of the whole
// part is unique per node and every config push would miss for every node. Per chain, the new
// agent chain is shared by every node after the first, and a node's own chains, unchanged by a
// push, resolve from its connection's last set. Family-level fields (family, backend, unread,
// unreadNote, readError) travel as they are, beside the chains' digests: everything a judge
// reads is either sent or digested. Pure: the hash function is passed in.
import type { ChainSnapshot, FamilyChainDigests, FamilySnapshot } from "./protocol.js";
import type { RulesDigest, Sha256Hex } from "./snapshot-digest.js";

/**
 * Bumped when the canonical chain text changes, together with the capability's name
 * (CHAIN_DIGESTS, protocol-capabilities.ts); a test pins the two together.
 */
const CHAIN_FORMAT = "masq-chain-rules/1";

/**
 * The canonical text of one chain: a format tag, then JSON of [name, lines|null]. Equal chains
 * give equal text however their objects were built; another name, line, line order or a
 * chain that does not exist (null) in place of an empty one gives another text.
 */
export function canonicalChain(c: ChainSnapshot): string {
  return `${CHAIN_FORMAT}\n${JSON.stringify([c.name, c.lines])}`;
}

/** The digest of one chain as the protocol carries it (`sha256:<hex>`). */
export function chainDigest(c: ChainSnapshot, sha256: Sha256Hex): RulesDigest {
  return `sha256:${sha256(canonicalChain(c))}`;
}

/** A `linux` part with its chains by digest; `digestOf` a chain's digest (perhaps memoised). */
export function linuxChainDigests(
  linux: readonly FamilySnapshot[],
  digestOf: (c: ChainSnapshot) => string,
): FamilyChainDigests[] {
  return linux.map((f) => {
    const out: FamilyChainDigests = {
      family: f.family,
      backend: f.backend,
      chains: f.chains.map((c) => ({ name: c.name, digest: digestOf(c) })),
    };
    if (f.unread !== undefined) out.unread = f.unread;
    if (f.unreadNote !== undefined) out.unreadNote = f.unreadNote;
    if (f.readError !== undefined) out.readError = f.readError;
    return out;
  });
}

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  a === undefined || b === undefined
    ? a === b
    : a.length === b.length && a.every((x, i) => x === b[i]);

/** Do two by-digest parts say the same (families, notes, chains and digests, in order)? */
export function sameChainDigests(
  a: readonly FamilyChainDigests[],
  b: readonly FamilyChainDigests[],
): boolean {
  return (
    a.length === b.length &&
    a.every((f, i) => {
      const g = b[i]!;
      return (
        f.family === g.family &&
        f.backend === g.backend &&
        f.unreadNote === g.unreadNote &&
        f.readError === g.readError &&
        sameList(f.unread, g.unread) &&
        f.chains.length === g.chains.length &&
        f.chains.every((c, j) => c.name === g.chains[j]!.name && c.digest === g.chains[j]!.digest)
      );
    })
  );
}
