// Turning `iptables -S CHAIN` results into snapshot fields. A missing chain is not an error,
// but iptables reports it with version-specific text, so "missing" is only believed when
// nothing contradicts it.
import { MAX_RULE_LINE_CHARS, ruleTarget } from "@masq/shared";
import type { ExecResult } from "../exec.js";

// legacy: "No chain/target/match by that name."; nf_tables 1.8.x: "chain `X' in table `nat'
// is incompatible, use 'nft' tool." (it says that for a chain that does not exist). "table
// `nat' is incompatible" is another thing: the table holds what iptables cannot show, a read
// error.
const MISSING =
  /No chain\/target\/match by that name|chain `[^']*' in table `[^']*' is incompatible, use 'nft' tool|does not exist/;
/** Printed (on stderr) when both backends hold tables on the node. */
export const LEGACY_TABLES_WARNING = /iptables-legacy tables present/;

export type ChainRead =
  | { kind: "ok"; lines: string[] }
  | { kind: "missing"; ambiguous: boolean; message: string }
  | { kind: "error"; message: string };

export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "" && !l.startsWith("#")) ?? ""
  );
}

/** Rule lines of `-S` output (comment/warning lines dropped), whole. */
export function ruleLines(stdout: string): string[] {
  const lines: string[] = [];
  for (const l of stdout.split("\n")) {
    if (l.trim() === "" || l.startsWith("#")) continue;
    lines.push(l);
  }
  return lines;
}

/**
 * A chain's listed lines as a read: an error when a line is longer than the protocol carries,
 * since a cut rule is another rule (the chain was not fully read, never silently shortened).
 */
export function linesRead(name: string, lines: string[]): ChainRead {
  const long = lines.find((l) => l.length > MAX_RULE_LINE_CHARS);
  if (long === undefined) return { kind: "ok", lines };
  return {
    kind: "error",
    message: `a rule of ${name} is ${long.length} characters, more than the ${MAX_RULE_LINE_CHARS} a snapshot carries: ${name} was not fully read`,
  };
}

export function classifyChainRead(r: ExecResult, name = "the chain"): ChainRead {
  if (r.code === 0) return linesRead(name, ruleLines(r.stdout));
  const message = firstLine(r.stderr) || `exit code ${r.code}`;
  if (r.code === 1 && MISSING.test(r.stderr)) {
    // nf_tables also says "incompatible" for a chain holding rules iptables cannot show.
    return { kind: "missing", ambiguous: /incompatible/.test(r.stderr), message };
  }
  return { kind: "error", message };
}

/** Does any rule of these -S lines jump or go to `chain`? The kernel refuses jumps to missing chains. */
export function jumpsTo(lines: readonly string[], chain: string): boolean {
  return lines.some((l) => ruleTarget(l)?.target === chain);
}
