// iptables-save / `iptables -S` text → structured rules. Linear, allocation-light, and never
// throws: a line it cannot read becomes a per-line error and parsing goes on.
import { iptablesAddress } from "./cidr.js";
import type { CompiledRule } from "./path/matches.js";

/** One option with its arguments, e.g. `! --dst-type LOCAL` or `-d 10.0.0.0/8`. */
export interface Clause {
  flag: string;
  args: string[];
  negated: boolean;
}

/** A match module (`-m name`) and its options, or the built-in matches (`name` = ""). */
export interface MatchBlock {
  module: string;
  clauses: Clause[];
}

export interface ParsedRule {
  /** 1-based line number in the input. */
  line: number;
  /** The rule text from `-A` on (counters stripped). */
  text: string;
  table: string;
  chain: string;
  /** Built-in matches first (`-s -d -p -i -o -f`), then each `-m` module in order. */
  matches: MatchBlock[];
  /** `-j TARGET` or `-g CHAIN`. */
  target?: string;
  goto: boolean;
  targetArgs: Clause[];
  comment?: string;
  /**
   * Why the line could not be read, when it could not: the kernel still has a rule here, with
   * an effect we do not know. Kept in its chain so rule numbers stay the kernel's.
   */
  unreadable?: string;
  /**
   * The rule's tests when they do not come from iptables matches (an nftables rule translated
   * by nft/translate.ts): used as they are instead of compiling `matches`.
   */
  compiled?: CompiledRule;
  /** The syntax `text` is written in (absent: iptables). */
  syntax?: "nft";
}

export interface ParsedChain {
  name: string;
  /** Built-in chains carry a policy; user chains have none. */
  policy?: string;
  rules: ParsedRule[];
}

export interface ParseError {
  line: number;
  text: string;
  reason: string;
  /** The input as a whole is not one node's table (answers from it would be wrong). */
  fatal?: boolean;
  /** The chain the unreadable rule was kept in (as a rule of unknown effect), if any. */
  inChain?: string;
}

export interface Ruleset {
  /** table → chain → chain data, in the order first seen. */
  tables: Map<string, Map<string, ParsedChain>>;
}

export interface ParseResult {
  ruleset: Ruleset;
  errors: ParseError[];
}

const BUILTIN_FLAGS = new Set(["-s", "-d", "-p", "-i", "-o", "-f"]);
/** Options of the nat targets, to tell them from match options written after the target. */
const TARGET_OPTIONS: Record<string, ReadonlySet<string>> = {
  MASQUERADE: new Set(["--to-ports", "--random", "--random-fully"]),
  SNAT: new Set(["--to-source", "--random", "--random-fully", "--persistent"]),
  DNAT: new Set(["--to-destination", "--random", "--persistent"]),
  REDIRECT: new Set(["--to-ports", "--random"]),
  MARK: new Set(["--set-xmark", "--set-mark", "--and-mark", "--or-mark", "--xor-mark"]),
};
const LONG_FLAG_ALIASES: Record<string, string> = {
  "--source": "-s",
  "--destination": "-d",
  "--protocol": "-p",
  "--in-interface": "-i",
  "--out-interface": "-o",
  "--fragment": "-f",
  "--match": "-m",
  "--jump": "-j",
  "--goto": "-g",
};

/**
 * Options whose argument is free text: getopt gives them the next word whatever it is, and
 * iptables prints it unquoted when it has no spaces (`--comment -m`, `--log-prefix -j`).
 * From the extensions' option tables (xt_comment, LOG, NFLOG, recent, hashlimit, string, helper).
 */
const TEXT_ARG_FLAGS: ReadonlySet<string> = new Set([
  "--comment",
  "--log-prefix",
  "--nflog-prefix",
  "--name",
  "--hashlimit-name",
  "--string",
  "--hex-string",
  "--helper",
]);

const WHITESPACE = /[ \t]+/;
const SPECIAL = new Set([" ", "\t", '"', "'", "\\"]);

/** A word read from a line: its text and the index just past it. */
interface Word {
  text: string;
  end: number;
}

