// Writing a new exception list in the style of the file: the line endings, indentation unit and
// spacing of the array it replaces (or of the file, for an empty or null list).
import type { FoundList } from "./parse.js";

export interface Layout {
  eol: string;
  unit: string;
}

export function detectLayout(body: string): Layout {
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

type JsonNode = FoundList["node"];

/** Entries in the place of an array's old ones, keeping its leading, separating and trailing text. */
function replaceEntries(
  body: string,
  node: JsonNode,
  old: readonly JsonNode[],
  items: readonly string[],
  compact: boolean,
): string {
  const first = old[0]!;
  const last = old[old.length - 1]!;
  const leading = body.slice(node.offset + 1, first.offset);
  const trailing = body.slice(last.offset + last.length, node.offset + node.length - 1);
  let sep: string;
  if (old.length >= 2) sep = body.slice(first.offset + first.length, old[1]!.offset);
  else if (leading.includes("\n")) sep = `,${leading}`;
  else sep = compact ? "," : ", ";
  return `[${leading}${items.join(sep)}${trailing}]`;
}

/** The new array text, in the layout of the array it replaces (or of the file, for `[]`/null). */
export function renderList(
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
  if (old.length > 0) return replaceEntries(body, l.node, old, items, compact);
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
