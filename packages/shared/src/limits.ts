// Every size limit of the product in one place. The protocol schemas, the config parser, the
// dashboard's HTTP bodies, the reporter and the UI all read these, so a config the editor
// accepts is one every reporter accepts, and nothing is clipped at one end that the other allows.

/** Bytes of one WebSocket frame, refused above this by both ends (protocol.ts). */
export const MAX_FRAME_BYTES = 256 * 1024;

/** Entries of nonMasqueradeCIDRs that a config can carry to nodes (the `desired` message). */
export const MAX_CONFIG_CIDRS = 4096;
/** Characters of one nonMasqueradeCIDRs entry (the longest valid CIDR text is 49 without padding). */
export const MAX_CIDR_CHARS = 64;
/** Characters of resyncInterval. */
export const MAX_DURATION_CHARS = 64;
/**
 * Bytes a `desired` message needs besides the config itself (type, version, revision, a
 * revision of up to MAX_REVISION_CHARS), rounded up; a config must fit the frame with it.
 */
export const DESIRED_ENVELOPE_BYTES = 512;
/** Characters of a config revision id. */
export const MAX_RESOURCE_VERSION_CHARS = 128;

/** Characters of one `iptables -S` line in a snapshot (longer lines are clipped). */
export const MAX_RULE_LINE_CHARS = 4096;
/** Longest chain name iptables accepts (XT_EXTENSION_MAXNAMELEN is 29 with the NUL). */
export const MAX_CHAIN_NAME_LENGTH = 28;
/** Lines of one chain in a snapshot. */
export const MAX_CHAIN_LINES = 10_000;
/** Lines of all chains of one family snapshot together. */
export const MAX_SNAPSHOT_LINES = 20_000;
/** Chains in one family snapshot (POSTROUTING, the chains reachable from it, the agent chain). */
export const MAX_SNAPSHOT_CHAINS = 256;
/** Family snapshots in one snapshot message: IPv4 and IPv6, each from up to two backends. */
export const MAX_FAMILY_SNAPSHOTS = 4;
/** Characters of the note saying why chains were not read (`unreadNote`). */
export const MAX_UNREAD_NOTE_LENGTH = 1024;
/** Characters of a read error in a snapshot. */
export const MAX_READ_ERROR_CHARS = 4096;
/** Characters of the error of an apply result. */
export const MAX_APPLY_ERROR_CHARS = 8192;
/**
 * Milliseconds an apply result may say it took: a day. An apply waits on the xtables lock and
 * a few commands; a longer (or infinite) duration is not a measurement, and shown or summed it
 * reads as nonsense ("1e+300 ms"). The reporter clamps what it measures to this.
 */
export const MAX_APPLY_DURATION_MS = 24 * 60 * 60 * 1000;

/** Characters of a node name (a DNS subdomain, RFC 1123). */
export const MAX_NODE_NAME_CHARS = 253;
/** Characters of the kernel and iptables version texts of a hello. */
export const MAX_HELLO_TEXT_CHARS = 256;
/** Characters of the reporter's version in a hello. */
export const MAX_REPORTER_VERSION_CHARS = 64;
/** Characters of a resync request id. */
export const MAX_REQUEST_ID_CHARS = 128;
/** Characters of the reason of a dashboard `error` message. */
export const MAX_SERVER_ERROR_CHARS = 1024;
/** Characters of the agent's `--to-ports` spec. */
export const MAX_TO_PORTS_CHARS = 256;

/** Characters of a Windows CNI config's path in a snapshot (longer paths are clipped). */
export const MAX_CNI_PATH_CHARS = 1024;
/** Characters of the JSON pointer of an ExceptionList inside its CNI config. */
export const MAX_CNI_POINTER_CHARS = 512;
/**
 * Characters of a Windows snapshot's JSON: three quarters of a frame, leaving the rest to the
 * message envelope; larger lists are reported as too large to send.
 */
