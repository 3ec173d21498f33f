// The path evaluator's answers: outcomes with the conditions they need, the rule that decided
// each, and what could not be seen.

import type { ComponentRef } from "./components.js";
import type { RangeSet } from "./range-set.js";

/** One assumption a branch of the path rests on. */
export interface Condition {
  /** What the packet must satisfy on this branch: "-p tcp", "source in 10.100.64.64/26". */
  text: string;
  /** The underlying match without its sense, e.g. "-p tcp" for both "-p tcp" and "! -p tcp". */
  key: string;
  /** Whether the match holds on this branch. */
  holds: boolean;
  field: "source" | "destination" | "protocol" | "dport" | "mark" | "chain" | "other";
}

/** A rule, by chain and 0-based index, with its text and the component that wrote it. */
export interface RuleRef {
  chain: string;
  index: number;
  text: string;
  component: ComponentRef;
}

/**
 * How a branch ends:
 * - masquerade / snat: the nat table translates the source (SNAT also NETMAP);
 * - accept: the nat table leaves the source alone (an ACCEPT rule, or the end of POSTROUTING);
 *   in a node with two iptables backends the other one may still translate it;
 * - return: the start chain returned and POSTROUTING is not in the input;
 * - unknown: the rules read cannot say (an unread chain decides, a bound was hit, …).
 */
export type OutcomeResult = "masquerade" | "snat" | "accept" | "return" | "unknown";

export interface PathOutcome {
  result: OutcomeResult;
  /** true for masquerade/snat, false for accept/return, null for unknown. */
  masqueraded: boolean | null;
  conditions: Condition[];
  /** The rule that decided (for accept: the last RETURN taken, if any). */
  decidedBy?: RuleRef;
  /** The address SNAT/NETMAP translates to (`--to-source`). */
  toSource?: string;
  /** In words, e.g. "IP-MASQ-AGENT rule 3 (ip-masq-agent) masquerades it". */
  reason: string;
  /** Why the deciding rule matched this packet: "1.1.1.1 is not in 8.8.8.8/32". */
  because: string[];
  /** Chains entered on the way, in order (the start chain first). */
  via: string[];
  /** Where the decision fell relative to the agent's chain. */
  agent: "before" | "inside" | "after";
  /** Index of the start chain's rule this branch was in when it was decided. */
  entry?: number;
  /** The sources and destinations this branch is restricted to. */
  source: RangeSet;
  destination: RangeSet;
}

export type UnknownKind =
  | "unread-chain"
  | "postrouting-missing"
  | "chain-missing"
  | "bound"
  | "target"
  /** A line of a chain on the path could not be read: that rule's effect is unknown. */
  | "unreadable-rule"
  /** Two iptables backends act on the packet and the order of their hooks decides the answer. */
  | "hook-order"
  /** Rules in the other iptables backend, which act on packets too, were not read. */
  | "other-backend"
  /** Something on the node translates packets outside netfilter (Cilium's eBPF masquerading). */
  | "outside-netfilter";

/** Something the analysis could not see, in words. */
export interface Unknown {
  kind: UnknownKind;
  chain?: string;
  message: string;
}

/** A chain on the path from POSTROUTING. */
export interface PathChain {
  name: string;
  component: ComponentRef;
  /** False when the chain is reachable but its rules were not in the input. */
  read: boolean;
  rules: number;
}
