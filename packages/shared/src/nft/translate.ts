// One nftables rule as the path evaluator's rule: its matches as tests (match.ts), its verdict
// or NAT statement as the target, a verdict map as one rule per element. Per family: in an `inet`
// chain `ip daddr …` never matches IPv6 packets. A rule with an expression whose effect is not
// modelled is kept, marked `unreadable` with the reason: the walk answers "unknown" there,
// never "in sync" or "not masqueraded".
import type { Family } from "../cidr.js";
import type { ParsedRule } from "../parser.js";
import type { Test } from "../path/matches.js";
import { parseElements } from "./elements.js";
import {
  type Build,
  fail,
  hexMark,
  IP_FIELDS,
  isMark,
  isObj,
  match,
  numberOf,
  type Obj,
  opaque,
  setOf,
} from "./match.js";
import type { NftTable } from "./parse.js";
import { exprText, kindOf, ruleText, statementText } from "./text.js";

/** How the nft analysis names a chain: "inet ip_masq_agent postrouting". */
export function chainRef(table: Pick<NftTable, "family" | "name">, chain: string): string {
  return `${table.family} ${table.name} ${chain}`;
}

/** Sets the rule's effect; a second effect in one rule is not modelled. */
function effect(
  b: Build,
  target: string,
  args: ParsedRule["targetArgs"] = [],
  goto = false,
): undefined {
  if (b.target !== undefined) {
    b.notUnderstood ??= "more than one effect in one rule";
    return;
  }
  b.target = target;
  b.goto = goto;
  b.targetArgs = args;
}

const arg = (flag: string, ...args: string[]) => ({ flag, args, negated: false });

function natEffect(b: Build, kind: string, body: Obj): undefined {
  const flags =
    body.flags === undefined ? [] : Array.isArray(body.flags) ? body.flags : [body.flags];
  const random = flags.includes("fully-random") ? [arg("--random-fully")] : [];
  const port = body.port !== undefined ? [arg("--to-ports", exprText(body.port))] : [];
  if (kind === "masquerade") return effect(b, "MASQUERADE", [...port, ...random]);
  if (kind === "snat") {
    const to = `${body.addr !== undefined ? exprText(body.addr) : ""}${body.port !== undefined ? `:${exprText(body.port)}` : ""}`;
    return effect(b, "SNAT", [arg("--to-source", to), ...random]);
  }
  effect(b, kind.toUpperCase());
}

/** `meta mark set mark | X` (and &, ^, a constant) as MARK's --set-xmark. */
function markEffect(b: Build, value: unknown): undefined {
  const n = numberOf(value);
  if (n !== undefined) return effect(b, "MARK", [arg("--set-xmark", `${hexMark(n)}/0xffffffff`)]);
  const k = kindOf(value);
  const ops = k && Array.isArray(k[1]) ? k[1] : [];
  const x = numberOf(ops[1]);
  if (k && isMark(ops[0]) && x !== undefined) {
    if (k[0] === "|") return effect(b, "MARK", [arg("--set-xmark", `${hexMark(x)}/${hexMark(x)}`)]);
    if (k[0] === "^") return effect(b, "MARK", [arg("--set-xmark", `${hexMark(x)}/0x0`)]);
    if (k[0] === "&") return effect(b, "MARK", [arg("--set-xmark", `0x0/${hexMark(~x >>> 0)}`)]);
  }
  effect(b, "MARK"); // MARK without arguments: every bit of the mark becomes unknown
}

const PASS = new Set(["counter", "log", "notrack", "comment"]);

function statement(b: Build, s: unknown): undefined {
  const k = kindOf(s);
  if (!k) return fail(b, `not an nft expression: ${JSON.stringify(s).slice(0, 80)}`);
  const [kind, body] = k;
  const o = isObj(body) ? body : {};
  if (b.target !== undefined && !PASS.has(kind))
    return fail(b, `${statementText(s)} after the rule's effect`);
  switch (kind) {
    case "match":
      return match(b, o);
    case "accept":
    case "return":
    case "drop":
      return effect(b, kind.toUpperCase());
    case "continue":
      return;
    case "jump":
    case "goto":
      return effect(b, chainRef(b.table, String(o.target)), [], kind === "goto");
    case "masquerade":
    case "snat":
    case "dnat":
    case "redirect":
      return natEffect(b, kind, o);
    case "reject":
      return effect(b, "REJECT");
    case "limit":
    case "quota":
      return opaque(b, statementText(s), false, true);
    case "mangle":
      if (isMark(o.key)) return markEffect(b, o.value);
      if (kindOf(o.key)?.[0] === "ct" && (kindOf(o.key)![1] as Obj).key === "mark")
        return effect(b, "CONNMARK", [arg("--set-xmark", exprText(o.value))]);
      return fail(b, `${statementText(s)} is not modelled`);
    case "xt":
      return xt(b, o);
    default:
      if (PASS.has(kind)) return;
      return fail(b, `${statementText(s)} is not modelled`);
  }
}

