// The agent's own nftables ruleset: one `inet` table (both families, one transaction), two
// interval sets of non-masquerade destinations and one nat base chain on postrouting. Every
// name the renderer, the parser and the drift check share lives here.
import { MASQ_RULE_COMMENT, NON_MASQ_RULE_COMMENT } from "../rules.js";

/**
 * The agent's table. nft identifiers are `[a-zA-Z_][a-zA-Z0-9_./]*` unquoted (scanner.l
 * `identifier`); `-` would need quoting in every command, so underscores. An `inet` table
 * holds both families, so one `nft -f` transaction replaces IPv4 and IPv6 together.
 */
export const NFT_TABLE_FAMILY = "inet" as const;
export const NFT_TABLE = "ip_masq_agent";
/** Non-masquerade destinations per family: `type ipv4_addr|ipv6_addr; flags interval`. */
export const NFT_SET_V4 = "nonmasq_v4";
export const NFT_SET_V6 = "nonmasq_v6";
/** The base chain: `type nat hook postrouting priority srcnat; policy accept;`. */
export const NFT_CHAIN = "postrouting";

/**
 * `srcnat` = 100 = NF_IP_PRI_NAT_SRC, the priority of iptables' nat POSTROUTING (iptable_nat,
 * legacy and nft-compat alike) and of kube-proxy's `nat-postrouting`: the agent's chain runs
 * where upstream's IP-MASQ-AGENT chain runs.
 *
 * Order among chains of the same priority: nf_hook_entries_grow inserts a new hook after the
 * existing ones of equal priority, so they run in registration order — the order their tables'
 * base chains were created, which changes when one is deleted and re-created. Nothing outside
 * the kernel can see it. It matters only when two chains would NAT the same packet differently
 * (the first binding wins, nf_nat_inet_fn); a chain that accepts or returns does not stop the
 * next nat chain. So: the apply script never re-creates the chain when it can keep it (its place
 * stays), and the analysis treats equal-priority order as unknown, forking only where it
 * changes the answer.
 */
export const NFT_CHAIN_PRIORITY = 100;
export const NFT_CHAIN_PRIORITY_NAME = "srcnat";

/** Comments like upstream's rule comments (nft keeps at most 128 bytes: NFT_USERDATA_MAXLEN). */
export const NFT_LOCAL_COMMENT = "ip-masq-agent: LOCAL destinations are not subject to MASQUERADE";
export const NFT_NON_MASQ_COMMENT = NON_MASQ_RULE_COMMENT;
export const NFT_MASQ_COMMENT = MASQ_RULE_COMMENT;
/** Without --enable-ipv6 upstream never touches ip6tables: IPv6 leaves the table unchanged. */
export const NFT_IPV6_OFF_COMMENT = "ip-masq-agent: IPv6 is not managed (--enable-ipv6 is off)";

/** How `nft` names the table in commands: `inet ip_masq_agent`. */
export const NFT_TABLE_REF = `${NFT_TABLE_FAMILY} ${NFT_TABLE}`;
