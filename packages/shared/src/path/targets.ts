// What a rule's target does to a packet in nat POSTROUTING (iptables-extensions(8)): jump or
// goto a chain, RETURN, ACCEPT, NAT it, change its mark, or nothing we need to follow.
import { type ParsedChain, type ParsedRule, targetArg } from "../parser.js";
import { TARGET_EXTENSIONS } from "../targets.js";

/** Targets that change nothing the nat decision depends on: the packet goes on. */
const PASS_THROUGH: ReadonlySet<string> = new Set(
  (
    "LOG NFLOG ULOG TRACE AUDIT CHECKSUM SECMARK CONNSECMARK CLASSIFY DSCP TOS ECN TTL HL TCPMSS " +
    "TCPOPTSTRIP IDLETIMER LED RATEEST CT NOTRACK"
  ).split(" "),
);

export type NatKind = "masquerade" | "snat" | "netmap";

export type TargetAction =
  | { kind: "chain"; chain: string; goto: boolean }
  /** A chain that was not read (absent from the input, or listed as unread). */
  | { kind: "unread"; chain: string; goto: boolean }
  | { kind: "return" }
  | { kind: "accept" }
  | { kind: "nat"; nat: NatKind; toSource?: string }
  | { kind: "mark"; value: number; mask: number }
  /** Bits of the mark that become unknown (CONNMARK --restore-mark). */
  | { kind: "forget-mark"; mask: number }
  /** State a match module reads changes (CONNMARK the connection mark, SET an ipset). */
  | { kind: "forget-state"; module: "connmark" | "set" }
  | { kind: "continue" }
  /** The packet stops here in a way nat POSTROUTING does not normally allow. */
  | { kind: "stop"; reason: string };

function num(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0x[0-9a-f]+|[0-9]+)$/i.test(text)) return undefined;
  const n = Number(text);
  return n >= 0 && n <= 0xffffffff ? n : undefined;
}

/** `--set-xmark V/M` and the forms iptables accepts when it is written by hand. */
function markAction(rule: ParsedRule): TargetAction {
  const a = rule.targetArgs[0];
  const [v, m] = (a?.args[0] ?? "").split("/");
  const value = num(v);
  const mask = m === undefined ? 0xffffffff : num(m);
  if (!a || value === undefined || mask === undefined)
    return { kind: "forget-mark", mask: 0xffffffff };
  switch (a.flag) {
    case "--set-xmark":
      return { kind: "mark", value, mask };
    case "--set-mark":
      return { kind: "mark", value, mask: (mask | value) >>> 0 };
    case "--and-mark":
      return { kind: "mark", value: 0, mask: ~value >>> 0 };
    case "--or-mark":
      return { kind: "mark", value, mask: value };
    case "--xor-mark":
      return { kind: "mark", value, mask: 0 };
    default:
      return { kind: "forget-mark", mask: 0xffffffff };
  }
}

function connmarkAction(rule: ParsedRule): TargetAction {
  const restore = targetArg(rule, "--restore-mark");
  // Every other CONNMARK form (--set-xmark, --save-mark, …) changes the connection's mark.
  if (!restore) return { kind: "forget-state", module: "connmark" };
  const m = targetArg(rule, "--nfmask") ?? targetArg(rule, "--mask");
  return { kind: "forget-mark", mask: num(m?.args[0]) ?? 0xffffffff };
}

/** What `rule`'s target does, given the chains that were read. */
export function targetAction(
  rule: ParsedRule,
  chains: ReadonlyMap<string, ParsedChain>,
  unread: ReadonlySet<string>,
): TargetAction {
  const t = rule.target;
  if (t === undefined) return { kind: "continue" };
  if (unread.has(t)) return { kind: "unread", chain: t, goto: rule.goto };
  if (chains.has(t) && !TARGET_EXTENSIONS.has(t))
    return { kind: "chain", chain: t, goto: rule.goto };
  switch (t) {
    case "RETURN":
      return { kind: "return" };
    case "ACCEPT":
      return { kind: "accept" };
    case "MASQUERADE":
      return { kind: "nat", nat: "masquerade" };
    case "SNAT":
      return {
        kind: "nat",
        nat: "snat",
        toSource: (targetArg(rule, "--to-source") ?? targetArg(rule, "--to"))?.args[0],
      };
    case "NETMAP":
      return { kind: "nat", nat: "netmap", toSource: targetArg(rule, "--to")?.args[0] };
    case "MARK":
      return markAction(rule);
    case "CONNMARK":
      return connmarkAction(rule);
    case "SET":
      // --add-set / --del-set change what later `-m set` tests see.
      return { kind: "forget-state", module: "set" };
    case "DROP":
    case "REJECT":
      return {
        kind: "stop",
        reason:
          rule.syntax === "nft"
            ? `${t.toLowerCase()} drops the packet`
            : `${t} drops the packet (iptables refuses ${t} in the nat table)`,
      };
    case "DNAT":
    case "REDIRECT":
    case "TPROXY":
      return { kind: "stop", reason: `${t} is not valid in nat POSTROUTING` };
    case "QUEUE":
    case "NFQUEUE":
      return { kind: "stop", reason: `${t} hands the packet to a userspace program` };
    default:
      if (PASS_THROUGH.has(t)) return { kind: "continue" };
      if (TARGET_EXTENSIONS.has(t))
        return { kind: "stop", reason: `what ${t} does here is not modelled` };
      return { kind: "unread", chain: t, goto: rule.goto };
  }
}
