// Whether a change monitor (`nft monitor`, `xtables-monitor -e`) has joined the nftables netlink
// group: from then on the kernel queues every ruleset change to it, so a re-read made after
// that misses nothing. Neither tool says when it subscribes; /proc does: the process's
// `net/netlink` (its network namespace's netlink sockets, Groups = nl_groups[0] in hex, from
// the kernel's netlink_seq_show) and its `fd` links (`socket:[inode]`) name its sockets.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** NETLINK_NETFILTER (linux/netlink.h): the protocol (Eth column) nftables talks over. */
const NETLINK_NETFILTER = 12;
/** NFNLGRP_NFTABLES (linux/netfilter/nfnetlink.h) is group 7: bit 6 of the Groups mask. */
const NFTABLES_GROUP = 1 << (7 - 1);
/** The most of `net/netlink` read (a line per socket in the namespace, ~100 bytes each). */
const MAX_NETLINK_CHARS = 4 << 20;
/** The most fds looked at: the monitors hold a handful. */
const MAX_FDS = 1024;

/**
 * The inodes (decimal strings) of the netfilter netlink sockets that joined the nftables
 * group, from the text of `/proc/<pid>/net/netlink`
 * (`sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode`). Lines that do not read are skipped.
 */
export function nftablesSubscribers(netlink: string): Set<string> {
  const out = new Set<string>();
  for (const line of netlink.slice(0, MAX_NETLINK_CHARS).split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || Number(f[1]) !== NETLINK_NETFILTER) continue;
    const groups = Number.parseInt(f[3] ?? "", 16);
    const inode = f[f.length - 1] ?? "";
    if (Number.isFinite(groups) && groups & NFTABLES_GROUP && /^\d+$/.test(inode)) out.add(inode);
  }
  return out;
}

/**
 * Has process `pid` subscribed to nftables events? true: one of its sockets joined the group;
 * false: not (yet); undefined: cannot tell (no /proc, the process gone, or not readable).
 */
export function monitorSubscribed(pid: number, proc = "/proc"): boolean | undefined {
  try {
    const subscribers = nftablesSubscribers(readFileSync(`${proc}/${pid}/net/netlink`, "utf8"));
    if (subscribers.size === 0) return false;
    const fds = readdirSync(`${proc}/${pid}/fd`).slice(0, MAX_FDS);
    return fds.some((fd) => subscribers.has(socketInode(`${proc}/${pid}/fd/${fd}`) ?? ""));
  } catch {
    return undefined;
  }
}

/** The inode of the socket an fd link names; undefined for other files or an fd just closed. */
function socketInode(link: string): string | undefined {
  try {
    return /^socket:\[(\d+)\]$/.exec(readlinkSync(link))?.[1];
  } catch {
    return undefined;
  }
}
