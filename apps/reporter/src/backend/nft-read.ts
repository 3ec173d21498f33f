// One read of a native nftables node, as the shared NftSnapshot: the agent's table whole, and
// of every other table with a nat base chain on the postrouting hook, those base chains, the
// chains they jump or go to and the sets and maps their rules look up — never a whole foreign
// table (kube-proxy's holds a chain per service and endpoint). Cost: one `nft list chains`
// (no rules), then one `nft list` per object on the path; nft 1.0.6 loads a table's rules for
// each chain listed, so a chain of a big table costs what that table costs (bench/). While nft
// monitor follows the node, what no event touched is reused (nftables.ts): then a read lists
// the agent's table alone, or only its objects an event touched (nft-own-cache.ts).
import { MAX_SNAPSHOT_CHAINS, type NftSnapshot, nftSnapshotSchema, zodReason } from "@masq/shared";
import type { Nft, NftList, NftRef } from "./nft-exec.js";
import type { NftWatched } from "./nft-monitor.js";

/** Families whose tables can hold a nat postrouting chain. */
const NAT_FAMILIES = new Set(["ip", "ip6", "inet"]);
/** Chains read per foreign table before the rest is named unread. */
export const NFT_PATH_CHAINS = 64;

export interface NftReadOptions {
  nft: Nft;
  /** The agent's table. */
  agent: { family: string; table: string };
  /** "FAMILY TABLE" of tables read elsewhere (iptables-nft's `ip nat`/`ip6 nat`), or none. */
  skipTables?: ReadonlySet<string>;
  maxChains?: number;
  /**
   * Walks of foreign tables known to be unchanged since they were read (nft monitor saw no
   * event touching them), by "FAMILY TABLE": used instead of listing their chains again.
   */
  reuse?: ReadonlyMap<string, TableWalk>;
  /**
   * The nat postrouting base chains of every other table, known unchanged since the last read
   * (nft monitor saw no table and no nat postrouting chain come or go): `nft list chains`, which
   * lists every chain of the node, is skipped.
   */
  hooks?: ReadonlyMap<string, ChainInfo[]>;
  /** The agent's table (default: `nft list table` of it; nft-own-cache.ts lists less). */
  readAgent?: () => Promise<NftList>;
}

export interface NftRead {
  snapshot: NftSnapshot;
  watched: NftWatched;
  /** This read's nat postrouting base chains of other tables (for `hooks` next time). */
  hooks: Map<string, ChainInfo[]>;
  /** This read's walk of each foreign table (for `reuse` next time). */
  walks: Map<string, TableWalk>;
}

export interface ChainInfo {
  family: string;
  table: string;
  name: string;
  type?: string;
  hook?: string;
}

const key = (r: { family: string; table: string }) => `${r.family} ${r.table}`;

/** Chains of `nft -j list chains` output (other entries ignored). */
export function chainsOf(objects: readonly unknown[]): ChainInfo[] {
  const out: ChainInfo[] = [];
  for (const o of objects) {
    const c = (o as { chain?: ChainInfo }).chain;
    if (
      c &&
      typeof c.family === "string" &&
      typeof c.table === "string" &&
      typeof c.name === "string"
    )
      out.push(c);
  }
  return out;
}

/** Tables other than the agent's with a nat chain on the postrouting hook, and those chains. */
export function natPostroutingTables(
  chains: readonly ChainInfo[],
  exclude: ReadonlySet<string>,
): Map<string, ChainInfo[]> {
  const tables = new Map<string, ChainInfo[]>();
  for (const c of chains) {
    if (c.type !== "nat" || c.hook !== "postrouting" || !NAT_FAMILIES.has(c.family)) continue;
    if (exclude.has(key(c))) continue;
    tables.set(key(c), [...(tables.get(key(c)) ?? []), c]);
  }
  return tables;
}

/**
 * What a rule's expressions refer to: chains it jumps or goes to (verdicts, also inside
 * verdict maps) and sets or maps looked up by name (`@name`; under `vmap`/`map`, a map).
 */
export function referencesOf(expr: unknown): { chains: string[]; sets: string[]; maps: string[] } {
  const found = { chains: new Set<string>(), sets: new Set<string>(), maps: new Set<string>() };
  const stack: [unknown, boolean][] = [[expr, false]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, inMap] = next;
    if (typeof v === "string" && v.startsWith("@"))
      (inMap ? found.maps : found.sets).add(v.slice(1));
    if (v !== null && typeof v === "object") stack.push(...children(v, inMap, found.chains));
  }
  return { chains: [...found.chains], sets: [...found.sets], maps: [...found.maps] };
}

