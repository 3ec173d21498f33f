// Finding the OutBoundNAT exception lists in a CNI config text.
//
// Where lists are searched (keys matched case-insensitively, as Go's encoding/json does):
//   plugin objects: the top level of a `.conf`, or every element of `plugins` of a `.conflist`,
//     plus the `delegate` object of each (flannel wraps the real plugin there);
//   policy arrays of a plugin object: `policies` (win-bridge, win-overlay, Calico),
//     `AdditionalArgs` (azure-vnet, sdnbridge/sdnoverlay used with containerd) and
//     `HcnPolicyArgs` (win-bridge/win-overlay HNS v2 policies);
//   policy elements: `{"name": "EndpointPolicy", "value": {...}}` (name compared
//     case-insensitively; other names are ignored like the plugins do) or a bare `{"Type": ...}`;
//   policy bodies whose `Type` is `OutBoundNAT` (case-insensitive): `ExceptionList` (HNS v1)
//     and `Settings.Exceptions` (HNS v2; `Settings.ExceptionList` as written by some templates).
//
// `form` of a reported list: "EndpointPolicy" for the HNS v1 list (`ExceptionList` directly in the
// policy body), "OutBoundNAT" for the HNS v2 list (`Settings.Exceptions`), wrapped or bare.
import { type Node, type ParseError, parseTree } from "jsonc-parser";
import {
  MAX_EXCEPTION_ENTRIES,
  MAX_EXCEPTION_ENTRY_CHARS,
  MAX_EXCEPTION_LISTS,
} from "../limits.js";
import type { ExceptionListSnapshot } from "../protocol.js";
import {
  CniError,
  child,
  failure,
  keyOf,
  kindOf,
  prop,
  propValue,
  syntaxError,
  where,
} from "./json-tree.js";

export type ExceptionForm = ExceptionListSnapshot["form"];

export type CniParseResult =
  | { ok: true; plugin: string; lists: ExceptionListSnapshot[] }
  | { ok: false; error: string };

/** CNI configs are a few KiB; anything this large is not one. */
export const MAX_CNI_CONFIG_CHARS = 1024 * 1024;
/** Bounds of the snapshot schema (limits.ts). */
const MAX_LISTS = MAX_EXCEPTION_LISTS;
const MAX_ENTRIES = MAX_EXCEPTION_ENTRIES;
export const MAX_ENTRY_CHARS = MAX_EXCEPTION_ENTRY_CHARS;

const POLICY_ARRAY_KEYS = ["policies", "AdditionalArgs", "HcnPolicyArgs"] as const;

export interface FoundList {
  pointer: string;
  form: ExceptionForm;
  /** The value node: an array, or `null` (read as an empty list). */
  node: Node;
  /** The object holding the list property (for layout decisions). */
  holder: Node;
  entries: string[];
}

export interface Located {
  bom: string;
  body: string;
  plugin: string;
  lists: FoundList[];
}

function readList(holder: Node, p: Node, pointer: string, form: ExceptionForm): FoundList {
  const node = propValue(p)!;
  if (node.type === "null") return { pointer, form, node, holder, entries: [] };
  if (node.type !== "array")
    throw new CniError(`${pointer} must be a list of CIDR strings, got ${kindOf(node)}`);
  const items = node.children ?? [];
  if (items.length > MAX_ENTRIES)
    throw new CniError(`${pointer} has ${items.length} entries, more than ${MAX_ENTRIES}`);
  const entries = items.map((item, i) => {
    if (item.type !== "string")
      throw new CniError(`${child(pointer, i)} is ${kindOf(item)}, expected a CIDR string`);
    return item.value as string;
  });
  return { pointer, form, node, holder, entries };
}

/** The exception lists of one OutBoundNAT policy body (anything else yields none). */
function policyLists(body: Node, pointer: string): FoundList[] {
  const typeProp = prop(body, "Type", pointer);
  const type = typeProp ? propValue(typeProp) : undefined;
  if (type?.type !== "string" || (type.value as string).toLowerCase() !== "outboundnat") return [];
  const out: FoundList[] = [];
  const v1 = prop(body, "ExceptionList", pointer);
  if (v1) out.push(readList(body, v1, child(pointer, keyOf(v1)), "EndpointPolicy"));
  const settingsProp = prop(body, "Settings", pointer);
  const settings = settingsProp ? propValue(settingsProp) : undefined;
  if (settingsProp && settings && settings.type !== "null") {
    const sp = child(pointer, keyOf(settingsProp));
    if (settings.type !== "object")
      throw new CniError(`${sp} must be an object, got ${kindOf(settings)}`);
    for (const key of ["Exceptions", "ExceptionList"]) {
      const p = prop(settings, key, sp);
      if (p) out.push(readList(settings, p, child(sp, keyOf(p)), "OutBoundNAT"));
    }
  }
  return out;
}

/** The lists of one element of a policy array: wrapped in an EndpointPolicy, or bare. */
function policyElementLists(el: Node, ep: string): FoundList[] {
  if (el.type !== "object") throw new CniError(`${ep} must be an object, got ${kindOf(el)}`);
  const nameProp = prop(el, "name", ep);
  if (!nameProp) return policyLists(el, ep); // bare {"Type": "OutBoundNAT", "Settings": {...}}
  const name = propValue(nameProp)!;
  if (name.type !== "string")
    throw new CniError(`${child(ep, keyOf(nameProp))} must be a string, got ${kindOf(name)}`);
  if ((name.value as string).toLowerCase() !== "endpointpolicy") return [];
  const valueProp = prop(el, "value", ep);
  const body = valueProp ? propValue(valueProp) : undefined;
  return valueProp && body?.type === "object" ? policyLists(body, child(ep, keyOf(valueProp))) : [];
}