/** Where a run of characters without quotes, escapes or blanks that starts at `i` ends. */
function plainRunEnd(line: string, i: number): number {
  let j = i;
  while (j < line.length && !SPECIAL.has(line[j]!)) j++;
  return j;
}

/** Reads the word starting at `start` (not a blank), honouring quotes; a string says why not. */
function readWord(line: string, start: number): Word | string {
  const n = line.length;
  let i = start;
  let text = "";
  let quoted = false;
  while (i < n) {
    const ch = line[i]!;
    if (!quoted && (ch === " " || ch === "\t")) break;
    if (ch === "'" && !quoted && text === "")
      return "single-quoted words are not iptables-save syntax";
    if (ch === '"') {
      quoted = !quoted;
      i++;
    } else if (ch === "\\" && quoted && i + 1 < n) {
      text += line[i + 1];
      i += 2;
    } else {
      const j = plainRunEnd(line, i + 1);
      text += line.slice(i, j);
      i = j;
    }
  }
  return quoted ? "unterminated quote" : { text, end: i };
}

/** Splits a line into words honouring iptables-save quoting ("a b", \" and \\ escapes). */
export function tokenize(line: string): string[] | string {
  // Most rules have no quotes: split fast; only quoted comments take the slow path.
  if (!line.includes('"') && !line.includes("'"))
    return line.split(WHITESPACE).filter((w) => w !== "");
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const word = readWord(line, i);
    if (typeof word === "string") return word;
    out.push(word.text);
    i = word.end;
  }
  return out;
}

function isFlag(w: string): boolean {
  return w.length > 1 && w[0] === "-" && !/^-[0-9]/.test(w);
}

/**
 * Applies a '!' at `i` to the clause before it when it is old iptables' `-d ! 10.0.0.0/8` (the
 * clause has no argument yet and an argument follows); false when it negates the next clause.
 */
function negatePrevious(clauses: readonly Clause[], words: readonly string[], i: number): boolean {
  const last = clauses[clauses.length - 1];
  const next = words[i + 1];
  if (!last || last.args.length > 0 || next === undefined || isFlag(next) || next === "!")
    return false;
  last.negated = true;
  return true;
}

/**
 * Whether the word after flag `w` is its argument whatever it is: free-text options take the
 * next word, even `-j` or `!` (never a '!' for comments, which cannot be negated; others may
 * use the old `--name ! X` form).
 */
function takesNextWord(w: string, next: string | undefined): next is string {
  return TEXT_ARG_FLAGS.has(w) && next !== undefined && (next !== "!" || w === "--comment");
}

/** Groups words after the chain name into clauses. */
function clausesOf(words: string[], start: number): Clause[] | string {
  const clauses: Clause[] = [];
  let negateNext = false;
  for (let i = start; i < words.length; i++) {
    const w = words[i]!;
    if (w === "!") {
      if (negateNext) return "double negation";
      negateNext = !negatePrevious(clauses, words, i);
      continue;
    }
    if (!isFlag(w)) {
      const last = clauses[clauses.length - 1];
      if (!last) return `unexpected word "${w}"`;
      last.args.push(w);
      continue;
    }
    const clause: Clause = { flag: LONG_FLAG_ALIASES[w] ?? w, args: [], negated: negateNext };
    clauses.push(clause);
    negateNext = false;
    const next = words[i + 1];
    if (takesNextWord(w, next)) {
      clause.args.push(next);
      i++;
    }
  }
  if (negateNext) return "dangling '!'";
  return clauses;
}

/** A rule being built from its clauses, in order. */
interface RuleBuild {
  rule: ParsedRule;
  builtin: MatchBlock;
  /** The last `-m` block, which takes the match options after it. */
  current?: MatchBlock;
  /** Whether a `-m` came after the target. */
  moduleAfterTarget: boolean;
}

/** `-m module`: a new match block. */
function addModule(b: RuleBuild, c: Clause): string | undefined {
  if (c.args.length !== 1) return "-m needs one module name";
  b.current = { module: c.args[0]!, clauses: [] };
  b.rule.matches.push(b.current);
  b.moduleAfterTarget = b.rule.target !== undefined;
  return undefined;
}

