// The one way a zod error becomes a sentence, for every boundary (protocol frames, HTTP bodies,
// the environment, CLI flags, tester queries): where, then what.
import type { z } from "zod";

export interface ZodReasonOptions {
  /** How many issues to name (default 1: the first problem). */
  issues?: number;
  /** What an issue at the top level is called (default "message"). */
  root?: string;
}

/**
 * `unknown field "config.bogus"; revision: expected string` — each named issue as
 * `path: message` (dot-joined path, `root` when empty); unknown keys as `unknown field "path.key"`.
 * A missing field reads `path: required (boolean)`; zod's "Invalid input: " prefix is dropped.
 * Issues are joined with "; ".
 */
export function zodReason(error: z.ZodError, o: ZodReasonOptions = {}): string {
  const { issues = 1, root = "message" } = o;
  if (error.issues.length === 0) return `invalid ${root}`;
  return error.issues
    .slice(0, issues)
    .map((i) => {
      const at = i.path.map(String).join(".");
      if (i.code === "unrecognized_keys")
        return i.keys.map((k) => `unknown field "${at ? `${at}.` : ""}${k}"`).join("; ");
      return `${at || root}: ${messageOf(i)}`;
    })
    .join("; ");
}

function messageOf(i: z.core.$ZodIssue): string {
  if (i.code === "invalid_type" && /received undefined$/.test(i.message))
    return `required (${i.expected})`;
  return i.message.replace(/^Invalid input: /, "");
}
