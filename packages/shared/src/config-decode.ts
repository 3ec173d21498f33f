// Reading the ConfigMap `config` text exactly as upstream ip-masq-agent does (syncConfig in
// cmd/ip-masq-agent): k8s.io/apimachinery's ToJSON (text starting with `{` is taken as JSON,
// anything else goes through sigs.k8s.io/yaml, see go-yaml.ts), then Go's encoding/json
// Unmarshal into a MasqConfig that already holds the defaults. Go's decoder rules kept here:
// keys match exactly, then case-insensitively; each member is applied in turn (duplicates too);
// null leaves a bool, int or string field alone and empties the list; a list is decoded into
// the default slice's own elements, so a null item keeps the element already there; type errors
// use Go's wording.
import {
  type AgentFlags,
  type ConfigResult,
  DEFAULT_FLAGS,
  defaultConfig,
  type Issue,
  type MasqConfig,
  validateConfig,
} from "./config.js";
import { parseGoDuration } from "./duration.js";
import { type GoJson, goJsonOf, goJsonText, hasJsonPrefix, parseGoJsonText } from "./go-json.js";
import { GoYamlError, goYamlToJson } from "./go-yaml.js";

type Field = keyof MasqConfig;
const FIELDS: readonly Field[] = [
  "nonMasqueradeCIDRs",
  "masqueradeCIDRs",
  "masqLinkLocal",
  "masqLinkLocalIPv6",
  "cidrLimit",
  "resyncInterval",
];
const GO_TYPES: Record<Field, string> = {
  nonMasqueradeCIDRs: "[]string",
  masqueradeCIDRs: "[]string",
  masqLinkLocal: "bool",
  masqLinkLocalIPv6: "bool",
  cidrLimit: "int",
  resyncInterval: "string", // metav1.Duration.UnmarshalJSON decodes a string first
};
const WANTED: Record<Field, string> = {
  nonMasqueradeCIDRs: "a list of CIDR strings",
  masqueradeCIDRs: "a list of CIDR strings",
  masqLinkLocal: "true or false",
  masqLinkLocalIPv6: "true or false",
  cidrLimit: "an integer",
  resyncInterval: 'a duration string such as "60s"',
};
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/**
 * Why a mis-cased key still counts. `masqueradeCIDRs` is this product's key: upstream
 * ip-masq-agent does not read it at all, so only our own matching can be claimed for it.
 */
function keyCaseMessage(key: string, field: string): string {
  const who =
    field === "masqueradeCIDRs"
      ? "keys match case-insensitively here as upstream's do; upstream ip-masq-agent ignores masqueradeCIDRs in any case"
      : "ip-masq-agent matches keys case-insensitively";
  return `key "${key}" is read as "${field}" (${who}); write "${field}"`;
}

/** Go's bytes.EqualFold as encoding/json uses it for keys (ſ folds to s, K to k). */
const fold = (s: string) => s.toLowerCase().replace(/ſ/g, "s");

/** The field a key sets: exact name first, then case-insensitively (encoding/json). */
function fieldFor(key: string): Field | undefined {
  return FIELDS.find((f) => f === key) ?? FIELDS.find((f) => fold(f) === fold(key));
}

