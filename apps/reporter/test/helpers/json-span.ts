// Where a JSON value sits in a text: a small independent scanner (not the shared parser), so
// tests can prove byte for byte that a rewrite changed nothing outside one value.

interface Span {
  start: number;
  end: number;
  /** Object members (key as decoded) or array items. */
  children?: Map<string, Span>;
}

function skipWs(text: string, i: number): number {
  while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  return i;
}

function scanString(text: string, i: number): number {
  if (text[i] !== '"') throw new Error(`expected a string at ${i}`);
  for (i++; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i + 1;
  }
  throw new Error("unterminated string");
}

/** An object member's key and the index after its ':'. */
function scanKey(text: string, j: number): { key: string; next: number } {
  const keyEnd = scanString(text, j);
  const key = JSON.parse(text.slice(j, keyEnd)) as string;
  const colon = skipWs(text, keyEnd);
  if (text[colon] !== ":") throw new Error(`expected ':' at ${colon}`);
  return { key, next: colon + 1 };
}

/** An object or array starting at `i`: its members (or items, keyed by index) and its end. */
function scanContainer(text: string, i: number): Span {
  const isObject = text[i] === "{";
  const close = isObject ? "}" : "]";
  const children = new Map<string, Span>();
  let j = skipWs(text, i + 1);
  if (text[j] === close) return { start: i, end: j + 1, children };
  for (let index = 0; ; index++) {
    let key = String(index);
    if (isObject) ({ key, next: j } = scanKey(text, j));
    const v = scanValue(text, j);
    children.set(key, v);
    j = skipWs(text, v.end);
    if (text[j] !== ",") break;
    j = skipWs(text, j + 1);
  }
  if (text[j] !== close) throw new Error(`expected '${close}' at ${j}`);
  return { start: i, end: j + 1, children };
}

function scanValue(text: string, start: number): Span {
  const i = skipWs(text, start);
  const c = text[i];
  if (c === "{" || c === "[") return scanContainer(text, i);
  if (c === '"') return { start: i, end: scanString(text, i) };
  const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i));
  if (!m) throw new Error(`unexpected character at ${i}`);
  return { start: i, end: i + m[0].length };
}

/** [start, end) of the value at a JSON pointer (RFC 6901); a leading BOM is counted. */
export function valueSpan(text: string, pointer: string): [number, number] {
  const bom = text.startsWith("\uFEFF") ? 1 : 0;
  let node = scanValue(text, bom);
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    const next = node.children?.get(seg);
    if (!next) throw new Error(`no value at ${pointer} (segment ${seg})`);
    node = next;
  }
  return [node.start, node.end];
}

/** The text outside the values at `pointers`, as segments in order. */
export function outsideValues(text: string, pointers: readonly string[]): string[] {
  const spans = pointers.map((p) => valueSpan(text, p)).sort((a, b) => a[0] - b[0]);
  const out: string[] = [];
  let at = 0;
  for (const [s, e] of spans) {
    out.push(text.slice(at, s));
    at = e;
  }
  out.push(text.slice(at));
  return out;
}

export function valueAt(text: string, pointer: string): unknown {
  const [s, e] = valueSpan(text, pointer);
  return JSON.parse(text.slice(s, e));
}
