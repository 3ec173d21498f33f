// The node page of a native nftables node, in the same shape as an iptables node's
// (node-view.ts): per family the nat path (every base chain on nat postrouting, in priority
// order, with the rules that decide), the agent's table desired vs actual in nft syntax (its
// rules, then its set's elements by CIDR), and drift's differences. Nothing is judged again:
// rows carry assessNft's differences.
import type { RuleRole } from "../analysis/chain.js";
import type { Family } from "../cidr.js";
import type { AgentFlags, MasqConfig } from "../config.js";
import { type Difference, healedByResync } from "../drift.js";
import {
  decisionsByChain,
  type FamilyView,
  type LinuxNodeView,
  MAX_PATH_CHAINS,
  type PathChainView,
  type PathDecision,
  type PathView,
} from "../node-view.js";
import { chainComponent } from "../path/components.js";
import { setToCidrs, subtractSets } from "../path/range-set.js";
import type { NftSnapshot } from "../protocol.js";
import { align, type CompareRow, type RuleView } from "../rule-rows.js";
import { NFT_AGENT_CHAIN_REF, type NftFamilyAnalysis, nftRuleRole } from "./analysis.js";
import type { NftAssessment } from "./assess.js";
import { agentTable } from "./drift.js";
import { elementsRanges } from "./elements.js";
import { NFT_CHAIN, NFT_CHAIN_PRIORITY, NFT_CHAIN_PRIORITY_NAME } from "./names.js";
import { type NftTable, parseNftJson } from "./parse.js";
import { type DesiredNftRule, type DesiredNftSet, desiredNftTable } from "./render.js";
import { ruleText } from "./text.js";

/** Most element rows per set and side; the rest are counted in one row. */
export const MAX_ELEMENT_ROWS = 4096;

/** Ranges of each set, by name: the desired table's, or the node's own (what each side holds). */
type SetSizes = (name: string) => number | undefined;

function setTitle(set: string, n: number | undefined): string {
  if (n === undefined) return `@${set} (not on the node, or not addresses) keeps pod IP`;
  return `@${set} (${n} range${n === 1 ? "" : "s"}) keeps pod IP`;
}

/** A rule's title; a set lookup counts the ranges of the set on its side (`sizes`). */
function ruleTitle(r: DesiredNftRule, sizes: SetSizes): string {
  switch (r.kind) {
    case "local-return":
      return "the node's own addresses keep pod IP";
    case "ipv6-off":
      return "IPv6 keeps pod IP (--enable-ipv6 is off)";
    case "set-return":
      return setTitle(r.set!, sizes(r.set!));
    case "masquerade": {
      const how = [r.ports && `to ports ${r.ports}`, r.fullyRandom && "fully-random"].filter(
        Boolean,
      );
      const share = r.numgen ? `${((r.numgen.below / r.numgen.mod) * 100).toFixed(1)}% of ` : "";
      const what = r.ports ? `${share}tcp/udp/sctp flows are` : "everything else is";
      return `${what} masqueraded${how.length ? ` (${how.join(", ")})` : ""}`;
    }
  }
}

/** A row's drift difference and its explanation, when it has one. */
function differenceFields(difference: Difference | undefined) {
  if (!difference) return {};
  return { difference, ...(difference.impact ? { explanation: difference.impact } : {}) };
}

/** A rule of the agent's chain as read: its text without and with its comment. */
interface ActualRule {
  text: string;
  full: string;
  /** What it does (a rule the desired table lacks is shown by it). */
  role: RuleRole;
}

/** The difference that names a row: an extra rule by its text, a missing one by its statement. */
function ruleDifference(
  r: DesiredNftRule | undefined,
  h: ActualRule | undefined,
  diffs: readonly Difference[],
): Difference | undefined {
  if (h && !r) return diffs.find((x) => x.rule === h.text);
  if (r && !h) return diffs.find((x) => x.message.includes(`"${r.statement}"`));
  return undefined;
}

function desiredView(r: DesiredNftRule, index: number, sets: readonly DesiredNftSet[]): RuleView {
  return {
    index,
    text: `${r.statement} comment "${r.comment}"`,
    title: ruleTitle(r, (name) => sets.find((s) => s.name === name)?.ranges.length ?? 0),
    role: r.kind === "masquerade" ? "masquerade" : "return",
  };
}

/** A rule the desired table lacks, named by whose it is (the drift engine's difference). */
function extraTitle(difference: Difference | undefined): string {
  if (difference?.kind === "stale-rule")
    return "the agent's rule for other flags or another config";
  if (difference?.kind === "masquerade-options")
    return "the agent's masquerade, with other options";
  return "not one of the agent's rules";
}

