// Change detection on a native nftables node: `nft monitor` prints one line per object a
// transaction adds or deletes, then `# new generation N by process P (nft)` when it commits
// (nftables 1.0.6, checked in a network namespace):
//   add table inet ipmasq
//   add chain inet ipmasq postrouting { type nat hook postrouting priority srcnat; policy accept; }
//   add rule inet ipmasq postrouting handle 3 ip daddr @nomasq4 return
//   delete element inet ipmasq nomasq4 { 10.0.0.0/8 }
//   insert rule inet ipmasq postrouting ip daddr 203.0.113.0/24 masquerade
//   # new generation 3 by process 25936 (nft)
// The lines become the watcher's MonitorEvent: `table` is "FAMILY NAME" (nft tables are named
// per family), `chain` the chain or set the line names, `object` the kind of object. When its
// netlink buffer overflows (ENOBUFS) nft prints `# ERROR: We lost some netlink events!` and
// goes on (nftables src/mnl.c): then nothing read since can be trusted to be current.
import type { MonitorEvent } from "../watcher.js";

/** The nft families that can hold a nat postrouting chain. */
const NAT_FAMILIES = new Set(["ip", "ip6", "inet"]);
const OBJECTS = new Set(["rule", "chain", "set", "map", "element", "setelem"]);
/** `nft insert rule` is printed as `insert rule …`; a replaced rule as a delete and an add. */
const VERBS = new Set(["add", "insert", "delete", "destroy", "flush"]);

/** One `nft monitor` line as an event ("other" for what it does not know). */
export function parseNftMonitorLine(line: string): MonitorEvent {
  const text = line.trim();
  if (text.startsWith("# new generation")) return { kind: "newgen" };
  if (text.startsWith("# ERROR")) return { kind: "lost" };
  const w = text.split(/\s+/);
  if (!VERBS.has(w[0] ?? "")) return { kind: "other" };
  const [, what, family, table, name] = w;
  if (what === undefined || family === undefined || table === undefined) return { kind: "other" };
  if (!NAT_FAMILIES.has(family)) return { kind: "other" };
  const key = `${family} ${table}`;
  if (what === "table") return { kind: "table", table: key };
  // A counter, quota, flowtable, … of a table: named, so the agent's table can be listed again.
  if (!OBJECTS.has(what) || name === undefined) return { kind: "other", table: key, object: what };
  if (what !== "chain") return { kind: "rule", table: key, chain: name, object: what };
  const natPostrouting = /\btype nat hook postrouting\b/.test(text);
  return {
    kind: "chain",
    table: key,
    chain: name,
    object: what,
    ...(natPostrouting ? { natPostrouting } : {}),
  };
}

/** What the last read looked at, as `nft monitor` names it. */
export interface NftWatched {
  /** "FAMILY TABLE" of every table read (the agent's, and those with nat postrouting chains). */
  tables: ReadonlySet<string>;
  /** "FAMILY TABLE NAME" of every chain on the path and set or map its rules look up. */
  objects: ReadonlySet<string>;
}

/**
 * Events that may change a read: lost events, a table added or deleted, a nat postrouting
 * base chain declared anywhere, every event of `agentTables` (the agent's, and tables read as iptables),
 * and events on the objects read (`current()`: the last read's chains, sets and maps). Before
 * the first read (nothing watched), everything. kube-proxy's churn (service chains, map
 * elements) is not on the nat postrouting path and causes no read.
 */
export function nftEventFilter(
  current: () => NftWatched,
  agentTables: ReadonlySet<string>,
): (ev: MonitorEvent) => boolean {
  return (ev) => {
    const watched = current();
    if (ev.kind === "lost") return true;
    if (ev.kind === "other") return agentTables.has(ev.table ?? "");
    if (ev.kind === "newgen") return false;
    if (ev.kind === "table" || ev.natPostrouting) return true;
    if (watched.tables.size === 0 || agentTables.has(ev.table ?? "")) return true;
    return watched.objects.has(`${ev.table} ${ev.chain}`);
  };
}
