// Rewriting the exception lists of a CNI config text, every other byte of the file kept.
import { type Cidr, parseCidr, parseIp } from "../cidr.js";
import { isIPv6List, readExceptionEntry } from "./entries.js";
import { failure } from "./json-tree.js";
import { detectLayout, renderList } from "./layout.js";
import { type FoundList, type Located, locate, MAX_ENTRY_CHARS } from "./parse.js";

export type CniRewriteResult =
  | { ok: true; text: string; changed: boolean }
  | { ok: false; error: string };

interface Edit {
  offset: number;
  length: number;
  content: string;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Why `exceptions` cannot be written, if they cannot. */
function refusal(exceptions: readonly string[]): string | undefined {
  if (!Array.isArray(exceptions)) return "the exceptions must be a list of CIDR strings";
  for (const e of exceptions) {
    if (typeof e !== "string" || e.length > MAX_ENTRY_CHARS || !(parseCidr(e).ok || parseIp(e)))
      return `refusing to write ${JSON.stringify(e)}: not an IP address or an aligned CIDR`;
  }
  return undefined;
}

/** The edits that give every managed list `exceptions` (plus its own IPv6 entries), and the lists expected after them. */
function planEdits(
  loc: Located,
  managed: readonly FoundList[],
  exceptions: readonly string[],
): { edits: Edit[]; expected: Map<string, string[]> } {
  const wanted = new Set(
    exceptions.map((e) => (readExceptionEntry(e) as { ok: true; cidr: Cidr }).cidr.canonical),
  );
  const layout = detectLayout(loc.body);
  const edits: Edit[] = [];
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
  return { edits, expected };
}

function applyEdits(body: string, edits: readonly Edit[]): string {
  let out = body;
  for (const e of [...edits].sort((a, b) => b.offset - a.offset)) {
    out = out.slice(0, e.offset) + e.content + out.slice(e.offset + e.length);
  }
  return out;
}

/** Belt and braces: the result must read back as exactly what was meant. */
function readsBackAs(out: string, loc: Located, expected: Map<string, string[]>): boolean {
  const check = locate(out);
  return (
    check.lists.length === loc.lists.length &&
    check.lists.every(
      (l, i) =>
        l.pointer === loc.lists[i]!.pointer &&
        sameStrings(l.entries, expected.get(l.pointer) ?? loc.lists[i]!.entries),
    )
  );
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
    const refused = refusal(exceptions);
    if (refused !== undefined) return { ok: false, error: refused };
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
    const { edits, expected } = planEdits(loc, managed, exceptions);
    if (edits.length === 0) return { ok: true, text, changed: false };
    const out = loc.bom + applyEdits(loc.body, edits);
    if (!readsBackAs(out, loc, expected))
      return {
        ok: false,
        error: "internal error: the rewritten file does not read back as intended; nothing written",
      };
    return { ok: true, text: out, changed: out !== text };
  } catch (e) {
    return failure(e);
  }
}