/** One aligned pair: the desired rule `i` and the actual rule `j` (either may be absent). */
function ruleRow(
  d: ReturnType<typeof desiredNftTable>,
  have: readonly ActualRule[],
  diffs: readonly Difference[],
  nodeSets: SetSizes,
  [i, j]: [number | null, number | null],
): CompareRow {
  const r = i === null ? undefined : d.rules[i];
  const h = j === null ? undefined : have[j];
  const desired = r && desiredView(r, i!, d.sets);
  const difference = ruleDifference(r, h, diffs);
  // The node's side of a set lookup counts the node's set, not the desired one.
  const actual: RuleView | undefined = h && {
    index: j!,
    text: h.full,
    title: r ? ruleTitle(r, nodeSets) : extraTitle(difference),
    role: desired?.role ?? h.role,
  };
  const state = !desired
    ? "unexpected"
    : !h
      ? "missing"
      : desired.text === h.full
        ? "same"
        : "cosmetic";
  return {
    state,
    ...(desired ? { desired } : {}),
    ...(actual ? { actual } : {}),
    ...differenceFields(difference),
  };
}

function ruleRows(
  d: ReturnType<typeof desiredNftTable>,
  table: NftTable | undefined,
  diffs: readonly Difference[],
  family: Family,
): CompareRow[] {
  const want = d.rules.map((r) => r.statement);
  const have = (table?.chains.get(NFT_CHAIN)?.rules ?? []).map((r) => ({
    text: ruleText(r.expr),
    full: ruleText(r.expr, r.comment),
    role: nftRuleRole(table!, r, family),
  }));
  const nodeSets: SetSizes = (name) => {
    const set = d.sets.find((s) => s.name === name);
    const elems = table?.sets.get(name)?.elem;
    return set && elems ? elementsRanges(elems, set.family)?.length : undefined;
  };
  return align(
    want,
    have.map((h) => h.text),
  ).map((pair) => ruleRow(d, have, diffs, nodeSets, pair));
}

function elementRow(
  set: string,
  family: Family,
  cidr: string,
  state: CompareRow["state"],
  diffs: readonly Difference[],
): CompareRow {
  const view: RuleView = {
    text: `element ${cidr} of @${set}`,
    title: `${cidr} keeps pod IP`,
    role: "return",
  };
  const difference =
    state === "same" ? undefined : diffs.find((d) => d.cidr === cidr && d.scope === family);
  return {
    state,
    ...(state !== "unexpected" ? { desired: view } : {}),
    ...(state !== "missing" ? { actual: view } : {}),
    ...differenceFields(difference),
  };
}

/** The family's set, element by element: kept, missing, extra (by CIDR). */
function elementRows(
  set: DesiredNftSet | undefined,
  table: NftTable | undefined,
  diffs: readonly Difference[],
): CompareRow[] {
  if (!set) return [];
  const have = table?.sets.get(set.name);
  const ranges = (have && elementsRanges(have.elem, set.family)) ?? [];
  const rows = (list: readonly { first: bigint; last: bigint }[], state: CompareRow["state"]) =>
    setToCidrs(set.family, list)
      .slice(0, MAX_ELEMENT_ROWS)
      .map((c) => elementRow(set.name, set.family, c, state, diffs));
  const kept = subtractSets(set.ranges, subtractSets(set.ranges, ranges));
  return [
    ...rows(kept, "same"),
    ...rows(subtractSets(set.ranges, ranges), "missing"),
    ...rows(subtractSets(ranges, set.ranges), "unexpected"),
  ];
}

/**
 * The set's element rows right under the rule that looks the set up: listed after the final
 * masquerade they read as if that rule ran before them. The agent's own lookup (desired, even
 * missing) first: a rule added by hand that names the set too (after the masquerade, say) is
 * not it. Without such a rule, under the node's last one naming it, else after every rule.
 */
function withElements(
  rules: CompareRow[],
  elements: CompareRow[],
  set: DesiredNftSet | undefined,
): CompareRow[] {
  const ref = set && `@${set.name}`;
  const names = (t: string | undefined) => ref !== undefined && t?.includes(ref) === true;
  const desired = rules.findIndex((r) => names(r.desired?.text));
  const at = desired >= 0 ? desired : rules.findLastIndex((r) => names(r.actual?.text));
  if (at < 0) return [...rules, ...elements];
  return [...rules.slice(0, at + 1), ...elements, ...rules.slice(at + 1)];
}