/** An object's values to visit (a lookup under `vmap`/`map` names a map); verdict targets noted. */
function children(v: object, inMap: boolean, chains: Set<string>): [unknown, boolean][] {
  return Object.entries(v).map(([k, child]) => {
    const target = (child as { target?: unknown } | null)?.target;
    if ((k === "jump" || k === "goto") && typeof target === "string") chains.add(target);
    return [child, inMap || k === "vmap" || k === "map"];
  });
}

export interface TableWalk {
  objects: unknown[];
  unread: NftRef[];
  watched: string[];
  /** A base chain on the hook could not be read. */
  error?: string;
}

/** The chains a listing's rules jump or go to; the sets and maps they look up go to `lookups`. */
function follow(objects: readonly unknown[], lookups: Map<string, "set" | "map">): string[] {
  const chains: string[] = [];
  for (const o of objects) {
    const refs = referencesOf((o as { rule?: { expr?: unknown } }).rule?.expr);
    chains.push(...refs.chains);
    for (const s of refs.sets) lookups.set(s, "set");
    for (const m of refs.maps) lookups.set(m, "map");
  }
  return chains;
}

/** The path through one foreign table, breadth-first from its nat postrouting chains. */
async function walkTable(nft: Nft, base: ChainInfo[], maxChains: number): Promise<TableWalk> {
  const { family, table } = base[0]!;
  const w: TableWalk = { objects: [{ table: { family, name: table } }], unread: [], watched: [] };
  const queued = new Set(base.map((c) => c.name));
  const queue = base.map((c) => c.name);
  const lookups = new Map<string, "set" | "map">();
  let read = 0;
  for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
    if (read >= maxChains) {
      w.unread.push({ family, table, name });
      continue;
    }
    read++;
    const r = await nft.list("chain", { family, table, name });
    if (r.kind === "ok") {
      w.objects.push(...r.objects);
      w.watched.push(`${family} ${table} ${name}`);
      const next = [...new Set(follow(r.objects, lookups))].filter((c) => !queued.has(c));
      for (const c of next) queued.add(c);
      queue.push(...next);
    } else if (base.some((c) => c.name === name)) w.error ??= r.message;
    else w.unread.push({ family, table, name });
  }
  for (const [name, kind] of lookups) {
    const r = await nft.list(kind, { family, table, name });
    if (r.kind === "ok") w.objects.push(...r.objects);
    w.watched.push(`${family} ${table} ${name}`);
  }
  return w;
}

const failed = (readError: string): NftRead => ({
  snapshot: { backend: "nftables", ruleset: [], readError },
  watched: { tables: new Set(), objects: new Set() },
  hooks: new Map(),
  walks: new Map(),
});

function agentObjects(r: NftList): unknown[] | string {
  if (r.kind === "ok") return r.objects;
  return r.kind === "missing" ? [] : r.message;
}

/** Reads the node (see the file comment); never throws for what nft says. */
export async function readNftNode(o: NftReadOptions): Promise<NftRead> {
  const agentKey = key(o.agent);
  const skip = new Set([agentKey, ...(o.skipTables ?? [])]);
  let foreign = o.hooks ? new Map(o.hooks) : undefined;
  if (!foreign) {
    const listed = await o.nft.listChains();
    if (listed.kind !== "ok") return failed(listed.message);
    foreign = natPostroutingTables(chainsOf(listed.objects), skip);
  }
  const max = o.maxChains ?? NFT_PATH_CHAINS;
  const [agent, ...walks] = await Promise.all([
    o.readAgent?.() ?? o.nft.list("table", { family: o.agent.family, table: o.agent.table }),
    ...[...foreign].map(([k, base]) => o.reuse?.get(k) ?? walkTable(o.nft, base, max)),
  ]);
  const own = agentObjects(agent!);
  if (typeof own === "string") return failed(own);
  const hookError = walks.find((w) => w.error)?.error;
  const unread = walks.flatMap((w) => w.unread).slice(0, MAX_SNAPSHOT_CHAINS);
  const snapshot = nftSnapshotSchema.safeParse({
    backend: "nftables",
    ruleset: [...own, ...walks.flatMap((w) => w.objects)],
    ...(unread.length > 0
      ? {
          unread: unread.map((u) => ({ family: u.family, table: u.table, chain: u.name })),
          unreadNote: `more than ${o.maxChains ?? NFT_PATH_CHAINS} chains on one table's nat postrouting path, or a chain that could not be listed`,
        }
      : {}),
    ...(hookError ? { readError: hookError } : {}),
  });
  if (!snapshot.success)
    return failed(`the nat postrouting path does not fit a snapshot: ${zodReason(snapshot.error)}`);
  return {
    snapshot: snapshot.data,
    watched: {
      tables: new Set([agentKey, ...foreign.keys()]),
      objects: new Set(walks.flatMap((w) => w.watched)),
    },
    hooks: foreign,
    walks: new Map([...foreign.keys()].map((k, i) => [k, walks[i]!])),
  };
}
