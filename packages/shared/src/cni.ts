// Windows nodes: the masquerade intent lives in the CNI config as the `ExceptionList` of an
// `OutBoundNAT` endpoint policy (HNS SNATs pod traffic to every destination except these).
// This module finds those lists in a CNI config text, computes the list a config wants, judges
// drift, and rewrites only the lists (every other byte of the file kept). Pure: no I/O.
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
//
// IPv6 is not managed on Windows: a list holding only IPv6 entries (dual-stack configs carry a
// second OutBoundNAT policy for IPv6) is reported but never rewritten, and IPv6 entries of a
// mixed list are kept when it is rewritten.
import { type Node, type ParseError, parseTree, printParseErrorCode } from "jsonc-parser";
import { type Cidr, type Family, parseCidr, parseIp, rangesCover, toRanges } from "./cidr.js";
import { LINK_LOCAL_CIDR, type MasqConfig } from "./config.js";
import type { Difference } from "./drift.js";
import type { ExceptionListSnapshot } from "./protocol.js";

export type ExceptionForm = ExceptionListSnapshot["form"];

export type CniParseResult =
  | { ok: true; plugin: string; lists: ExceptionListSnapshot[] }
  | { ok: false; error: string };

export type CniRewriteResult =
  | { ok: true; text: string; changed: boolean }
  | { ok: false; error: string };

/** CNI configs are a few KiB; anything this large is not one. */
export const MAX_CNI_CONFIG_CHARS = 1024 * 1024;
/** Bounds of the snapshot schema (protocol.ts). */
const MAX_LISTS = 64;
const MAX_ENTRIES = 4096;
const MAX_ENTRY_CHARS = 64;

const POLICY_ARRAY_KEYS = ["policies", "AdditionalArgs", "HcnPolicyArgs"] as const;

/** Thrown inside the walk and turned into `{ ok: false }` at the API boundary. */
class CniError extends Error {}

interface FoundList {
  pointer: string;
  form: ExceptionForm;
  /** The value node: an array, or `null` (read as an empty list). */
  node: Node;
  /** The object holding the list property (for layout decisions). */
  holder: Node;
  entries: string[];
}

interface Located {
  bom: string;
  body: string;
  plugin: string;
  lists: FoundList[];
}

// ---------------------------------------------------------------------------------------------
// Reading

