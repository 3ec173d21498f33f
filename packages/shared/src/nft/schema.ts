// libnftables JSON (`nft -j list …`, libnftables-json(5)) as zod schemas: the objects the
// analysis reads (tables, chains, rules, sets, maps) with their fields checked, every other
// object kind kept whole, and every value bounded (limits.ts). Expressions are kept as JSON
// here; nft/parse.ts gives them meaning, and marks what it does not understand.
import { z } from "zod";
import {
  MAX_NFT_COMMENT_CHARS,
  MAX_NFT_ELEMENTS,
  MAX_NFT_JSON_DEPTH,
  MAX_NFT_NAME_CHARS,
  MAX_NFT_OBJECTS,
  MAX_NFT_RULE_EXPRS,
} from "../limits.js";

/** Address families of nftables tables (nft(8), ADDRESS FAMILIES). */
export const nftFamilySchema = z.enum(["ip", "ip6", "inet", "arp", "bridge", "netdev"]);
export type NftFamily = z.infer<typeof nftFamilySchema>;

const name = z.string().min(1).max(MAX_NFT_NAME_CHARS);
const handle = z.number().int().nonnegative();
const comment = z.string().max(MAX_NFT_COMMENT_CHARS);
const text = z.string().max(MAX_NFT_NAME_CHARS);

/** The deepest nesting of a JSON value, stopping once past `max`. */
function depthOver(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, d] = next;
    if (v === null || typeof v !== "object") continue;
    if (d > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return false;
}

/** Any JSON value nested at most MAX_NFT_JSON_DEPTH deep. */
export const nftJsonSchema = z.unknown().refine((v) => !depthOver(v, MAX_NFT_JSON_DEPTH), {
  message: `nested deeper than ${MAX_NFT_JSON_DEPTH}`,
});

export const nftTableSchema = z.looseObject({
  family: nftFamilySchema,
  name,
  handle: handle.optional(),
  comment: comment.optional(),
});

export const nftChainSchema = z.looseObject({
  family: nftFamilySchema,
  table: name,
  name,
  handle: handle.optional(),
  /** Base chains only: `filter`, `nat`, `route`. */
  type: text.optional(),
  hook: text.optional(),
  prio: z.number().int().optional(),
  policy: text.optional(),
  comment: comment.optional(),
});

export const nftRuleSchema = z.looseObject({
  family: nftFamilySchema,
  table: name,
  chain: name,
  handle: handle.optional(),
  comment: comment.optional(),
  expr: z.array(nftJsonSchema).max(MAX_NFT_RULE_EXPRS),
});

/** A set or map: `type` is one name or a concatenation; a map's values are typed by `map`. */
export const nftSetSchema = z.looseObject({
  family: nftFamilySchema,
  table: name,
  name,
  handle: handle.optional(),
  type: z.union([text, z.array(text).max(16)]),
  map: z.union([text, z.array(text).max(16)]).optional(),
  flags: z.array(text).max(16).optional(),
  elem: z.array(nftJsonSchema).max(MAX_NFT_ELEMENTS).optional(),
  comment: comment.optional(),
});

export type NftTableJson = z.infer<typeof nftTableSchema>;
export type NftChainJson = z.infer<typeof nftChainSchema>;
export type NftRuleJson = z.infer<typeof nftRuleSchema>;
export type NftSetJson = z.infer<typeof nftSetSchema>;

/** Object kinds nft lists besides the ones above (kept whole: the analysis reads none). */
const OTHER_KINDS = [
  "element",
  "counter",
  "quota",
  "ct helper",
  "ct timeout",
  "ct expectation",
  "limit",
  "flowtable",
  "secmark",
  "synproxy",
] as const;

/** One entry of the `nftables` array. */
export const nftObjectSchema = z.union([
  z.strictObject({ metainfo: z.looseObject({ version: text.optional() }) }),
  z.strictObject({ table: nftTableSchema }),
  z.strictObject({ chain: nftChainSchema }),
  z.strictObject({ rule: nftRuleSchema }),
  z.strictObject({ set: nftSetSchema }),
  z.strictObject({ map: nftSetSchema }),
  z.partialRecord(z.enum(OTHER_KINDS), nftJsonSchema).refine((o) => Object.keys(o).length === 1, {
    message: "one object kind per entry",
  }),
]);
export type NftObject = z.infer<typeof nftObjectSchema>;

function elementCount(objects: readonly NftObject[]): number {
  let n = 0;
  for (const o of objects) {
    if ("set" in o && o.set) n += o.set.elem?.length ?? 0;
    else if ("map" in o && o.map) n += o.map.elem?.length ?? 0;
  }
  return n;
}

/** The `nftables` array of `nft -j list …` output, bounded in objects and elements. */
export const nftObjectsSchema = z
  .array(nftObjectSchema)
  .max(MAX_NFT_OBJECTS)
  .refine((objects) => elementCount(objects) <= MAX_NFT_ELEMENTS, {
    message: `more than ${MAX_NFT_ELEMENTS} set and map elements`,
  });

/** `nft -j list …` output as printed: `{"nftables": [...]}`. */
export const nftOutputSchema = z.strictObject({ nftables: nftObjectsSchema });
