// A Windows node's exception lists, entry by entry, marked with the differences the server
// found (shared assessWindows / windowsDrift): the panel shows where each difference is, it does
// not judge drift again.
import { type Difference, readExceptionEntry } from "@masq/shared";

export interface ExceptionMark {
  cidr: string;
  state: "same" | "missing" | "unexpected" | "unreadable";
}

/** windowsDrift names the lists a difference concerns in `rule`: their pointers joined by ", ". */
function concerns(d: Difference, pointer: string): boolean {
  return d.scope === "windows" && (d.rule?.split(", ") ?? []).includes(pointer);
}

/** The list's entries as written, then the desired CIDRs it misses. */
export function markExceptions(
  list: { pointer: string; exceptions: readonly string[] },
  differences: readonly Difference[],
): ExceptionMark[] {
  const here = differences.filter((d) => concerns(d, list.pointer));
  const has = (kind: Difference["kind"], cidr?: string) =>
    here.some((d) => d.kind === kind && (cidr === undefined || d.cidr === cidr));
  const entries = list.exceptions.map((cidr): ExceptionMark => {
    const r = readExceptionEntry(cidr);
    if (!r.ok) return { cidr, state: has("unreadable") ? "unreadable" : "same" };
    return { cidr, state: has("unexpected-cidr", r.cidr.canonical) ? "unexpected" : "same" };
  });
  const missing = here.flatMap((d): ExceptionMark[] =>
    d.kind === "missing-cidr" && d.cidr ? [{ cidr: d.cidr, state: "missing" }] : [],
  );
  return [...entries, ...missing];
}
