// Desired vs actual chain, rule by rule, for people: each rule described in words, the two
// sides aligned (same behaviour on one line), differences marked and explained with the
// shared drift engine's messages. Parsing and analysis are @masq/shared's.
import {
  analyzeFamily,
  analyzeSnapshot,
  behaviourKey,
  type ChainEntry,
  type Difference,
  type FamilyAnalysis,
  type FamilySnapshot,
  jumpRuleLine,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
} from "@masq/shared";

export type RowState =
  | "same"
  | "cosmetic"
  | "moved"
  | "missing"
  | "unexpected"
  | "covered"
  | "unreachable";

export interface RuleView {
  index: number;
  text: string;
  title: string;
  detail?: string;
  role: ChainEntry["role"];
}

export interface CompareRow {
  state: RowState;
  desired?: RuleView;
  actual?: RuleView;
  /** Why it matters, from the drift engine when it has something to say. */
  explanation?: string;
  difference?: Difference;
}

export interface FamilyCompare {
  family: "ipv4" | "ipv6";
  chain: string;
  chainExists: boolean;
  desired: FamilyAnalysis;
  actual: FamilyAnalysis;
  rows: CompareRow[];
  jump: JumpState;
  readError?: string;
}

export type JumpStateKind = "present" | "missing" | "duplicate" | "shadowed" | "modified";
export interface JumpState {
  kind: JumpStateKind;
  text: string;
  /** POSTROUTING rules as read, with the jump and shadowing rules marked. */
  rules: { index: number; text: string; mark?: "jump" | "shadow" | "duplicate" }[];
}

function isLinkLocal(canonical: string | undefined): boolean {
  return canonical === LINK_LOCAL_CIDR || canonical === LINK_LOCAL_CIDR_IPV6;
}

/** One rule in a few words: "10.0.0.0/8 keeps pod IP", "everything else is masqueraded". */
export function describeEntry(e: ChainEntry): { title: string; detail?: string } {
  const extra: string[] = [];
  if (e.protocol) extra.push(`${e.protocol} only`);
  if (e.probability !== undefined) extra.push(`${(e.probability * 100).toFixed(1)}% of flows`);
  if (e.conditions.length > 0) extra.push(`only when ${e.conditions.join(", ")}`);
  if (e.legacy) extra.push("written by an older agent");
  const detail = extra.length > 0 ? extra.join(" · ") : undefined;
  const cidr = e.cidr?.canonical;
  if (e.role === "return") {
    if (!cidr) return { title: "all traffic keeps pod IP", detail };
    if (e.negated) return { title: `everything except ${cidr} keeps pod IP`, detail };
    return { title: `${cidr}${isLinkLocal(cidr) ? " (link-local)" : ""} keeps pod IP`, detail };
  }
  if (e.role === "masquerade") {
    const opts: string[] = [];
    if (e.toPorts) opts.push(`to ports ${e.toPorts}`);
    if (e.randomFully) opts.push("random-fully");
    const how = opts.length > 0 ? ` (${opts.join(", ")})` : "";
    if (cidr)
      return { title: `traffic ${e.negated ? "not " : ""}to ${cidr} is masqueraded${how}`, detail };
    if (e.protocol || e.probability !== undefined)
      return { title: `${e.protocol ?? "some"} traffic is masqueraded${how}`, detail };
    return { title: `everything else is masqueraded${how}`, detail };
  }
  const target = e.rule.target
    ? `${e.rule.goto ? "goes to" : "jumps to"} ${e.rule.target}`
    : "has no target";
  return {
    title: `foreign rule: ${cidr ? `traffic ${e.negated ? "not " : ""}to ${cidr} ` : ""}${target}`,
    detail,
  };
}

function keyOf(e: ChainEntry): string {
  if (e.role === "return" && e.cidr) {
    return `R|${e.negated ? "!" : ""}${e.cidr.canonical}|${e.conditions.join(";")}|${e.protocol ?? ""}|${e.probability ?? ""}`;
  }
  return behaviourKey(e.rule);
}

function view(e: ChainEntry): RuleView {
  const d = describeEntry(e);
  return { index: e.index, text: e.rule.text, title: d.title, detail: d.detail, role: e.role };
}

/** Longest common subsequence alignment of two key lists. */
export function align(
  a: readonly string[],
  b: readonly string[],
): [number | null, number | null][] {
  const n = a.length;
  const m = b.length;
  const dp: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      dp[i]![j] = a[i] === b[j] ? dp[i + 1]![j + 1]! + 1 : Math.max(dp[i + 1]![j]!, dp[i]![j + 1]!);
    }
  }
  const out: [number | null, number | null][] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) out.push([i++, j++]);
    else if (dp[i + 1]![j]! >= dp[i]![j + 1]!) out.push([i++, null]);
    else out.push([null, j++]);
  }
  while (i < n) out.push([i++, null]);
  while (j < m) out.push([null, j++]);
  return out;
}

function splitLines(
  lines: readonly string[],
  chain: string,
): { chain: string[]; postrouting: string[] } {
  const c: string[] = [];
  const p: string[] = [];
  for (const l of lines) {
    if (/^-A POSTROUTING\s/.test(l) || /^-P POSTROUTING\s/.test(l) || l === "-N POSTROUTING")
      p.push(l);
    else c.push(l);
  }
  return { chain: c, postrouting: p.length > 0 ? p : [jumpRuleLine(chain)] };
}