/** `-j TARGET` or `-g CHAIN`. */
function setTarget(b: RuleBuild, c: Clause): string | undefined {
  if (b.rule.target !== undefined) return "more than one target";
  if (c.args.length !== 1) return `${c.flag} needs one target`;
  b.rule.target = c.args[0]!;
  b.rule.goto = c.flag === "-g";
  return undefined;
}

/**
 * iptables accepts matches after the target (upstream writes `-j MASQUERADE --random-fully
 * -p tcp -m statistic …`); a long option after the target is the target's when the target is
 * known to take it, or when no match module follows the target.
 */
function isTargetOption(b: RuleBuild, c: Clause): boolean {
  const target = b.rule.target;
  return target !== undefined && (!b.moduleAfterTarget || !!TARGET_OPTIONS[target]?.has(c.flag));
}

/** Any other option: the target's, the current module's, or a built-in match's. */
function addOption(b: RuleBuild, c: Clause): void {
  if (BUILTIN_FLAGS.has(c.flag)) b.builtin.clauses.push(c);
  else if (isTargetOption(b, c)) b.rule.targetArgs.push(c);
  else if (b.current) {
    b.current.clauses.push(c);
    if (b.current.module === "comment" && c.flag === "--comment") b.rule.comment = c.args.join(" ");
  } else b.builtin.clauses.push(c);
}

function buildRule(
  lineNo: number,
  text: string,
  table: string,
  chain: string,
  clauses: Clause[],
): ParsedRule | string {
  const builtin: MatchBlock = { module: "", clauses: [] };
  const rule: ParsedRule = {
    line: lineNo,
    text,
    table,
    chain,
    matches: [builtin],
    goto: false,
    targetArgs: [],
  };
  const b: RuleBuild = { rule, builtin, moduleAfterTarget: false };
  for (const c of clauses) {
    const error =
      c.flag === "-m"
        ? addModule(b, c)
        : c.flag === "-j" || c.flag === "-g"
          ? setTarget(b, c)
          : addOption(b, c);
    if (error) return error;
  }
  if (builtin.clauses.length === 0) rule.matches.shift();
  return rule;
}

function chainOf(ruleset: Ruleset, table: string, name: string): ParsedChain {
  let t = ruleset.tables.get(table);
  if (!t) {
    t = new Map();
    ruleset.tables.set(table, t);
  }
  let c = t.get(name);
  if (!c) {
    c = { name, rules: [] };
    t.set(name, c);
  }
  return c;
}

const COUNTERS = /^\[\d+:\d+\]$/;
const APPEND_CHAIN = /^(?:\[\d+:\d+\]\s+)?-A\s+([^\s!-]\S*)/;
const CHAIN_DECLARATION = /^:(\S+)\s+(\S+)(?:\s+\[\d+:\d+\])?$/;
/** Commands that edit a table: lines of a script, not of a dump (iptables-save/-S print -A). */
const EDIT_COMMANDS: Record<string, string> = {
  "-I": "inserts a rule",
  "-D": "deletes a rule",
  "-R": "replaces a rule",
  "-F": "flushes a chain",
  "-X": "deletes a chain",
  "-Z": "zeroes counters",
  "-E": "renames a chain",
};

/**
 * A rule line that could not be read still is a rule in the kernel: keep a placeholder in its
 * chain (when the chain can be told), so the path evaluator treats it as unknown.
 */
function keepUnreadable(
  ruleset: Ruleset,
  table: string,
  lineNo: number,
  trimmed: string,
  reason: string,
): string | undefined {
  const m = APPEND_CHAIN.exec(trimmed);
  if (!m) return undefined;
  const chain = m[1]!;
  const text = trimmed.slice(trimmed.indexOf("-A"));
  chainOf(ruleset, table, chain).rules.push({
    line: lineNo,
    text,
    table,
    chain,
    matches: [],
    goto: false,
    targetArgs: [],
    unreadable: reason,
  });
  return chain;
}

/** The parse so far: the current table (`*table` switches it) and the headers seen. */
interface ParseState {
  ruleset: Ruleset;
  errors: ParseError[];
  table: string;
  headers: Set<string>;
}