/** The agent chain's priority as the node has it: one moved off srcnat is not called srcnat. */
function priorityText(p: number): string {
  return p === NFT_CHAIN_PRIORITY
    ? NFT_CHAIN_PRIORITY_NAME
    : `${p}, not ${NFT_CHAIN_PRIORITY_NAME}`;
}

/**
 * Where another base chain's rules run relative to the agent's: by hook priority, as the
 * kernel orders them (each hook's own walk never reaches the agent's chain, so its outcomes
 * alone would all read "before").
 */
export function hookPlacement(
  priority: number,
  agentPriority: number | undefined,
): PathDecision["agent"] {
  if (agentPriority === undefined) return "no-agent";
  if (priority === agentPriority) return "same-priority";
  return priority < agentPriority ? "before" : "after";
}

function pathOf(fa: NftFamilyAnalysis, diffs: readonly Difference[]): PathView {
  const chains: PathChainView[] = [];
  const inert: PathView["inert"] = [];
  const unknowns = [...fa.unknowns];
  for (const h of fa.hooks) {
    const place = h.agent ? undefined : hookPlacement(h.priority, fa.agent?.priority);
    const decisions = decisionsByChain(h.analysis.outcomes, NFT_AGENT_CHAIN_REF);
    for (const c of h.analysis.path)
      chains.push({
        name: c.name,
        component: c.component,
        agent: c.name === NFT_AGENT_CHAIN_REF,
        read: c.read,
        rules: c.rules,
        decisions: (decisions.get(c.name) ?? []).map((d) => (place ? { ...d, agent: place } : d)),
      });
    inert.push(...h.analysis.inert);
    unknowns.push(...h.analysis.unknowns);
  }
  return {
    postroutingRead: true,
    chains: chains.slice(0, MAX_PATH_CHAINS),
    moreChains: Math.max(0, chains.length - MAX_PATH_CHAINS),
    effects: diffs.filter((d) => d.kind === "masqueraded-after" && d.scope === fa.family),
    inert,
    unknowns: unknowns.filter((u, i) => unknowns.findIndex((x) => x.message === u.message) === i),
    backends: [],
    conflicts: diffs.filter((d) => d.kind === "backend-conflict"),
  };
}

function familyView(
  fa: NftFamilyAnalysis,
  a: NftAssessment,
  config: MasqConfig,
  flags: AgentFlags,
  table: NftTable | undefined,
): FamilyView {
  const d = desiredNftTable(config, flags);
  const diffs = a.differences;
  const chainMissing = fa.agent ? undefined : diffs.find((x) => x.kind === "chain-missing");
  const unreadable = diffs.find((x) => x.kind === "unreadable" && x.severity === "critical");
  const set = d.sets.find((s) => s.family === fa.family);
  return {
    family: fa.family,
    nftables: {
      backend: "nftables",
      hooks: fa.hooks.map((h) => ({
        ref: h.ref,
        priority: h.priority,
        component: chainComponent(h.ref, NFT_AGENT_CHAIN_REF),
        agent: h.agent,
      })),
    },
    chain: NFT_AGENT_CHAIN_REF,
    chainExists: fa.agent !== undefined,
    ...(chainMissing ? { chainMissing } : {}),
    ...(unreadable ? { unreadable } : {}),
    unread: a.unread.map((u) => `${u.family} ${u.table} ${u.chain}`),
    ...(a.unreadNote ? { unreadNote: a.unreadNote } : {}),
    jump: {
      state: fa.agent ? "present" : "missing",
      severity: chainMissing?.severity ?? "ok",
      message: fa.agent
        ? `no jump needed: ${NFT_AGENT_CHAIN_REF} is itself a base chain on nat postrouting (priority ${priorityText(fa.agent.priority)})`
        : (chainMissing?.message ?? `${NFT_AGENT_CHAIN_REF} is missing`),
      differences: [],
      rules: [],
    },
    rows: withElements(ruleRows(d, table, diffs, fa.family), elementRows(set, table, diffs), set),
    path: pathOf(fa, diffs),
  };
}

/** The node page of a native nftables node, from assessNft and the snapshot it judged. */
export function nftNodeView(
  a: NftAssessment,
  config: MasqConfig,
  flags: AgentFlags,
  snap: NftSnapshot | undefined,
): LinuxNodeView {
  const table = snap ? agentTable(parseNftJson(snap.ruleset)) : undefined;
  return {
    os: "linux",
    report: a.report,
    families: a.families.map((fa) => familyView(fa, a, config, flags, table)),
    notHealedByResync: a.report.differences.filter(
      (d) => d.severity !== "info" && !healedByResync(d),
    ),
  };
}
