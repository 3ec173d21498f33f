// ConfigMap YAML to the JSON upstream ip-masq-agent decodes, as sigs.k8s.io/yaml's YAMLToJSON
// makes it: go.yaml.in/yaml/v2 reads the first document into Go values (its own plain-scalar
// rules, which are not YAML 1.1's: no sexagesimal `1:30`, `0o17` and `08` are numbers, duplicate
// keys and `<<` merges overwrite), then json.Marshal writes maps with sorted keys, so upstream
// applies the keys in that order. The YAML is parsed by the `yaml` package with the failsafe
// schema (every scalar a string) and each scalar resolved here the way yaml.v2's resolve() does.
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Node,
  type Pair,
  parseAllDocuments,
  type Scalar,
  visit,
} from "yaml";
import { GO_NULL, type GoJson, goFloatName, goFloatText } from "./go-json.js";

/** A conversion failure; `go` when the text is the one upstream's libraries give. */
export class GoYamlError extends Error {
  constructor(
    message: string,
    readonly go: boolean,
  ) {
    super(message);
  }
}

type Resolved =
  | { kind: "null" }
  | { kind: "bool"; value: boolean }
  | { kind: "int"; value: bigint; unsigned: boolean }
  | { kind: "float"; value: number }
  | { kind: "string"; value: string };

const WORDS = new Map<string, Resolved>();
for (const [words, r] of [
  ["y Y yes Yes YES true True TRUE on On ON", { kind: "bool", value: true }],
  ["n N no No NO false False FALSE off Off OFF", { kind: "bool", value: false }],
  ["~ null Null NULL", { kind: "null" }],
  [".nan .NaN .NAN", { kind: "float", value: Number.NaN }],
  [".inf .Inf .INF +.inf +.Inf +.INF", { kind: "float", value: Number.POSITIVE_INFINITY }],
  ["-.inf -.Inf -.INF", { kind: "float", value: Number.NEGATIVE_INFINITY }],
] as const)
  for (const w of words.split(" ")) WORDS.set(w, r);
WORDS.set("", { kind: "null" });

const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** strconv.ParseInt/ParseUint(s, 0, 64) syntax: sign, 0x / 0b / 0o / leading-0 octal. */
function parseGoInt(s: string, signed: boolean): bigint | null {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/.exec(s);
  if (!m || (!signed && m[1] !== "")) return null;
  const body = m[2]!;
  const p = body[1]?.toLowerCase();
  const v =
    body.length > 1 && body[0] === "0"
      ? p === "x" || p === "b" || p === "o"
        ? BigInt(`0${p}${body.slice(2)}`)
        : BigInt(`0o${body.slice(1)}`)
      : BigInt(body);
  const n = m[1] === "-" ? -v : v;
  return signed ? (n >= I64_MIN && n <= I64_MAX ? n : null) : n <= U64_MAX ? n : null;
}

/** yaml.v2 resolve() for a plain scalar (tag ""). */
function resolvePlain(s: string): Resolved {
  const word = WORDS.get(s);
  if (word) return word;
  const c = s[0]!;
  if (c === ".") {
    return DOT_FLOAT.test(s) ? { kind: "float", value: Number(s) } : { kind: "string", value: s };
  }
  if (c === "+" || c === "-" || (c >= "0" && c <= "9")) {
    const plain = s.replace(/_/g, "");
    const i = parseGoInt(plain, true);
    if (i !== null) return { kind: "int", value: i, unsigned: false };
    const u = parseGoInt(plain, false);
    if (u !== null) return { kind: "int", value: u, unsigned: true };
    if (YAML_STYLE_FLOAT.test(plain) && Number.isFinite(Number(plain)))
      return { kind: "float", value: Number(plain) };
  }
  return { kind: "string", value: s };
}

const TAG = "tag:yaml.org,2002:";
const SHORT: Record<Resolved["kind"], string> = {
  null: "!!null",
  bool: "!!bool",
  int: "!!int",
  float: "!!float",
  string: "!!str",
};

function decodeBinary(s: string): string {
  try {
    const bytes = Uint8Array.from(atob(s.replace(/\s/g, "")), (ch) => ch.charCodeAt(0));
    return new TextDecoder().decode(bytes); // json.Marshal turns invalid UTF-8 into U+FFFD too
  } catch {
    throw new GoYamlError("!!binary value contains invalid base64 data", true);
  }
}