/** One non-blank, non-comment line: its number, the text without CR, and trimmed. */
interface Line {
  no: number;
  raw: string;
  trimmed: string;
}

/** Records a line that cannot be read (and keeps it in its chain as an unknown rule). */
function failLine(s: ParseState, l: Line, reason: string): void {
  const inChain = keepUnreadable(s.ruleset, s.table, l.no, l.trimmed, reason);
  s.errors.push({ line: l.no, text: l.raw, reason, ...(inChain ? { inChain } : {}) });
}

/** `*table`: switches the table; a second header for the same table is two dumps in one. */
function tableHeader(s: ParseState, l: Line): void {
  s.table = l.trimmed.slice(1);
  if (!/^[a-z]+$/.test(s.table)) failLine(s, l, "bad table name");
  else if (s.headers.has(s.table))
    s.errors.push({
      line: l.no,
      text: l.raw,
      reason: `table ${s.table} appears twice: two dumps (e.g. iptables-legacy-save and iptables-nft-save output) are two backends, read each on its own`,
      fatal: true,
    });
  s.headers.add(s.table);
}

/** `:CHAIN POLICY [packets:bytes]`. */
function chainDeclaration(s: ParseState, l: Line): void {
  const m = CHAIN_DECLARATION.exec(l.trimmed);
  if (!m) {
    failLine(s, l, "bad chain declaration");
    return;
  }
  const c = chainOf(s.ruleset, s.table, m[1]!);
  if (m[2] !== "-") c.policy = m[2];
}

/** Why a command line's words are not a `-A`/`-N`/`-P` line with a chain; undefined if they are. */
function commandProblem(op: string | undefined, chain: string | undefined): string | undefined {
  const edit = op === undefined ? undefined : EDIT_COMMANDS[op];
  if (edit)
    return `${op} ${edit}: a command, not a line of iptables-save or iptables -S output (which list rules with -A, in order)`;
  if (op !== "-A" && op !== "-N" && op !== "-P")
    return "not an iptables rule (expected -A, -N, -P, :CHAIN, *table or COMMIT)";
  if (!chain || chain[0] === "-" || chain[0] === "!") return "missing chain name";
  return undefined;
}

/** `-A CHAIN clauses…`: a rule appended to its chain. */
function appendRule(s: ParseState, l: Line, words: string[], counted: boolean): void {
  const chain = words[1]!;
  const clauses = clausesOf(words, 2);
  if (typeof clauses === "string") {
    failLine(s, l, clauses);
    return;
  }
  const ruleText = counted ? l.trimmed.slice(l.trimmed.indexOf("-A")) : l.trimmed;
  const rule = buildRule(l.no, ruleText, s.table, chain, clauses);
  if (typeof rule === "string") failLine(s, l, rule);
  else chainOf(s.ruleset, s.table, chain).rules.push(rule);
}

/** A `-A`, `-N` or `-P` line (optionally after `[packets:bytes]`). */
function commandLine(s: ParseState, l: Line): void {
  const words = tokenize(l.trimmed);
  if (typeof words === "string") {
    failLine(s, l, words);
    return;
  }
  const counted = words[0]?.[0] === "[" && COUNTERS.test(words[0]);
  const w = counted ? words.slice(1) : words;
  const [op, chain] = w;
  const problem = commandProblem(op, chain);
  if (problem) {
    failLine(s, l, problem);
    return;
  }
  if (op === "-A") appendRule(s, l, w, counted);
  else if (op === "-N") {
    if (w.length !== 2) failLine(s, l, "-N takes only a chain name");
    else chainOf(s.ruleset, s.table, chain!);
  } else if (w.length !== 3) failLine(s, l, "-P takes a chain and a policy");
  else chainOf(s.ruleset, s.table, chain!).policy = w[2];
}

/** One line of input, by its first character. */
function parseLine(s: ParseState, l: Line): void {
  const first = l.trimmed[0];
  if (first === "*") tableHeader(s, l);
  else if (first === ":") chainDeclaration(s, l);
  else if (l.trimmed !== "COMMIT") commandLine(s, l);
}