/** iptables-nft's compat expressions: nft -j shows their names, never their arguments. */
function xt(b: Build, o: Obj): undefined {
  const name = String(o.name);
  if (o.type === "match") {
    if (name === "comment") return;
    return opaque(b, `xt match ${name} (arguments not shown by nft -j)`, false, true);
  }
  if (name === "MASQUERADE") return effect(b, "MASQUERADE");
  if (name === "SNAT")
    return effect(b, "SNAT", [arg("--to-source", "an address nft -j does not show")]);
  if (name === "MARK") return effect(b, "MARK");
  b.notUnderstood ??= `xt target ${name} (arguments not shown by nft -j) is not modelled`;
}

let nextId = 0;

/**
 * One nft rule as evaluator rules for `family`: usually one; a verdict map keyed by address
 * becomes one rule per element (elements are disjoint, so the order does not matter).
 */
export function translateRule(
  table: NftTable,
  chain: string,
  rule: { handle?: number; comment?: string; expr: readonly unknown[] },
  family: Family,
): ParsedRule[] {
  const b: Build = { family, table, tests: [], goto: false, targetArgs: [], id: String(++nextId) };
  const vmaps: Obj[] = [];
  for (const s of rule.expr) {
    const k = kindOf(s);
    if (k?.[0] === "vmap" && isObj(k[1]) && b.target === undefined) vmaps.push(k[1]);
    else statement(b, s);
  }
  const base: ParsedRule = {
    line: rule.handle ?? 0,
    text: ruleText(rule.expr, rule.comment),
    table: `${table.family} ${table.name}`,
    chain: chainRef(table, chain),
    matches: [],
    goto: b.goto,
    targetArgs: b.targetArgs,
    ...(b.target !== undefined ? { target: b.target } : {}),
    ...(rule.comment !== undefined ? { comment: rule.comment } : {}),
    syntax: "nft",
    compiled: { tests: b.tests, matchesNothing: b.matchesNothing },
  };
  if (b.notUnderstood) {
    const { target: _t, ...rest } = base;
    return [{ ...rest, goto: false, targetArgs: [], unreadable: b.notUnderstood }];
  }
  if (vmaps.length === 0) return [base];
  if (vmaps.length > 1 || b.target !== undefined)
    return [{ ...base, unreadable: "a verdict map with another effect in one rule" }];
  return vmapRules(b, base, vmaps[0]!);
}

/**
 * What selects one element of a verdict map: an address range of the key's field (decided like
 * any address), or, for other keys (interfaces, numgen, concatenations), a condition per element
 * ("oifname docker0"). Elements hold distinct keys, so at most one holds; conditions do not know
 * that, so the walk may follow a branch where two hold: more branches, never a wrong one.
 */
function elementTest(b: Build, v: Obj, key: unknown): Test | undefined | "other-family" {
  const k = kindOf(v.key);
  const body = k && isObj(k[1]) ? (k[1] as Obj) : {};
  const fam = k?.[0] === "payload" ? IP_FIELDS[String(body.protocol)] : undefined;
  const field =
    body.field === "saddr" ? "source" : body.field === "daddr" ? "destination" : undefined;
  if (fam && field) {
    if (fam !== b.family) return "other-family";
    const r = parseElements([key], b.family);
    return r && { kind: "address-set", field, ranges: r, text: exprText(key) };
  }
  const text = `${exprText(v.key)} ${exprText(key)}`;
  const stateful = k?.[0] === "numgen" || k?.[0] === "jhash";
  return { kind: "opaque", key: stateful ? `${text} #${b.id}` : text, text, module: "nft" };
}

/** `KEY vmap { K1 : return, K2 : jump X }` → one rule per element: its test + its verdict. */
function vmapRules(b: Build, base: ParsedRule, v: Obj): ParsedRule[] {
  const named = typeof v.data === "string" ? setOf(b, v.data) : undefined;
  const dk = kindOf(v.data);
  const elems = named ? named.elem : dk?.[0] === "set" && Array.isArray(dk[1]) ? dk[1] : undefined;
  if (!elems)
    return [{ ...base, unreadable: `${exprText(v.data)} is a verdict map that was not read` }];
  return elems.map((e, i) => {
    const pair = Array.isArray(e) ? e : [];
    const test = elementTest(b, v, pair[0]);
    const text = `${base.text} (element ${i + 1}: ${exprText(pair[0])} : ${statementText(pair[1])})`;
    if (test === "other-family")
      return {
        ...base,
        text,
        compiled: { tests: [], matchesNothing: "matches another family only" },
      };
    const one: Build = { ...b, tests: [...b.tests], target: undefined, targetArgs: [] };
    statement(one, pair[1]);
    if (!test || one.notUnderstood || one.target === undefined)
      return {
        ...base,
        text,
        unreadable: one.notUnderstood ?? "a verdict map element that is not a key and a verdict",
      };
    return {
      ...base,
      text,
      target: one.target,
      goto: one.goto,
      targetArgs: one.targetArgs,
      compiled: {
        tests: [...one.tests, { test, negated: false }],
        matchesNothing: one.matchesNothing,
      },
    };
  });
}