/** A scalar node as yaml.v2 decodes it into interface{}. */
function resolveScalar(n: Scalar): Resolved {
  const text = String(n.value);
  const tag = n.tag?.startsWith(TAG) ? `!!${n.tag.slice(TAG.length)}` : n.tag;
  if (!tag) return n.type === "PLAIN" ? resolvePlain(text) : { kind: "string", value: text };
  if (tag === "!!str") return { kind: "string", value: text };
  if (tag === "!!binary") return { kind: "string", value: decodeBinary(text) };
  const want = Object.entries(SHORT).find(([, t]) => t === tag)?.[0];
  if (!want && tag !== "!!timestamp") return { kind: "string", value: text };
  const r = resolvePlain(text);
  if (SHORT[r.kind] === tag || (tag === "!!timestamp" && r.kind === "string")) return r;
  if (tag === "!!float" && r.kind === "int") return { kind: "float", value: Number(r.value) };
  throw new GoYamlError(`yaml: cannot decode ${SHORT[r.kind]} \`${text}\` as a ${tag}`, true);
}

/** The JSON json.Marshal writes for a resolved scalar. */
function jsonOf(r: Resolved): GoJson {
  switch (r.kind) {
    case "null":
      return GO_NULL;
    case "bool":
      return { kind: "bool", value: r.value };
    case "string":
      return { kind: "string", value: r.value };
    case "int":
      return { kind: "number", text: String(r.value) };
    case "float": {
      const text = goFloatText(r.value);
      if (text === null)
        throw new GoYamlError(`json: unsupported value: ${goFloatName(r.value)}`, true);
      return { kind: "number", text };
    }
  }
}

/** convertToJSONableObject's key text; nulls, big unsigned ints and collections are refused. */
function keyText(r: Resolved): string {
  switch (r.kind) {
    case "string":
      return r.value;
    case "bool":
      return String(r.value);
    case "int":
      if (!r.unsigned) return String(r.value);
      break;
    case "float":
      return Number.isNaN(r.value)
        ? ".nan"
        : Number.isFinite(r.value)
          ? String(r.value)
          : r.value > 0
            ? ".inf"
            : "-.inf";
  }
  throw new GoYamlError(
    `unsupported map key ${r.kind === "null" ? "null" : String(r.value)}`,
    false,
  );
}