/**
 * Parses iptables-save output (`*table` … `COMMIT`), `iptables -S` output (no table header:
 * `defaultTable` is used), or a mix. Unknown matches and targets are kept verbatim.
 */
export function parseIptables(text: string, defaultTable = "nat"): ParseResult {
  const s: ParseState = {
    ruleset: { tables: new Map() },
    errors: [],
    table: defaultTable,
    headers: new Set(),
  };
  const lines = text.split("\n");
  for (let idx = 0; idx < lines.length; idx++) {
    const line = lines[idx]!;
    const raw = line.endsWith("\r") ? line.slice(0, -1) : line;
    const trimmed = raw.trim();
    if (trimmed !== "" && trimmed[0] !== "#") parseLine(s, { no: idx + 1, raw, trimmed });
  }
  return { ruleset: s.ruleset, errors: s.errors };
}

export function getChain(ruleset: Ruleset, table: string, chain: string): ParsedChain | undefined {
  return ruleset.tables.get(table)?.get(chain);
}

/** The value of a built-in or module clause, e.g. clauseOf(rule, "", "-d"). */
export function clauseOf(rule: ParsedRule, module: string, flag: string): Clause | undefined {
  for (const m of rule.matches) {
    if (m.module !== module) continue;
    const c = m.clauses.find((x) => x.flag === flag);
    if (c) return c;
  }
  return undefined;
}

export function targetArg(rule: ParsedRule, flag: string): Clause | undefined {
  return rule.targetArgs.find((c) => c.flag === flag);
}

/**
 * The kernel stores `--probability` in 1/2^31 steps, so iptables prints another text than the
 * one written (0.4692925628 comes back as 0.46929256292): compare at 6 decimals.
 */
function clauseArgsKey(module: string, c: Clause): string {
  const p = module === "statistic" && c.flag === "--probability" ? Number(c.args[0]) : Number.NaN;
  return Number.isFinite(p) && c.args.length === 1 ? p.toFixed(6) : c.args.join(" ");
}

/**
 * An address argument as the kernel stores it: canonical CIDR text (`10.0.0.1` is
 * `10.0.0.1/32`), or "*" for every address, which iptables never prints (`-d 0.0.0.0/0`,
 * `-s ::/0` are left out of iptables-save and -S output). Undefined when it is not an address.
 */
export function addressKey(text: string): string | undefined {
  const c = iptablesAddress(text);
  if (!c) return undefined;
  return c.prefix === 0 ? "*" : c.canonical;
}

/** A clause's key, or undefined for one that matches every packet (iptables omits those). */
function clauseKey(module: string, c: Clause): string | undefined {
  if (module === "" && (c.flag === "-s" || c.flag === "-d") && c.args.length === 1) {
    const addr = addressKey(c.args[0]!);
    if (addr === "*" && !c.negated) return undefined;
    if (addr !== undefined) return `|${c.negated ? "!" : ""}${c.flag} ${addr}`;
  }
  if (module === "" && c.flag === "-p" && !c.negated && c.args[0] === "all") return undefined;
  return `${module}|${c.negated ? "!" : ""}${c.flag} ${clauseArgsKey(module, c)}`;
}

/** Behaviour key: everything but comments, order-independent (iptables ANDs matches). */
export function behaviourKey(rule: ParsedRule): string {
  if (rule.unreadable !== undefined) return `unreadable|${rule.text}`;
  const parts: string[] = [];
  for (const m of rule.matches) {
    if (m.module === "comment") continue;
    for (const c of m.clauses) {
      const key = clauseKey(m.module, c);
      if (key !== undefined) parts.push(key);
    }
    if (m.clauses.length === 0) parts.push(`${m.module}|`);
  }
  parts.sort();
  // Target options are order-free too (`--to-ports X --random-fully` = `--random-fully --to-ports X`).
  const options = rule.targetArgs
    .map((c) => `${c.negated ? "! " : ""}${c.flag} ${c.args.join(" ")}`)
    .sort();
  const target = `${rule.goto ? "-g" : "-j"} ${rule.target ?? ""} ${options.join(" ")}`;
  return `${parts.join(";")}=>${target.trim()}`;
}