function escapePointer(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

function child(pointer: string, segment: string | number): string {
  return `${pointer}/${escapePointer(segment)}`;
}

function where(pointer: string): string {
  return pointer === "" ? "the top level" : pointer;
}

function kindOf(node: Node): string {
  return node.type === "property" ? "property" : node.type;
}

/** The property of an object whose key matches `name` case-insensitively; ambiguity is refused. */
function prop(obj: Node, name: string, pointer: string): Node | undefined {
  const lower = name.toLowerCase();
  const matches = (obj.children ?? []).filter((p) => {
    const key = p.children?.[0]?.value;
    return typeof key === "string" && key.toLowerCase() === lower;
  });
  if (matches.length > 1) {
    const keys = matches.map((p) => JSON.stringify(p.children?.[0]?.value)).join(", ");
    throw new CniError(
      `${where(pointer)} has the key ${keys} more than once (differing only in case or repeated); which one applies is ambiguous`,
    );
  }
  return matches[0];
}

function keyOf(p: Node): string {
  return p.children![0]!.value as string;
}

function propValue(p: Node): Node | undefined {
  return p.children?.[1];
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

const SYNTAX_HINTS: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a property name (trailing comma?)",
  ValueExpected: "expected a value (trailing comma or truncated file?)",
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' (missing comma?)",
  CloseBraceExpected: "expected '}' (truncated file?)",
  CloseBracketExpected: "expected ']' (truncated file?)",
  EndOfFileExpected: "unexpected text after the end of the JSON value",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "unterminated comment",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid \\u escape",
  InvalidEscapeCharacter: "invalid escape character",
  InvalidCharacter: "control character in a string",
};

function syntaxError(body: string, e: ParseError): string {
  const { line, column } = lineCol(body, e.offset);
  const name = printParseErrorCode(e.error);
  return `not valid JSON at line ${line}, column ${column}: ${SYNTAX_HINTS[name] ?? name}`;
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
      const ep = child(ap, i);
      if (el.type !== "object") throw new CniError(`${ep} must be an object, got ${kindOf(el)}`);
      const nameProp = prop(el, "name", ep);
      if (!nameProp) {
        out.push(...policyLists(el, ep)); // bare {"Type": "OutBoundNAT", "Settings": {...}}
        return;
      }
      const name = propValue(nameProp)!;
      if (name.type !== "string")
        throw new CniError(`${child(ep, keyOf(nameProp))} must be a string, got ${kindOf(name)}`);
      if ((name.value as string).toLowerCase() !== "endpointpolicy") return;
      const valueProp = prop(el, "value", ep);
      const body = valueProp ? propValue(valueProp) : undefined;
      if (valueProp && body?.type === "object")
        out.push(...policyLists(body, child(ep, keyOf(valueProp))));
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

function locate(text: string): Located {
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
  const lists: FoundList[] = [];
  let plugin: string;
  const pluginsProp = prop(root, "plugins", "");
  if (pluginsProp) {
    // A .conflist: the top-level fields other than name/cniVersion are not plugin config.
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
    plugin = types[0]!;
  } else {
    plugin = walkPlugin(root, "", lists);
  }
  if (lists.length > MAX_LISTS)
    throw new CniError(
      `the file has ${lists.length} OutBoundNAT exception lists, more than ${MAX_LISTS}`,
    );
  return { bom, body, plugin, lists };
}

function failure(e: unknown): { ok: false; error: string } {
  if (e instanceof CniError) return { ok: false, error: e.message };
  // e.g. a RangeError from absurdly deep nesting
  return {
    ok: false,
    error: `could not read the CNI config: ${e instanceof Error ? e.message : String(e)}`,
  };
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

// ---------------------------------------------------------------------------------------------
// Entries and drift

export type ExceptionEntry =
  | {
      ok: true;
      cidr: Cidr;
      /** True when the text is already the canonical CIDR. */
      exact: boolean;
      /** Why the text is not canonical. */
      note?: "plain IP" | "not aligned" | "not canonical";
    }
  | { ok: false; text: string };

/**
 * Reads one ExceptionList entry leniently, as HNS does: a plain IP is a /32 (/128), a CIDR with
 * host bits set means its network (as Go's net.ParseCIDR returns it), surrounding spaces are
 * ignored. Anything else (template placeholders such as "%CLUSTER_CIDR%", "") is unreadable.
 */
export function readExceptionEntry(text: string): ExceptionEntry {
  const t = text.trim();
  if (!t.includes("/")) {
    const ip = parseIp(t);
    if (!ip) return { ok: false, text };
    const prefix = ip.family === "ipv4" ? 32 : 128;
    const r = parseCidr(`${t}/${prefix}`);
    if (!r.ok) return { ok: false, text };
    return { ok: true, cidr: r.cidr, exact: false, note: "plain IP" };
  }
  const r = parseCidr(t);
  if (r.ok) {
    const exact = r.cidr.canonical === text;
    return exact
      ? { ok: true, cidr: r.cidr, exact }
      : { ok: true, cidr: r.cidr, exact, note: "not canonical" };
  }
  if (r.reason === "misaligned" && r.suggestion) {
    const n = parseCidr(r.suggestion);
    if (n.ok) return { ok: true, cidr: { ...n.cidr, text }, exact: false, note: "not aligned" };
  }
  return { ok: false, text };
}

function familyOf(entry: string): Family | undefined {
  const r = readExceptionEntry(entry);
  return r.ok ? r.cidr.family : undefined;
}

/** A list holding IPv6 entries and no IPv4 one: the IPv6 policy of a dual-stack config. */
function isIPv6List(entries: readonly string[]): boolean {
  const families = entries.map(familyOf);
  return families.includes("ipv6") && !families.includes("ipv4");
}

/**
 * The ExceptionList a config wants on Windows: its IPv4 nonMasqueradeCIDRs in order, canonical,
 * without duplicates, then 169.254.0.0/16 unless masqLinkLocal. IPv6 CIDRs are left out (see
 * windowsDrift) and so are invalid entries (validateConfig reports those; a validated config has
 * none).
 */
export function desiredExceptions(config: MasqConfig): string[] {
  const out: string[] = [];
  for (const text of config.nonMasqueradeCIDRs) {
    const r = parseCidr(text);
    if (!r.ok || r.cidr.family !== "ipv4" || out.includes(r.cidr.canonical)) continue;
    out.push(r.cidr.canonical);
  }
  if (!config.masqLinkLocal && !out.includes(LINK_LOCAL_CIDR)) out.push(LINK_LOCAL_CIDR);
  return out;
}

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

function addTo(map: Map<string, string[]>, key: string, pointer: string): void {
  const list = map.get(key);
  if (!list) map.set(key, [pointer]);
  else if (!list.includes(pointer)) list.push(pointer);
}

/** " at /a, /b" when only some of several lists are concerned. */
function at(pointers: readonly string[], total: number): string {
  return total > 1 ? ` (${pointers.join(", ")})` : "";
}

/**
 * Desired (the config) vs observed (the lists of one CNI config file) as typed differences, most
 * severe first, scope "windows". Behaviour first, as on Linux: a desired CIDR is missing when the
 * list's entries do not cover all of its addresses, an entry is unexpected when the desired CIDRs
 * do not cover it; the same coverage written otherwise (order, duplicates, plain IPs, host bits,
 * split blocks) is only cosmetic. Every IPv4 list must match on its own.
 *
 * - no IPv4 list at all: "policy-missing", critical (see the impact text);
 * - entries that are not an IP or CIDR: "unreadable", warning;
 * - IPv6 CIDRs in the config, IPv6-only lists: "ipv6-ignored", info.
 */
export function windowsDrift(
  config: MasqConfig,
  lists: readonly ExceptionListSnapshot[],
): Difference[] {
  const scope = "windows" as const;
  const out: Difference[] = [];
  const v6Config = config.nonMasqueradeCIDRs.filter((c) => {
    const r = parseCidr(c);
    return r.ok && r.cidr.family === "ipv6";
  });
  if (v6Config.length > 0) {
    out.push({
      kind: "ipv6-ignored",
      severity: "info",
      scope,
      message: `${v6Config.join(", ")} ${v6Config.length === 1 ? "is" : "are"} IPv6: OutBoundNAT exceptions are managed for IPv4 only on Windows`,
      impact:
        "IPv6 pod traffic on this node follows the CNI config's own OutBoundNAT settings, not nonMasqueradeCIDRs",
    });
  }
  const managed = lists.filter((l) => !isIPv6List(l.exceptions));
  for (const l of lists) {
    if (managed.includes(l)) continue;
    out.push({
      kind: "ipv6-ignored",
      severity: "info",
      scope,
      message: `the IPv6 OutBoundNAT list at ${l.pointer} is left as it is`,
      impact: "none for IPv4 traffic",
      rule: l.pointer,
    });
  }
  if (managed.length === 0) {
    out.push({
      kind: "policy-missing",
      severity: "critical",
      scope,
      message:
        lists.length > 0
          ? "the CNI config has no IPv4 OutBoundNAT exception list"
          : "the CNI config has no OutBoundNAT exception list",
      impact:
        "the non-masquerade CIDRs are not applied: depending on the plugin, pod traffic is either not SNAT'd at all (it leaves with pod addresses to every destination) or SNAT'd to every destination but the plugin's own subnet",
    });
    return sortWindows(out);
  }

  const desired = desiredExceptions(config).map(
    (c) => (parseCidr(c) as { ok: true; cidr: Cidr }).cidr,
  );
  const desiredRanges = toRanges(desired);
  const missing = new Map<string, string[]>();
  const unexpected = new Map<string, string[]>();
  const unreadable = new Map<string, string[]>();
  const reasons = new Set<string>();
  for (const l of managed) {
    const read = l.exceptions.map(readExceptionEntry);
    const v4: Cidr[] = [];
    const v4Text: string[] = [];
    read.forEach((r, i) => {
      if (!r.ok) addTo(unreadable, l.exceptions[i]!, l.pointer);
      else if (r.cidr.family === "ipv4") {
        v4.push(r.cidr);
        v4Text.push(l.exceptions[i]!);
        if (r.note)
          reasons.add(
            r.note === "plain IP"
              ? "plain IPs"
              : r.note === "not aligned"
                ? "CIDRs with host bits"
                : "non-canonical CIDRs",
          );
      }
    });
    const observedRanges = toRanges(v4);
    for (const d of desired)
      if (!rangesCover(observedRanges, d)) addTo(missing, d.canonical, l.pointer);
    for (const o of v4)
      if (!rangesCover(desiredRanges, o)) addTo(unexpected, o.canonical, l.pointer);
    if (v4Text.join("\n") !== desired.map((d) => d.canonical).join("\n")) {
      const canon = v4.map((c) => c.canonical);
      const unique = [...new Set(canon)];
      if (unique.length !== canon.length) reasons.add("duplicates");
      const want = desired.map((d) => d.canonical);
      const sameSet = unique.length === want.length && unique.every((c) => want.includes(c));
      if (sameSet && unique.join("\n") !== want.join("\n")) reasons.add("other order");
      if (!sameSet) reasons.add("other blocks covering the same addresses");
    }
  }
  const total = managed.length;
  for (const [cidr, ptrs] of missing) {
    out.push({
      kind: "missing-cidr",
      severity: "critical",
      scope,
      cidr,
      message: `${cidr} is missing from the OutBoundNAT exceptions${at(ptrs, total)}`,
      impact: `traffic to ${cidr} is SNAT'd to the node address but should keep the pod address`,
      rule: ptrs.join(", "),
    });
  }
  for (const [cidr, ptrs] of unexpected) {
    out.push({
      kind: "unexpected-cidr",
      severity: "critical",
      scope,
      cidr,
      message: `${cidr} is an OutBoundNAT exception but not in the config${at(ptrs, total)}`,
      impact: `traffic to ${cidr} leaves with the pod address but should be SNAT'd to the node address`,
      rule: ptrs.join(", "),
    });
  }
  for (const [text, ptrs] of unreadable) {
    out.push({
      kind: "unreadable",
      severity: "warning",
      scope,
      message: `exception ${JSON.stringify(text)} is not an IP address or CIDR${at(ptrs, total)}`,
      impact: "HNS may reject the policy (pods on this node fail to start) or ignore the entry",
      rule: ptrs.join(", "),
    });
  }
  const behavioural = out.some((d) => d.severity !== "info");
  if (!behavioural && reasons.size > 0) {
    out.push({
      kind: "cosmetic",
      severity: "info",
      scope,
      message: `same behaviour, different text (${[...reasons].join(", ")})`,
      impact: "none: traffic is treated as desired",
    });
  }
  return sortWindows(out);
}

function sortWindows(diffs: Difference[]): Difference[] {
  return [...diffs].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}

// ---------------------------------------------------------------------------------------------
// Rewriting

interface Layout {
  eol: string;
  unit: string;
}

function detectLayout(body: string): Layout {
  const nl = body.indexOf("\n");
  const eol = nl > 0 && body[nl - 1] === "\r" ? "\r\n" : "\n";
  let tabs = 0;
  let spaced = 0;
  let minSpaces = Number.POSITIVE_INFINITY;
  for (const line of body.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("\t")) tabs++;
    else if (line.startsWith(" ")) {
      spaced++;
      const n = line.length - line.trimStart().length;
      if (line[n - 1] === " " && !line.slice(0, n).includes("\t"))
        minSpaces = Math.min(minSpaces, n);
    }
  }
  if (tabs > spaced) return { eol, unit: "\t" };
  return { eol, unit: Number.isFinite(minSpaces) ? " ".repeat(Math.min(minSpaces, 8)) : "  " };
}

function lineIndent(body: string, offset: number): string {
  const start = body.lastIndexOf("\n", offset - 1) + 1;
  return /^[ \t]*/.exec(body.slice(start, offset))![0];
}

/** The new array text, in the layout of the array it replaces (or of the file, for `[]`/null). */
function renderList(
  body: string,
  l: FoundList,
  entries: readonly string[],
  layout: Layout,
): string {
  const items = entries.map((e) => JSON.stringify(e));
  if (items.length === 0) return "[]";
  const holderText = body.slice(l.holder.offset, l.holder.offset + l.holder.length);
  const compact = !/[,:][ \t\r\n]/.test(holderText);
  const old = l.node.type === "array" ? (l.node.children ?? []) : [];
  if (old.length > 0) {
    const first = old[0]!;
    const last = old[old.length - 1]!;
    const leading = body.slice(l.node.offset + 1, first.offset);
    const trailing = body.slice(last.offset + last.length, l.node.offset + l.node.length - 1);
    let sep: string;
    if (old.length >= 2) sep = body.slice(first.offset + first.length, old[1]!.offset);
    else if (leading.includes("\n")) sep = `,${leading}`;
    else sep = compact ? "," : ", ";
    return `[${leading}${items.join(sep)}${trailing}]`;
  }
  const inner =
    l.node.type === "array" ? body.slice(l.node.offset + 1, l.node.offset + l.node.length - 1) : "";
  if (inner.includes("\n") || holderText.includes("\n")) {
    const base = lineIndent(body, l.node.offset);
    const lead = `${layout.eol}${base}${layout.unit}`;
    return `[${lead}${items.join(`,${lead}`)}${layout.eol}${base}]`;
  }
  const pad = inner.length > 0 ? " " : "";
  return `[${pad}${items.join(compact ? "," : ", ")}${pad}]`;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Replaces every IPv4 OutBoundNAT exception list of a CNI config text with `exceptions` (IPv6
 * entries already in a list are kept after them; IPv6-only lists are left alone). Only the bytes
 * of the replaced arrays change: keys, their order, other fields, spacing, indentation and line
 * endings stay as they were, and a new array follows the layout of the one it replaces. A list
 * that already holds exactly `exceptions` is not touched; `changed` is false when nothing was.
 *
 * Refuses (ok: false, no text) a file parseCniConfig refuses, a file without an IPv4 OutBoundNAT
 * list, and `exceptions` that are not IP addresses or aligned CIDRs. Never throws.
 */
export function rewriteExceptionLists(
  text: string,
  exceptions: readonly string[],
): CniRewriteResult {
  try {
    if (!Array.isArray(exceptions))
      return { ok: false, error: "the exceptions must be a list of CIDR strings" };
    for (const e of exceptions) {
      if (typeof e !== "string" || e.length > MAX_ENTRY_CHARS || !(parseCidr(e).ok || parseIp(e))) {
        return {
          ok: false,
          error: `refusing to write ${JSON.stringify(e)}: not an IP address or an aligned CIDR`,
        };
      }
    }
    const loc = locate(text);
    const managed = loc.lists.filter((l) => !isIPv6List(l.entries));
    if (managed.length === 0) {
      return {
        ok: false,
        error:
          loc.lists.length > 0
            ? "the CNI config has no IPv4 OutBoundNAT exception list to rewrite (only IPv6 ones)"
            : "the CNI config has no OutBoundNAT exception list to rewrite",
      };
    }
    const wanted = new Set(
      exceptions.map((e) => (readExceptionEntry(e) as { ok: true; cidr: Cidr }).cidr.canonical),
    );
    const layout = detectLayout(loc.body);
    const edits: { offset: number; length: number; content: string }[] = [];
    const expected = new Map<string, string[]>();
    for (const l of managed) {
      const kept = l.entries.filter((e) => {
        const r = readExceptionEntry(e);
        return r.ok && r.cidr.family === "ipv6" && !wanted.has(r.cidr.canonical);
      });
      const next = [...exceptions, ...kept];
      expected.set(l.pointer, next);
      if (sameStrings(l.entries, next)) continue;
      edits.push({
        offset: l.node.offset,
        length: l.node.length,
        content: renderList(loc.body, l, next, layout),
      });
    }
    if (edits.length === 0) return { ok: true, text, changed: false };
    let body = loc.body;
    for (const e of [...edits].sort((a, b) => b.offset - a.offset)) {
      body = body.slice(0, e.offset) + e.content + body.slice(e.offset + e.length);
    }
    const out = loc.bom + body;
    // Belt and braces: the result must read back as exactly what was meant.
    const check = locate(out);
    const ok =
      check.lists.length === loc.lists.length &&
      check.lists.every(
        (l, i) =>
          l.pointer === loc.lists[i]!.pointer &&
          sameStrings(l.entries, expected.get(l.pointer) ?? loc.lists[i]!.entries),
      );
    if (!ok)
      return {
        ok: false,
        error: "internal error: the rewritten file does not read back as intended; nothing written",
      };
    return { ok: true, text: out, changed: out !== text };
  } catch (e) {
    return failure(e);
  }
}
