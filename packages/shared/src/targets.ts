// Which `-j`/`-g` targets are iptables target extensions (or built-in verdicts) and which name a
// user chain, and the target of one `iptables -S` rule line. A reader follows the chains; an
// analysis treats a chain it was not given as unknown, never as a verdict.
import { tokenize } from "./parser.js";

/**
 * Built-in verdicts plus the target extensions iptables 1.8 ships (extensions/libxt_*.c,
 * libipt_*.c, libip6t_*.c with an upper-case name), for IPv4 and IPv6. Any other target is a
 * user chain.
 */
export const TARGET_EXTENSIONS: ReadonlySet<string> = new Set([
  "ACCEPT",
  "DROP",
  "RETURN",
  "QUEUE",
  "AUDIT",
  "CHECKSUM",
  "CLASSIFY",
  "CLUSTERIP",
  "CONNMARK",
  "CONNSECMARK",
  "CT",
  "DNAT",
  "DNPT",
  "DSCP",
  "ECN",
  "HL",
  "HMARK",
  "IDLETIMER",
  "LED",
  "LOG",
  "MARK",
  "MASQUERADE",
  "MIRROR",
  "NETMAP",
  "NFLOG",
  "NFQUEUE",
  "NOTRACK",
  "RATEEST",
  "REDIRECT",
  "REJECT",
  "SAME",
  "SECMARK",
  "SET",
  "SNAT",
  "SNPT",
  "SYNPROXY",
  "TCPMSS",
  "TCPOPTSTRIP",
  "TEE",
  "TOS",
  "TPROXY",
  "TRACE",
  "TTL",
  "ULOG",
]);

/** Does `-j NAME` / `-g NAME` name a user chain (to be read) rather than a target extension? */
export function isChainTarget(name: string): boolean {
  return !TARGET_EXTENSIONS.has(name);
}

export interface RuleTarget {
  target: string;
  /** `-g`: RETURN from the target goes back past the calling chain. */
  goto: boolean;
}

const TARGET_FLAGS: Record<string, boolean> = {
  "-j": false,
  "--jump": false,
  "-g": true,
  "--goto": true,
};

/**
 * The target of one `-A CHAIN …` line (undefined for `-N`/`-P` lines, rules without a target
 * and lines that do not tokenize). Words inside a quoted comment are never taken for flags.
 */
export function ruleTarget(line: string): RuleTarget | undefined {
  if (!line.startsWith("-A ")) return undefined;
  const words = tokenize(line);
  if (typeof words === "string") return undefined;
  for (let i = 2; i < words.length - 1; i++) {
    if (words[i] === "--comment") {
      i++; // a comment is one word, whatever it says
      continue;
    }
    const goto = TARGET_FLAGS[words[i]!];
    if (goto !== undefined) return { target: words[i + 1]!, goto };
  }
  return undefined;
}

/** User chains that `-S` lines jump or go to, in rule order, each once. */
export function chainTargets(lines: readonly string[]): string[] {
  const seen = new Set<string>();
  for (const l of lines) {
    const t = ruleTarget(l);
    if (t && isChainTarget(t.target)) seen.add(t.target);
  }
  return [...seen];
}
