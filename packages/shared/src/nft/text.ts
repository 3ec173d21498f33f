// libnftables JSON expressions and statements written back in nft syntax, close to what
// `nft list` prints, for rule rows, references and reasons. What it does not know it writes as
// `<kind …>` (never silently dropped).

const MAX_TEXT_CHARS = 512;
const MAX_DEPTH = 16;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);

/** The one key of a `{kind: body}` object, with its body. */
export function kindOf(e: unknown): [string, unknown] | undefined {
  if (!isObj(e)) return undefined;
  const keys = Object.keys(e);
  return keys.length === 1 ? [keys[0]!, e[keys[0]!]] : undefined;
}

const BINOPS: Record<string, string> = { "&": "&", "|": "|", "^": "^", "<<": "<<", ">>": ">>" };

function hex(n: unknown): string {
  return typeof n === "number" && n > 9 ? `0x${n.toString(16).padStart(8, "0")}` : String(n);
}

type Sub = (x: unknown) => string;

/** A verdict map's elements are [key, verdict] pairs; a set's are expressions. */
function setText(body: unknown, sub: Sub): string {
  if (!Array.isArray(body)) return `{ ${sub(body)} }`;
  const element = (x: unknown) =>
    Array.isArray(x) && x.length === 2 ? `${sub(x[0])} : ${statementText(x[1])}` : sub(x);
  return `{ ${body.map(element).join(", ")} }`;
}

/** How each expression kind is written: `b` is its body when that is an object, else {}. */
const KIND_TEXT = new Map<string, (b: Obj, body: unknown, sub: Sub) => string>([
  [
    "payload",
    (b) =>
      b.protocol !== undefined ? `${b.protocol} ${b.field}` : `@${b.base},${b.offset},${b.len}`,
  ],
  ["meta", (b) => `meta ${b.key}`],
  ["ct", (b) => `ct ${b.dir ? `${b.dir} ` : ""}${b.key}`],
  ["fib", (b) => `fib ${(Array.isArray(b.flags) ? b.flags : [b.flags]).join(" . ")} ${b.result}`],
  ["numgen", (b) => `numgen ${b.mode} mod ${b.mod}${b.offset ? ` offset ${b.offset}` : ""}`],
  ["prefix", (b) => `${b.addr}/${b.len}`],
  [
    "range",
    (_b, body, sub) =>
      Array.isArray(body) ? `${sub(body[0])}-${sub(body[1])}` : JSON.stringify(body),
  ],
  ["set", (_b, body, sub) => setText(body, sub)],
  [
    "concat",
    (_b, body, sub) => (Array.isArray(body) ? body.map(sub).join(" . ") : JSON.stringify(body)),
  ],
  ["elem", (b, _body, sub) => sub(b.val)],
  ["map", (b, _body, sub) => `${sub(b.key)} map ${sub(b.data)}`],
]);

/** `{kind: body}` in nft syntax; a kind it does not know as `<kind …>`. */
function kindText(kind: string, body: unknown, sub: Sub): string {
  const write = KIND_TEXT.get(kind);
  if (write) return write(isObj(body) ? body : {}, body, sub);
  if (Object.hasOwn(BINOPS, kind) && Array.isArray(body)) {
    // Bitwise operands are masks: written in hex.
    const right = kind === "&" || kind === "|" || kind === "^" ? hex(body[1]) : sub(body[1]);
    return `${sub(body[0])} ${BINOPS[kind]} ${right}`;
  }
  return `<${kind} ${JSON.stringify(body)}>`;
}

function exprAt(e: unknown, depth: number): string {
  if (depth > MAX_DEPTH) return "…";
  if (typeof e === "string") return e;
  if (typeof e === "number" || typeof e === "boolean") return String(e);
  if (e === null) return "";
  const sub = (x: unknown) => exprAt(x, depth + 1);
  if (Array.isArray(e)) return e.map(sub).join(", ");
  const k = kindOf(e);
  return k ? kindText(k[0], k[1], sub) : JSON.stringify(e);
}

/** One expression in nft syntax: `ip daddr`, `10.0.0.0/8`, `{ tcp, udp }`, `@nonmasq_v4`. */
export function exprText(e: unknown): string {
  return exprAt(e, 0);
}

function natText(kind: string, b: Obj): string {
  const fam = typeof b.family === "string" ? ` ${b.family}` : "";
  const addr = b.addr !== undefined ? exprText(b.addr) : "";
  const port = b.port !== undefined ? `:${exprText(b.port)}` : "";
  const to = addr || port ? ` to ${addr}${port}` : "";
  const flags = b.flags === undefined ? [] : Array.isArray(b.flags) ? b.flags : [b.flags];
  return `${kind}${fam}${to}${flags.map((f) => ` ${f}`).join("")}`;
}

/**
 * A match as `nft list` prints it: `==` left out, except after a bitwise left side, where nft
 * writes it and the value in hex (`meta mark & 0x00004000 == 0x00000000`); shown as
 * `meta mark & 0x00004000 0` it did not read as the rule on the node.
 */
function matchText(b: Obj): string {
  const k = isObj(b.left) ? kindOf(b.left)?.[0] : undefined;
  const bitwise = k === "&" || k === "|" || k === "^";
  const op = (b.op === "==" && !bitwise) || b.op === "in" ? "" : ` ${b.op}`;
  const right = bitwise && typeof b.right === "number" ? hex8(b.right) : exprText(b.right);
  return `${exprText(b.left)}${op} ${right}`;
}

/** A value compared with a masked one, as nft prints it: always eight hex digits. */
function hex8(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** One statement (or match) of a rule in nft syntax. */
export function statementText(s: unknown): string {
  const k = kindOf(s);
  if (!k) return JSON.stringify(s);
  const [kind, body] = k;
  const b = isObj(body) ? body : {};
  switch (kind) {
    case "match":
      return matchText(b);
    case "accept":
    case "drop":
    case "return":
    case "continue":
      return kind;
    case "jump":
    case "goto":
      return `${kind} ${b.target}`;
    case "counter":
      return "counter";
    case "masquerade":
    case "snat":
    case "dnat":
    case "redirect":
      return natText(kind, b);
    case "mangle":
      return `${exprText(b.key)} set ${exprText(b.value)}`;
    case "vmap":
      return `${exprText(b.key)} vmap ${exprText(b.data)}`;
    case "xt":
      return `xt ${b.type} ${b.name}`;
    case "log":
      return b.prefix !== undefined ? `log prefix "${b.prefix}"` : "log";
    case "limit":
      return `limit rate ${b.inv ? "over " : ""}${b.rate}/${b.per}`;
    default:
      return `<${kind}${body === null ? "" : ` ${JSON.stringify(body)}`}>`;
  }
}

/** A rule's expressions in nft syntax, as `nft list` prints a rule (counters left out). */
export function ruleText(expr: readonly unknown[], comment?: string): string {
  const parts = expr
    .filter((e) => kindOf(e)?.[0] !== "counter")
    .map(statementText)
    .filter((t) => t !== "");
  const text = `${parts.join(" ")}${comment !== undefined ? ` comment "${comment}"` : ""}`;
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS - 1)}…` : text;
}
