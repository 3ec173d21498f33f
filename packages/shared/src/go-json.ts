// JSON values as Go's encoding/json decoder meets them in upstream ip-masq-agent: object members
// in the order they are decoded, duplicates kept (Go applies each in turn), numbers as their JSON
// text (Go's type errors quote it). Built from ConfigMap text (go-yaml.ts, or parseGoJsonText for
// text that k8s.io/apimachinery's ToJSON passes through as JSON) or from a JavaScript value.
import { type ParseError, parseTree, type Node as TreeNode } from "jsonc-parser";
import { syntaxError } from "./cni/json-tree.js";

export type GoJson =
  | { kind: "null" }
  | { kind: "bool"; value: boolean }
  | { kind: "number"; text: string }
  | { kind: "string"; value: string }
  | { kind: "array"; items: GoJson[] }
  | { kind: "object"; entries: [string, GoJson][] };

export const GO_NULL: GoJson = { kind: "null" };

export type GoJsonParse = { ok: true; value: GoJson } | { ok: false; message: string };

/** unicode.IsSpace, which apimachinery trims before looking for the JSON prefix `{`. */
const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/;

/** k8s.io/apimachinery/pkg/util/yaml.IsJSONBuffer: such text skips the YAML conversion. */
export function hasJsonPrefix(text: string): boolean {
  return text.slice(GO_SPACE.exec(text)![0].length).startsWith("{");
}

/**
 * encoding/json's text for a float64 (json.Marshal): the shortest decimal that reads back,
 * exponent form below 1e-6 and from 1e21 (as JavaScript's own), `-0` kept. NaN and ±Inf
 * have none: json.Marshal fails with "json: unsupported value: NaN".
 */
export function goFloatText(n: number): string | null {
  if (!Number.isFinite(n)) return null;
  return Object.is(n, -0) ? "-0" : String(n);
}

/** Go's text for a float Marshal refuses: "NaN", "+Inf", "-Inf". */
export function goFloatName(n: number): string {
  return Number.isNaN(n) ? "NaN" : n > 0 ? "+Inf" : "-Inf";
}

function fromTree(text: string, n: TreeNode): GoJson {
  switch (n.type) {
    case "object":
      return {
        kind: "object",
        entries: (n.children ?? []).map((p) => [
          p.children![0]!.value as string,
          fromTree(text, p.children![1]!),
        ]),
      };
    case "array":
      return { kind: "array", items: (n.children ?? []).map((c) => fromTree(text, c)) };
    case "string":
      return { kind: "string", value: n.value as string };
    case "number":
      return { kind: "number", text: text.slice(n.offset, n.offset + n.length) };
    case "boolean":
      return { kind: "bool", value: n.value as boolean };
    default:
      return GO_NULL;
  }
}

/** Strict JSON (no comments, no trailing commas, nothing after the value), members in order. */
export function parseGoJsonText(text: string): GoJsonParse {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  if (errors.length > 0 || !root) {
    const e = errors[0];
    return { ok: false, message: e ? syntaxError(text, e) : "no JSON value" };
  }
  try {
    JSON.parse(text); // what jsonc-parser tolerates and Go does not (control characters...)
  } catch (e) {
    return { ok: false, message: `not valid JSON: ${(e as Error).message}` };
  }
  return { ok: true, value: fromTree(text, root) };
}

/** A JavaScript value (an API body's config object) as the JSON Go would read. */
export function goJsonOf(v: unknown): GoJson {
  if (v === null || v === undefined) return GO_NULL;
  if (typeof v === "boolean") return { kind: "bool", value: v };
  if (typeof v === "number") return { kind: "number", text: goFloatText(v) ?? "null" };
  if (typeof v === "string") return { kind: "string", value: v };
  if (Array.isArray(v)) return { kind: "array", items: v.map(goJsonOf) };
  if (typeof v === "object")
    return {
      kind: "object",
      entries: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, goJsonOf(x)]),
    };
  return GO_NULL;
}

/** Compact JSON text of the value (numbers as written), for messages. */
export function goJsonText(v: GoJson): string {
  switch (v.kind) {
    case "null":
      return "null";
    case "bool":
      return String(v.value);
    case "number":
      return v.text;
    case "string":
      return JSON.stringify(v.value);
    case "array":
      return `[${v.items.map(goJsonText).join(",")}]`;
    case "object":
      return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${goJsonText(x)}`).join(",")}}`;
  }
}