/** Go's string order (bytes of UTF-8), which is code point order. */
function byCodePoint(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i]!.codePointAt(0)! - y[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

// yaml.v2's guard against alias bombs ("document contains excessive aliasing").
const ALIAS_RANGE_LOW = 400_000;
const ALIAS_RANGE_HIGH = 4_000_000;
function allowedAliasRatio(decodes: number): number {
  if (decodes <= ALIAS_RANGE_LOW) return 0.99;
  if (decodes >= ALIAS_RANGE_HIGH) return 0.1;
  return 0.99 - 0.89 * ((decodes - ALIAS_RANGE_LOW) / (ALIAS_RANGE_HIGH - ALIAS_RANGE_LOW));
}

class Converter {
  decodes = 0;
  aliasDecodes = 0;
  aliasDepth = 0;
  readonly active = new Set<Node>();
  /** Keys written more than once in one mapping (not through a merge). */
  readonly duplicates = new Set<string>();

  /** Each alias's node: the latest anchor of its name before it, found in one pass. */
  private readonly targets = new Map<Node, Node>();

  constructor(doc: Document) {
    const anchors = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const t = anchors.get(node.source);
          if (t) this.targets.set(node, t);
        } else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  count(): void {
    this.decodes++;
    if (this.aliasDepth > 0) this.aliasDecodes++;
    if (
      this.aliasDecodes > 100 &&
      this.decodes > 1000 &&
      this.aliasDecodes / this.decodes > allowedAliasRatio(this.decodes)
    )
      throw new GoYamlError("yaml: document contains excessive aliasing", true);
  }

  /** Follows an alias (refusing one inside its own anchor) and runs `f` on its node. */
  through<T>(n: Node, f: (target: Node) => T): T {
    if (!isAlias(n)) return f(n);
    const target = this.targets.get(n);
    if (!target) throw new GoYamlError(`yaml: unknown anchor '${n.source}' referenced`, true);
    if (this.active.has(n))
      throw new GoYamlError(`yaml: anchor '${n.source}' value contains itself`, true);
    this.active.add(n);
    this.aliasDepth++;
    try {
      return this.through(target, f);
    } finally {
      this.aliasDepth--;
      this.active.delete(n);
    }
  }

  value(n: Node | null | undefined): GoJson {
    if (n === null || n === undefined) return GO_NULL;
    this.count();
    return this.through(n, (t) => {
      if (isScalar(t)) return jsonOf(resolveScalar(t));
      if (isSeq(t)) return { kind: "array", items: t.items.map((i) => this.item(i)) };
      if (isMap(t)) {
        return this.object(t.items as Pair<Node, Node>[]);
      }
      return GO_NULL;
    });
  }

  /** A sequence item; `[a: 1]` holds a bare pair, which go-yaml reads as a one-key mapping. */
  item(i: unknown): GoJson {
    if (!isPair(i)) return this.value(i as Node);
    this.count();
    return this.object([i as Pair<Node, Node>]);
  }

  /** A mapping as json.Marshal writes it: keys sorted, the last of repeated keys kept. */
  object(pairs: Pair<Node, Node>[]): GoJson {
    const out = new Map<string, GoJson>();
    this.mapInto(pairs, out, true);
    const keys = [...out.keys()].sort(byCodePoint);
    return { kind: "object", entries: keys.map((k) => [k, out.get(k)!]) };
  }

  key(n: Node | null | undefined): string {
    if (n === null || n === undefined) return keyText({ kind: "null" });
    this.count();
    return this.through(n, (t) => {
      if (!isScalar(t)) throw new GoYamlError("yaml: invalid map key: a mapping or a list", false);
      return keyText(resolveScalar(t));
    });
  }

  mapInto(pairs: Pair<Node, Node>[], out: Map<string, GoJson>, own: boolean): void {
    const seen = new Set<string>();
    for (const p of pairs) {
      if (isScalar(p.key) && p.key.type === "PLAIN" && !p.key.tag && p.key.value === "<<") {
        this.count();
        this.mergeFrom(p.value, out);
        continue;
      }
      const k = this.key(p.key);
      if (own && seen.has(k)) this.duplicates.add(k);
      seen.add(k);
      out.set(k, this.value(p.value));
    }
  }

  /** `<<`: a mapping, or a list of them (earlier ones win), written over the keys so far. */
  mergeFrom(n: Node | null, out: Map<string, GoJson>): void {
    const bad = () =>
      new GoYamlError("yaml: map merge requires map or sequence of maps as the value", true);
    if (!n) throw bad();
    this.through(n, (t) => {
      if (isMap(t)) return this.mapInto(t.items as Pair<Node, Node>[], out, false);
      if (!isSeq(t) || isAlias(n)) throw bad();
      for (const item of [...t.items].reverse()) {
        this.through(item as Node, (m) => {
          if (!isMap(m)) throw bad();
          this.mapInto(m.items as Pair<Node, Node>[], out, false);
        });
      }
    });
  }
}

export interface GoYamlResult {
  value: GoJson;
  /** Keys given more than once in one mapping: the last one is used. */
  duplicates: string[];
}

/**
 * YAMLToJSON as upstream runs it, for text without the JSON prefix (hasJsonPrefix). Throws
 * GoYamlError: syntax errors (`go` false: the parser's own words), and the conversion errors
 * upstream reports (`go` true, e.g. "json: unsupported value: NaN" for `.nan`).
 */
export function goYamlToJson(text: string): GoYamlResult {
  const docs = parseAllDocuments(text, {
    version: "1.1",
    schema: "failsafe",
    uniqueKeys: false,
    prettyErrors: false,
  });
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (!doc) return { value: GO_NULL, duplicates: [] };
  const e = doc.errors[0];
  if (e) {
    const pos = e.linePos?.[0];
    const where = pos ? ` (line ${pos.line}, column ${pos.col})` : "";
    throw new GoYamlError(`${e.message.split("\n")[0]}${where}`, false);
  }
  const c = new Converter(doc);
  const value = c.value(doc.contents as Node | null);
  return { value, duplicates: [...c.duplicates] };
}
