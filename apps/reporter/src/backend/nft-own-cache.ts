// The agent's own table between reads while `nft monitor` follows the node. `nft list table` of
// even a tiny table costs nft 1.0.6 a dump of every chain of the node (~36 ms of CPU beside a
// 5,000-service kube-proxy table), while listing one set or chain of it costs ~4 ms (bench/).
// So a read after a hand edit lists only what the monitor said changed — the set whose elements
// changed, the chain whose rules changed — and puts it in place in the last listing, which is
// then exactly what `nft list table` prints (the integration test compares the two). Anything
// else on the table (a set, chain or other object added or deleted, lost events, a set whose
// elements change without events) lists the table whole.
import type { MonitorEvent } from "../watcher.js";
import type { Nft, NftList } from "./nft-exec.js";

/** An object of the table listed on its own: "set NAME" (a set or map) or "chain NAME". */
export type OwnKey = `${"set" | "chain"} ${string}`;

/** What an event on the agent's table makes stale: one object, or the whole table. */
export function ownEventEffect(ev: MonitorEvent): OwnKey | "whole" {
  if (ev.kind === "rule" && ev.chain !== undefined) {
    if (ev.object === "element" || ev.object === "setelem") return `set ${ev.chain}`;
    if (ev.object === "rule") return `chain ${ev.chain}`;
  }
  return "whole";
}

type Entry = [kind: string, value: Record<string, unknown>];
const entryOf = (o: unknown): Entry | undefined => {
  const [kind, v] = Object.entries((o ?? {}) as object)[0] ?? [];
  return kind && v && typeof v === "object" ? [kind, v as Record<string, unknown>] : undefined;
};

/**
 * Elements that change with no monitor event: a set with timeouts (elements expire) or one the
 * packet path updates (`dynamic`). Such a set is listed whole every read.
 */
function eventless(set: Record<string, unknown>): boolean {
  const flags = Array.isArray(set.flags) ? set.flags : [];
  return flags.includes("timeout") || flags.includes("dynamic") || "timeout" in set;
}

/** Whether a listing holds a set or map whose elements change without monitor events. */
export function hasEventlessSet(listing: readonly unknown[]): boolean {
  return listing.some((o) => {
    const e = entryOf(o);
    return (e?.[0] === "set" || e?.[0] === "map") && eventless(e[1]);
  });
}

/** The keys of a listing whose objects can be listed on their own; undefined if one cannot. */
export function ownKeys(listing: readonly unknown[]): Set<OwnKey> | undefined {
  const keys = new Set<OwnKey>();
  for (const o of listing) {
    const e = entryOf(o);
    if (!e) return undefined;
    const [kind, v] = e;
    if ((kind === "set" || kind === "map") && !eventless(v)) keys.add(`set ${String(v.name)}`);
    else if (kind === "chain") keys.add(`chain ${String(v.name)}`);
    else if (kind === "set" || kind === "map") return undefined;
  }
  return keys;
}

/**
 * `listing` (a whole `nft -j list table`, as nft orders it: the table, sets and maps, chains,
 * then every chain's rules in chain order) with one object replaced by `fresh`, its own listing
 * (a set or map; or a chain and its rules). Undefined when the result could differ from a whole
 * listing: the object is not there, or a chain had no rules before (their place is unknown).
 */
export function patchListing(
  listing: readonly unknown[],
  key: OwnKey,
  fresh: readonly unknown[],
): unknown[] | undefined {
  const [what, ...rest] = key.split(" ");
  const name = rest.join(" ");
  const decl = (o: unknown) => {
    const e = entryOf(o);
    if (!e || e[1].name !== name) return false;
    return what === "set" ? e[0] === "set" || e[0] === "map" : e[0] === "chain";
  };
  const at = listing.findIndex(decl);
  const freshDecl = fresh.filter(decl);
  if (at < 0 || freshDecl.length !== 1) return undefined;
  const out = [...listing];
  out[at] = freshDecl[0];
  if (what === "set") return fresh.length === 1 ? out : undefined;
  const ruleOf = (o: unknown) => {
    const e = entryOf(o);
    return e?.[0] === "rule" && e[1].chain === name;
  };
  const first = out.findIndex(ruleOf);
  if (first < 0) return undefined;
  const kept = out.filter((o) => !ruleOf(o));
  kept.splice(first, 0, ...fresh.filter(ruleOf));
  return fresh.every((o) => decl(o) || ruleOf(o)) ? kept : undefined;
}

/** One read's view of the cache: what it lists, and what events touched while it ran. */
export interface OwnReadToken {
  /** The objects to list and put in place; undefined: the whole table. */
  keys?: OwnKey[];
  base?: readonly unknown[];
  touched: Set<OwnKey | "whole">;
}

/**
 * The cache: the last listing, the objects events made stale since, and the reads in progress
 * (an event during a read keeps what it touched stale after that read). Without a following
 * monitor every read lists the table whole.
 */
export function ownTableCache() {
  let listing: unknown[] | undefined;
  let stale = new Set<OwnKey>();
  let whole = true;
  let following = false;
  const pending = new Set<OwnReadToken>();
  const mark = (k: OwnKey | "whole") => {
    if (k === "whole") whole = true;
    else stale.add(k);
    for (const p of pending) p.touched.add(k);
  };
  return {
    begin(): OwnReadToken {
      const token: OwnReadToken = { touched: new Set() };
      if (following && !whole && listing) {
        token.keys = [...stale];
        token.base = listing;
      }
      pending.add(token);
      return token;
    },
    /** A read ended: `result` is what it listed (whole or patched), undefined when it failed. */
    store(token: OwnReadToken, result: unknown[] | undefined) {
      pending.delete(token);
      if (!following || !result) return;
      const keys = ownKeys(result);
      if (!keys) {
        whole = true;
        return;
      }
      listing = result;
      const done = new Set(token.keys ?? [...stale]);
      stale = new Set([...stale].filter((k) => !done.has(k) || token.touched.has(k)));
      whole = token.touched.has("whole");
    },
    note(ev: MonitorEvent) {
      const k = ownEventEffect(ev);
      // An object the listing does not hold (or cannot hold apart): the table whole.
      mark(k !== "whole" && listing && ownKeys(listing)?.has(k) ? k : "whole");
    },
    clear(follow: boolean) {
      listing = undefined;
      stale = new Set();
      mark("whole");
      following = follow;
    },
  };
}

export type OwnTableCache = ReturnType<typeof ownTableCache>;

/**
 * The agent's table for one read: the token's stale objects listed and put in place in the
 * last listing, or the table whole (no cache, a patch that does not fit, an object gone).
 */
export async function readOwnTable(
  nft: Nft,
  table: { family: string; table: string },
  token: OwnReadToken,
): Promise<NftList> {
  const whole = () => nft.list("table", table);
  if (!token.keys || !token.base) return whole();
  let out: unknown[] = [...token.base];
  for (const key of token.keys) {
    const [what, ...rest] = key.split(" ");
    const name = rest.join(" ");
    const kind = what === "chain" ? "chain" : mapOrSet(out, name);
    const r = await nft.list(kind, { ...table, name });
    if (r.kind !== "ok") return whole();
    const patched = patchListing(out, key, r.objects);
    if (!patched) return whole();
    out = patched;
  }
  return { kind: "ok", objects: out };
}

/** Whether `name` is a map or a set in the listing (nft lists each by its own command). */
function mapOrSet(listing: readonly unknown[], name: string): "set" | "map" {
  const e = listing.map(entryOf).find((x) => x && x[0] === "map" && x[1].name === name);
  return e ? "map" : "set";
}