function shown(v: GoJson): string {
  const text = goJsonText(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Go's UnmarshalTypeError for a struct field: "json: cannot unmarshal number into ...". */
function typeError(field: Field, v: GoJson, goType = GO_TYPES[field], what?: string): Issue {
  const goValue = v.kind === "number" && field === "cidrLimit" ? `number ${v.text}` : v.kind;
  return {
    code: "type",
    message: what ?? `${field} must be ${WANTED[field]}, got ${shown(v)}`,
    value: goJsonText(v),
    upstream: `json: cannot unmarshal ${goValue} into Go struct field MasqConfig.${field} of type ${goType}`,
  };
}

type ListField = "nonMasqueradeCIDRs" | "masqueradeCIDRs";

/** A []string slice (nonMasqueradeCIDRs, masqueradeCIDRs) as Go holds it: elements past `len` stay in the backing array. */
interface GoSlice {
  backing: string[];
  len: number;
}

interface Decoding {
  config: MasqConfig;
  cidrs: GoSlice;
  /** masqueradeCIDRs: a nil slice until the key is given (undefined: absent or null). */
  exceptions?: GoSlice;
  errors: Issue[];
  warnings: Issue[];
}

function list(xs: readonly string[]): string {
  const shownItems = xs.slice(0, 8).map((x) => (x === "" ? '""' : x));
  return `[${shownItems.join(", ")}${xs.length > 8 ? `, … ${xs.length - 8} more` : ""}]`;
}

/** decodeState.array into the existing []string: elements reused, null items left as they are. */
function decodeCidrs(d: Decoding, v: GoJson, field: ListField = "nonMasqueradeCIDRs"): void {
  const set = (x: GoSlice | undefined) => {
    if (field === "nonMasqueradeCIDRs") d.cidrs = x ?? { backing: [], len: 0 };
    else d.exceptions = x;
  };
  if (v.kind === "null") {
    set(undefined);
    return;
  }
  if (v.kind !== "array") {
    d.errors.push(typeError(field, v));
    return;
  }
  const s = (field === "nonMasqueradeCIDRs" ? d.cidrs : d.exceptions) ?? { backing: [], len: 0 };
  set(s);
  const nulls: number[] = [];
  v.items.forEach((item, i) => {
    if (i >= s.backing.length) s.backing.push(""); // grown: new elements are ""
    if (i >= s.len) s.len = i + 1;
    if (item.kind === "string") s.backing[i] = item.value;
    else if (item.kind === "null") nulls.push(i);
    else
      d.errors.push(
        typeError(field, item, "string", `${field} entries must be strings, got ${shown(item)}`),
      );
  });
  const n = v.items.length;
  if (n < s.len) s.len = n;
  if (n === 0) set({ backing: [], len: 0 });
  if (nulls.length > 0) d.warnings.push(nullItems(nulls, s, field));
}

function nullItems(nulls: number[], s: GoSlice, field: ListField): Issue {
  const result = s.backing.slice(0, s.len);
  const kept = nulls.map((i) => (result[i] === "" ? '"" (not a CIDR)' : result[i]!));
  const items = nulls.map((i) => i + 1).join(", ");
  return {
    code: "null-item",
    message: `${field} ${nulls.length === 1 ? "item" : "items"} ${items} ${nulls.length === 1 ? "is" : "are"} empty (null): Go's JSON decoder keeps what the list already held there (${kept.join(", ")}), so ${field === "nonMasqueradeCIDRs" ? "ip-masq-agent uses" : "the list is"} ${list(result)}`,
    value: "null",
  };
}

function decodeField(d: Decoding, field: Field, v: GoJson): void {
  const c = d.config;
  switch (field) {
    case "nonMasqueradeCIDRs":
    case "masqueradeCIDRs":
      decodeCidrs(d, v, field);
      return;
    case "masqLinkLocal":
    case "masqLinkLocalIPv6":
      if (v.kind === "bool") c[field] = v.value;
      else if (v.kind !== "null") d.errors.push(typeError(field, v));
      return;
    case "cidrLimit": {
      if (v.kind === "null") return;
      const n = v.kind === "number" && /^-?[0-9]+$/.test(v.text) ? BigInt(v.text) : null;
      if (n === null || n < I64_MIN || n > I64_MAX) d.errors.push(typeError(field, v));
      else c.cidrLimit = Number(n);
      return;
    }
    case "resyncInterval":
      decodeDuration(d, v);
      return;
  }
}

/** metav1.Duration.UnmarshalJSON: a JSON string (null reads as ""), then time.ParseDuration. */
function decodeDuration(d: Decoding, v: GoJson): void {
  if (v.kind !== "string" && v.kind !== "null") {
    d.errors.push(typeError("resyncInterval", v));
    return;
  }
  const text = v.kind === "string" ? v.value : "";
  const p = parseGoDuration(text);
  if (p.ok) d.config.resyncInterval = text;
  else
    d.errors.push({
      code: "duration",
      message:
        v.kind === "null"
          ? "resyncInterval is empty (null); give a duration such as 60s or leave the key out"
          : `resyncInterval "${text}" is not a duration (use e.g. 60s, 5m, 1h30m)`,
      value: text,
      upstream: p.message,
    });
}

export interface DecodeOptions {
  /** Reject keys that are not config fields (API bodies) instead of warning (ConfigMap text). */
  strictKeys?: boolean;
}

function applyMembers(d: Decoding, entries: [string, GoJson][], opts: DecodeOptions): Field[] {
  const given = new Map<Field, string[]>();
  for (const [key, v] of entries) {
    const field = fieldFor(key);
    if (!field) {
      const issue: Issue = {
        code: "unknown-key",
        message: `unknown key "${key}" is ignored by ip-masq-agent`,
        value: key,
      };
      (opts.strictKeys ? d.errors : d.warnings).push(issue);
      continue;
    }
    if (field !== key)
      d.warnings.push({
        code: "key-case",
        message: keyCaseMessage(key, field),
        value: key,
        suggestion: field,
      });
    given.set(field, [...(given.get(field) ?? []), key]);
    decodeField(d, field, v);
  }
  for (const [field, keys] of given) {
    if (keys.length < 2) continue;
    d.warnings.push({
      code: "duplicate-key",
      message: `${field} is given ${keys.length} times (${keys.map((k) => `"${k}"`).join(", ")}): ip-masq-agent applies each in turn, so the last one ("${keys[keys.length - 1]}") decides`,
      value: field,
    });
  }
  return [...given.keys()];
}

/** Go's json.Unmarshal of `value` into NewMasqConfig(flags), then our checks (validateConfig). */
export function decodeConfigJson(
  value: GoJson,
  flags: AgentFlags = DEFAULT_FLAGS,
  opts: DecodeOptions = {},
): ConfigResult {
  const config = defaultConfig(flags);
  const d: Decoding = {
    config,
    cidrs: { backing: [...config.nonMasqueradeCIDRs], len: config.nonMasqueradeCIDRs.length },
    errors: [],
    warnings: [],
  };
  let keys: Field[] = [];
  if (value.kind === "object") keys = applyMembers(d, value.entries, opts);
  else if (value.kind !== "null")
    d.errors.push({
      code: "type",
      message: `the config must be a mapping of keys such as nonMasqueradeCIDRs, got ${value.kind}`,
      upstream: `json: cannot unmarshal ${value.kind} into Go value of type main.MasqConfig`,
    });
  config.nonMasqueradeCIDRs = d.cidrs.backing.slice(0, d.cidrs.len);
  if (d.exceptions) config.masqueradeCIDRs = d.exceptions.backing.slice(0, d.exceptions.len);
  // Upstream stops at its first error; every error is named here (a field that failed to
  // decode keeps its default, so it adds nothing more).
  const checked = validateConfig(config, flags);
  const errors = [...checked.errors, ...d.errors];
  const warnings = [...d.warnings, ...checked.warnings];
  if (errors.length > 0) return { ok: false, errors, warnings };
  return { ok: true, config, warnings, keys };
}

/** Applies a JavaScript value (an API body's config object) as upstream's json.Unmarshal would. */
export function decodeConfigValue(
  value: unknown,
  flags: AgentFlags = DEFAULT_FLAGS,
  opts: DecodeOptions = {},
): ConfigResult {
  return decodeConfigJson(goJsonOf(value), flags, opts);
}

function syntaxIssue(message: string, go: boolean): Issue {
  return {
    code: "syntax",
    message: `the config is not valid ${go ? "for ip-masq-agent" : "YAML or JSON"}: ${message}`,
    ...(go ? { upstream: message } : {}),
  };
}

function jsonSyntaxIssue(message: string): Issue {
  return {
    code: "syntax",
    message: `the config starts with "{", so ip-masq-agent reads it as JSON: ${message}. Quote every key and string, or write it as block YAML`,
  };
}

/**
 * Parses the ConfigMap `config` text as upstream does: text starting with `{` (after spaces) is
 * JSON and must be strict JSON (a YAML flow mapping such as `{a: 1}` is refused, as upstream
 * refuses it); anything else is YAML read by go-yaml v2 (go-yaml.ts).
 */
export function parseConfigText(text: string, flags: AgentFlags = DEFAULT_FLAGS): ConfigResult {
  if (hasJsonPrefix(text)) {
    const j = parseGoJsonText(text);
    if (!j.ok) return { ok: false, errors: [jsonSyntaxIssue(j.message)], warnings: [] };
    return decodeConfigJson(j.value, flags);
  }
  let converted: ReturnType<typeof goYamlToJson>;
  try {
    converted = goYamlToJson(text);
  } catch (e) {
    if (!(e instanceof GoYamlError)) throw e;
    return { ok: false, errors: [syntaxIssue(e.message, e.go)], warnings: [] };
  }
  const r = decodeConfigJson(converted.value, flags);
  const dup: Issue[] = converted.duplicates.map((k) => ({
    code: "duplicate-key",
    message: `key "${k}" appears more than once in one mapping: ip-masq-agent's YAML reader keeps the last one`,
    value: k,
  }));
  return dup.length > 0 ? { ...r, warnings: [...dup, ...r.warnings] } : r;
}
