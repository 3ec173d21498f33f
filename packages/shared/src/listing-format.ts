// `iptables -L` output is a table for people, not rules: it drops matches it cannot print
// (interfaces without -v, comments as /* */, marks as "mark match"), so nothing can be decided
// from it. Told apart from the formats the parser reads (iptables-save, `-S`) by its headers:
// "Chain NAME (policy ACCEPT)" / "Chain NAME (N references)" and the column line
// "target prot opt source destination" (iptables(8), -L, -n, -v, --line-numbers).

const CHAIN_HEADER = /^Chain \S+ \((policy \S+.*|\d+ references?)\)\s*$/m;
const COLUMNS = /^\s*(num\s+)?(pkts\s+bytes\s+)?target\s+prot\s+opt\s/m;

/** Why `text` cannot be read as rules (it is `iptables -L` output), or undefined. */
export function listingFormatError(text: string): string | undefined {
  if (!CHAIN_HEADER.test(text) && !COLUMNS.test(text)) return undefined;
  return "this is `iptables -L` output, which leaves out matches; give `iptables-save -t nat` or `iptables -t nat -S` output instead";
}