function pluginLists(plugin: Node, pointer: string): FoundList[] {
  const out: FoundList[] = [];
  for (const key of POLICY_ARRAY_KEYS) {
    const p = prop(plugin, key, pointer);
    if (!p) continue;
    const arr = propValue(p)!;
    const ap = child(pointer, keyOf(p));
    if (arr.type === "null") continue;
    if (arr.type !== "array")
      throw new CniError(`${ap} must be a list of policies, got ${kindOf(arr)}`);
    (arr.children ?? []).forEach((el, i) => {
      out.push(...policyElementLists(el, child(ap, i)));
    });
  }
  return out;
}

function pluginType(obj: Node, pointer: string): string {
  const p = prop(obj, "type", pointer);
  if (!p) throw new CniError(`no plugin "type" at ${where(pointer)}`);
  const v = propValue(p)!;
  if (v.type !== "string")
    throw new CniError(`${child(pointer, keyOf(p))} must be a string, got ${kindOf(v)}`);
  if ((v.value as string).trim() === "") throw new CniError(`${child(pointer, keyOf(p))} is empty`);
  return v.value as string;
}

/** A plugin object, plus its flannel-style delegate; returns "type" or "type/delegate-type". */
function walkPlugin(obj: Node, pointer: string, lists: FoundList[]): string {
  const type = pluginType(obj, pointer);
  lists.push(...pluginLists(obj, pointer));
  const dp = prop(obj, "delegate", pointer);
  const delegate = dp ? propValue(dp) : undefined;
  if (!dp || !delegate || delegate.type === "null") return type;
  const dptr = child(pointer, keyOf(dp));
  if (delegate.type !== "object")
    throw new CniError(`${dptr} must be an object, got ${kindOf(delegate)}`);
  lists.push(...pluginLists(delegate, dptr));
  return prop(delegate, "type", dptr) ? `${type}/${pluginType(delegate, dptr)}` : type;
}

/** The plugins of a `.conflist`; returns the first one's type. */
function walkPluginList(pluginsProp: Node, lists: FoundList[]): string {
  // The top-level fields other than name/cniVersion are not plugin config.
  const arr = propValue(pluginsProp)!;
  const pp = child("", keyOf(pluginsProp));
  if (arr.type !== "array")
    throw new CniError(`${pp} must be a list of plugins, got ${kindOf(arr)}`);
  const items = arr.children ?? [];
  if (items.length === 0) throw new CniError(`${pp} is empty: no plugin type`);
  const types = items.map((el, i) => {
    if (el.type !== "object")
      throw new CniError(`${child(pp, i)} must be an object, got ${kindOf(el)}`);
    return walkPlugin(el, child(pp, i), lists);
  });
  return types[0]!;
}

/** The text as a strict JSON object: byte order mark split off, size and syntax checked. */
function parseJson(text: string): { bom: string; body: string; root: Node } {
  if (typeof text !== "string") throw new CniError("the CNI config must be text");
  if (text.length > MAX_CNI_CONFIG_CHARS)
    throw new CniError(
      `the file is larger than ${MAX_CNI_CONFIG_CHARS} characters; not a CNI config`,
    );
  const bom = text.startsWith("\uFEFF") ? "\uFEFF" : "";
  const body = text.slice(bom.length);
  if (body.trim() === "") throw new CniError("the file is empty");
  const errors: ParseError[] = [];
  const root = parseTree(body, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  if (errors.length > 0) throw new CniError(syntaxError(body, errors[0]!));
  try {
    JSON.parse(body); // the plugins read the file with a strict JSON decoder
  } catch (e) {
    throw new CniError(`not valid JSON: ${(e as Error).message}`);
  }
  if (root?.type !== "object")
    throw new CniError(
      `the top level must be a JSON object, got ${root ? kindOf(root) : "nothing"}`,
    );
  return { bom, body, root };
}

/** Every exception list of a CNI config text, with the tree nodes a rewrite needs. Throws CniError. */
export function locate(text: string): Located {
  const { bom, body, root } = parseJson(text);
  const lists: FoundList[] = [];
  const pluginsProp = prop(root, "plugins", "");
  const plugin = pluginsProp ? walkPluginList(pluginsProp, lists) : walkPlugin(root, "", lists);
  if (lists.length > MAX_LISTS)
    throw new CniError(
      `the file has ${lists.length} OutBoundNAT exception lists, more than ${MAX_LISTS}`,
    );
  return { bom, body, plugin, lists };
}

function snapshotEntry(e: string): string {
  return e.length > MAX_ENTRY_CHARS ? `${e.slice(0, MAX_ENTRY_CHARS - 3)}...` : e;
}

/**
 * Parses a CNI config (`.conf` or `.conflist` JSON) and reports every OutBoundNAT exception list
 * with its JSON pointer (RFC 6901) and form. Refuses (never throws) invalid JSON (with line and
 * column), a non-object top level, a missing plugin type, wrong types in the parts it reads, and
 * keys it reads that appear twice (e.g. "policies" and "Policies"). A file without OutBoundNAT
 * policy is valid and reports no list. Entries longer than 64 characters are shortened with "..."
 * (they are never CIDRs).
 */
export function parseCniConfig(text: string): CniParseResult {
  try {
    const loc = locate(text);
    return {
      ok: true,
      plugin: loc.plugin,
      lists: loc.lists.map((l) => ({
        pointer: l.pointer,
        form: l.form,
        exceptions: l.entries.map(snapshotEntry),
      })),
    };
  } catch (e) {
    return failure(e);
  }
}
