// Reading a jsonc-parser tree the way the CNI plugins read their JSON: keys matched
// case-insensitively (Go's encoding/json), positions named by JSON pointer (RFC 6901), syntax
// errors with line and column. Problems are thrown as CniError and become `{ ok: false }` at the
// public functions (see `failure`).
import { type Node, type ParseError, printParseErrorCode } from "jsonc-parser";

/** Thrown inside the walk and turned into `{ ok: false }` at the API boundary. */
export class CniError extends Error {}

function escapePointer(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function child(pointer: string, segment: string | number): string {
  return `${pointer}/${escapePointer(segment)}`;
}

export function where(pointer: string): string {
  return pointer === "" ? "the top level" : pointer;
}

export function kindOf(node: Node): string {
  return node.type === "property" ? "property" : node.type;
}

/** The property of an object whose key matches `name` case-insensitively; ambiguity is refused. */
export function prop(obj: Node, name: string, pointer: string): Node | undefined {
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

export function keyOf(p: Node): string {
  return p.children![0]!.value as string;
}

export function propValue(p: Node): Node | undefined {
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

export function syntaxError(body: string, e: ParseError): string {
  const { line, column } = lineCol(body, e.offset);
  const name = printParseErrorCode(e.error);
  return `not valid JSON at line ${line}, column ${column}: ${SYNTAX_HINTS[name] ?? name}`;
}

export function failure(e: unknown): { ok: false; error: string } {
  if (e instanceof CniError) return { ok: false, error: e.message };
  // e.g. a RangeError from absurdly deep nesting
  return {
    ok: false,
    error: `could not read the CNI config: ${e instanceof Error ? e.message : String(e)}`,
  };
}