export function jumpState(a: FamilyAnalysis): JumpState {
  const shadows = a.shadows.filter((s) => s.effect !== "unknown");
  const rules = [
    ...a.shadows.map((s) => ({
      index: s.index,
      text: s.rule.text,
      mark: s.effect !== "unknown" ? ("shadow" as const) : undefined,
    })),
    ...a.jumps.map((j, i) => ({
      index: j.index,
      text: j.rule.text,
      mark: i === 0 ? ("jump" as const) : ("duplicate" as const),
    })),
  ].sort((x, y) => x.index - y.index);
  if (a.jumps.length === 0)
    return {
      kind: "missing",
      text: `POSTROUTING does not jump to ${a.chain}: the chain is never used`,
      rules,
    };
  if (shadows.length > 0) {
    const s = shadows[0]!;
    return {
      kind: "shadowed",
      text: `POSTROUTING rule ${s.index + 1} ${s.effect === "masquerade" ? "masquerades" : "accepts"} traffic before the jump to ${a.chain}`,
      rules,
    };
  }
  if (a.jumps.length > 1)
    return {
      kind: "duplicate",
      text: `POSTROUTING jumps to ${a.chain} ${a.jumps.length} times`,
      rules,
    };
  if (!a.jumps[0]!.canonical)
    return {
      kind: "modified",
      text: `the jump to ${a.chain} has other conditions (${a.jumps[0]!.conditions.join(", ")})`,
      rules,
    };
  return {
    kind: "present",
    text: `POSTROUTING jumps to ${a.chain} for non-local destinations`,
    rules,
  };
}

function findDifference(
  diffs: readonly Difference[],
  kind: Difference["kind"],
  pred: (d: Difference) => boolean,
): Difference | undefined {
  return diffs.find((d) => d.kind === kind && pred(d));
}

/** Compares one family's desired lines with what the node reported. */
export function compareFamily(
  family: "ipv4" | "ipv6",
  chain: string,
  desiredLines: readonly string[],
  snapshot: FamilySnapshot | undefined,
  differences: readonly Difference[],
): FamilyCompare {
  const d = splitLines(desiredLines, chain);
  const desired = analyzeFamily({
    family,
    chain,
    chainText: d.chain.join("\n"),
    postroutingText: d.postrouting.join("\n"),
  });
  const actual = analyzeSnapshot(snapshot ?? { family, backend: "nf_tables", chains: [] }, chain);
  const scoped = differences.filter((x) => x.scope === family);
  const dKeys = desired.entries.map(keyOf);
  const aKeys = actual.entries.map(keyOf);
  const pairs = align(dKeys, aKeys);
  const unmatchedActual = new Set(pairs.filter(([i]) => i === null).map(([, j]) => aKeys[j!]));
  const unmatchedDesired = new Set(pairs.filter(([, j]) => j === null).map(([i]) => dKeys[i!]));
  const unreachable = new Set(actual.unreachable);
  const rows: CompareRow[] = pairs.map(([i, j]) => {
    const de = i === null ? undefined : desired.entries[i];
    const ae = j === null ? undefined : actual.entries[j];
    if (de && ae) {
      // iptables prints matches in its own order: compare behaviour and comment, not text.
      const same =
        de.rule.text === ae.rule.text ||
        (behaviourKey(de.rule) === behaviourKey(ae.rule) && de.rule.comment === ae.rule.comment);
      return {
        state: same ? "same" : "cosmetic",
        desired: view(de),
        actual: view(ae),
        explanation: same ? undefined : "Same behaviour, different text (comment or option order).",
      };
    }
    if (de) {
      if (unmatchedActual.has(dKeys[i!]))
        return {
          state: "moved",
          desired: view(de),
          explanation: "Present on the node, at another position.",
        };
      const cidr = de.cidr?.canonical;
      const diff = cidr
        ? findDifference(scoped, "missing-cidr", (x) => x.cidr === cidr)
        : undefined;
      if (de.role === "return" && !diff && actual.chainExists) {
        return {
          state: "covered",
          desired: view(de),
          explanation: "Not present as written, but other rules on the node give the same result.",
        };
      }
      const fallback =
        de.role === "masquerade"
          ? (findDifference(scoped, "masquerade-missing", () => true) ??
            findDifference(scoped, "masquerade-options", () => true))
          : undefined;
      const use =
        diff ??
        fallback ??
        (actual.chainExists ? undefined : findDifference(scoped, "chain-missing", () => true));
      return {
        state: "missing",
        desired: view(de),
        difference: use,
        explanation: use?.impact ?? use?.message ?? "Missing on the node.",
      };
    }
    const a = ae!;
    if (unreachable.has(a.index)) {
      const diff = findDifference(scoped, "masquerade-not-last", () => true);
      return {
        state: "unreachable",
        actual: view(a),
        difference: diff,
        explanation: "Comes after MASQUERADE: no packet ever reaches it.",
      };
    }
    if (unmatchedDesired.has(aKeys[j!]))
      return {
        state: "moved",
        actual: view(a),
        explanation: "Configured too, at another position.",
      };
    const cidr = a.cidr?.canonical;
    const diff =
      (cidr ? findDifference(scoped, "unexpected-cidr", (x) => x.cidr === cidr) : undefined) ??
      findDifference(scoped, "foreign-rule", (x) => x.rule === a.rule.text) ??
      findDifference(scoped, "masquerade-options", (x) => x.rule === a.rule.text);
    if (a.role === "return" && !diff && !a.negated && a.conditions.length === 0) {
      return {
        state: "covered",
        actual: view(a),
        explanation:
          "Not configured as written, but already covered by configured CIDRs: no effect.",
      };
    }
    return {
      state: "unexpected",
      actual: view(a),
      difference: diff,
      explanation: diff?.impact ?? diff?.message ?? "Not part of the desired chain.",
    };
  });
  return {
    family,
    chain,
    chainExists: actual.chainExists,
    desired,
    actual,
    rows,
    jump: jumpState(actual),
    readError: snapshot?.readError,
  };
}