export const MAX_WINDOWS_SNAPSHOT_JSON = (MAX_FRAME_BYTES * 3) / 4;
/** OutBoundNAT exception lists in one Windows CNI config. */
export const MAX_EXCEPTION_LISTS = 64;
/** Entries of one OutBoundNAT ExceptionList. */
export const MAX_EXCEPTION_ENTRIES = 4096;
/**
 * Entries of the ExceptionList computed for masqueradeCIDRs on Windows (the non-masquerade ranges
 * minus the exceptions, as CIDRs). One exception costs up to (its prefix − its range's prefix)
 * blocks (a /32 in a /8: 24), so 256 holds about ten deep exceptions; past that the list is no
 * longer something a person can review on the node page or in the CNI file, and HNS evaluates
 * the list per endpoint policy: the reporter refuses instead of writing it.
 */
export const MAX_WINDOWS_EQUIVALENT_CIDRS = 256;
/** Characters of one ExceptionList entry. */
export const MAX_EXCEPTION_ENTRY_CHARS = 64;

/** Bytes of an HTTP request body of the dashboard API (a config's YAML included). */
export const MAX_HTTP_BODY_BYTES = 64 * 1024;

/**
 * Longest delay setTimeout/setInterval honour (2^31-1 ms, about 24.8 days): Node runs a longer
 * one after 1 ms and browsers wrap it, so longer waits are chained (timers.ts).
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Heals a reporter keeps while no dashboard hears it (capability `unheard-heals`), the oldest
 * dropped (and counted) past it; and the characters of what one heal says differed.
 */
export const MAX_UNHEARD_HEALS = 16;
export const MAX_HEAL_WHAT_CHARS = 240;

/**
 * Distinct snapshots of one reporter connection whose rules' digests count as held (capability
 * `digest-history`, protocol-capabilities.ts): the dashboard keeps the chains (or the whole
 * `linux` part) of the last this many distinct snapshots it resolved on the connection, and the
 * reporter names by digest only digests of the last this many distinct snapshots it wrote, so
 * a node toggled back to a recent state (a hand edit, then its heal) goes by digest. Without
 * the capability both count one. The capability's name stands for this number: a reporter
 * counting more than its dashboard keeps would name digests the dashboard dropped, so raising
 * it needs a new name (a dashboard may keep more).
 */
export const DIGEST_HISTORY_SNAPSHOTS = 4;

/** The reporter re-applies at most this often, whatever resyncInterval says (upstream spins). */
export const MIN_RESYNC_INTERVAL_MS = 1_000;

/** Objects (tables, chains, rules, sets, maps, …) of one nftables snapshot (`nft -j` output). */
export const MAX_NFT_OBJECTS = 20_000;
/** Set and map elements of one nftables snapshot, all sets together (4,096 CIDRs per family fit). */
export const MAX_NFT_ELEMENTS = 20_000;
/** Expressions of one nftables rule. */
export const MAX_NFT_RULE_EXPRS = 256;
/** Nesting of one nftables JSON value (an expression, an element). */
export const MAX_NFT_JSON_DEPTH = 32;
/** Characters of an nftables table, chain, set or map name (NFT_NAME_MAXLEN is 256 with the NUL). */
export const MAX_NFT_NAME_CHARS = 255;
/** Characters of an nftables comment (NFT_USERDATA_MAXLEN is 256 bytes). */
export const MAX_NFT_COMMENT_CHARS = 256;

/**
 * Config sources merged into one config (ConfigMaps of the prefix times their keys, or files of
 * the data dir / mounted directory); more is refused as a whole, never cut at an arbitrary one.
 */
export const MAX_CONFIG_SOURCES = 64;
/** Bytes of one config source's text (a ConfigMap holds at most 1 MiB in total). */
export const MAX_CONFIG_SOURCE_BYTES = 256 * 1024;
/** Characters of a config source's name or key (a ConfigMap name or key is at most 253). */
export const MAX_SOURCE_NAME_CHARS = 253;
