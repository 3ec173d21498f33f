// `nft -j list …` output (libnftables-json(5)) → a typed model: tables with their chains (base
// chains with hook, priority and policy), rules in order, sets and maps with their elements.
// Validated with zod first (schema.ts, bounded); never throws. Rules keep their expressions as
// JSON: translate.ts gives them meaning and marks what it does not understand, so nothing is
// dropped and nothing unknown passes as understood.
import { zodReason } from "../zod-error.js";
import {
  type NftFamily,
  type NftObject,
  type NftRuleJson,
  type NftSetJson,
  nftObjectsSchema,
} from "./schema.js";

export interface NftBaseChain {
  /** `filter`, `nat`, `route`. */
  type: string;
  hook: string;
  priority: number;
  /** `accept` when nft printed none. */
  policy: string;
}

export interface NftRule {
  handle?: number;
  comment?: string;
  expr: readonly unknown[];
}

export interface NftChain {
  name: string;
  handle?: number;
  base?: NftBaseChain;
  rules: NftRule[];
}

export interface NftSet {
  name: string;
  kind: "set" | "map";
  /** One type, or the parts of a concatenation (`ipv4_addr . inet_proto . inet_service`). */
  type: string[];
  /** A map's value type (`verdict` for a verdict map). */
  map?: string[];
  flags: string[];
  elem: readonly unknown[];
}

export interface NftTable {
  family: NftFamily;
  name: string;
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  /** Objects of the table the analysis does not read (counters, quotas, flowtables, …). */
  other: string[];
}

export interface NftParseError {
  /** Where: "inet ip_masq_agent postrouting", or the object's index in the list. */
  at: string;
  reason: string;
}

export interface NftRuleset {
  /** By `family name`, e.g. "inet ip_masq_agent", in the order listed. */
  tables: Map<string, NftTable>;
  /** The nft version in the metainfo, when present. */
  version?: string;
  errors: NftParseError[];
}

export function tableKey(family: string, name: string): string {
  return `${family} ${name}`;
}

function tableOf(rs: NftRuleset, family: NftFamily, name: string): NftTable {
  const key = tableKey(family, name);
  let t = rs.tables.get(key);
  if (!t) {
    t = { family, name, chains: new Map(), sets: new Map(), other: [] };
    rs.tables.set(key, t);
  }
  return t;
}

function chainOf(t: NftTable, name: string): NftChain {
  let c = t.chains.get(name);
  if (!c) {
    c = { name, rules: [] };
    t.chains.set(name, c);
  }
  return c;
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function addSet(rs: NftRuleset, s: NftSetJson, kind: "set" | "map"): void {
  const t = tableOf(rs, s.family, s.table);
  if (t.sets.has(s.name))
    rs.errors.push({
      at: tableKey(s.family, `${s.table} ${s.name}`),
      reason: `${kind} listed twice`,
    });
  t.sets.set(s.name, {
    name: s.name,
    kind,
    type: list(s.type),
    ...(s.map !== undefined ? { map: list(s.map) } : {}),
    flags: s.flags ?? [],
    elem: s.elem ?? [],
  });
}

function addRule(rs: NftRuleset, r: NftRuleJson): void {
  const t = tableOf(rs, r.family, r.table);
  chainOf(t, r.chain).rules.push({
    ...(r.handle !== undefined ? { handle: r.handle } : {}),
    ...(r.comment !== undefined ? { comment: r.comment } : {}),
    expr: r.expr,
  });
}

type NftChainJson = Extract<NftObject, { chain: unknown }>["chain"];

/** A chain, with its hook when it is a base chain. */
function addChain(rs: NftRuleset, chain: NftChainJson): void {
  const c = chainOf(tableOf(rs, chain.family, chain.table), chain.name);
  c.handle = chain.handle;
  const { type, hook, prio, policy } = chain;
  if (type !== undefined && hook !== undefined && prio !== undefined)
    c.base = { type, hook, priority: prio, policy: policy ?? "accept" };
}

/** Any other object of a table (flowtable, counter, quota…): named, not modelled. */
function addOther(rs: NftRuleset, o: NftObject): void {
  const [kind, body] = Object.entries(o)[0] ?? [];
  const b = body as { family?: NftFamily; table?: string; name?: string } | undefined;
  if (kind && b?.family && b.table)
    tableOf(rs, b.family, b.table).other.push(`${kind} ${b.name ?? ""}`.trim());
}

function addObject(rs: NftRuleset, o: NftObject): void {
  if ("metainfo" in o && o.metainfo) rs.version = o.metainfo.version;
  else if ("table" in o && o.table) tableOf(rs, o.table.family, o.table.name);
  else if ("chain" in o && o.chain) addChain(rs, o.chain);
  else if ("rule" in o && o.rule) addRule(rs, o.rule);
  else if ("set" in o && o.set) addSet(rs, o.set, "set");
  else if ("map" in o && o.map) addSet(rs, o.map, "map");
  else addOther(rs, o);
}

/**
 * Parses the `nftables` array of `nft -j` output (or the whole `{"nftables": [...]}` object).
 * Input that does not match the schema gives an empty ruleset and one error naming why.
 */
export function parseNftJson(input: unknown): NftRuleset {
  const rs: NftRuleset = { tables: new Map(), errors: [] };
  const objects =
    input !== null && typeof input === "object" && !Array.isArray(input) && "nftables" in input
      ? (input as { nftables: unknown }).nftables
      : input;
  const parsed = nftObjectsSchema.safeParse(objects);
  if (!parsed.success) {
    rs.errors.push({ at: "input", reason: `not nft -j output: ${zodReason(parsed.error)}` });
    return rs;
  }
  for (const o of parsed.data) addObject(rs, o);
  return rs;
}

/** Parses `nft -j` text; JSON errors become the ruleset's one error. */
export function parseNftText(text: string): NftRuleset {
  try {
    return parseNftJson(JSON.parse(text));
  } catch (e) {
    return {
      tables: new Map(),
      errors: [{ at: "input", reason: `not JSON: ${(e as Error).message}` }],
    };
  }
}

/** Base chains on a hook of a table type, lowest priority first (the order the kernel runs them). */
export function baseChainsOn(
  rs: NftRuleset,
  hook: string,
  type: string,
): { table: NftTable; chain: NftChain }[] {
  const out: { table: NftTable; chain: NftChain }[] = [];
  for (const table of rs.tables.values())
    for (const chain of table.chains.values())
      if (chain.base?.hook === hook && chain.base.type === type) out.push({ table, chain });
  return out.sort((a, b) => a.chain.base!.priority - b.chain.base!.priority);
}
