// The agent's nftables table, desired (config + flags) vs what the node holds, as the typed
// differences of drift.ts: missing and extra set elements named by CIDR, rules missing, added by
// hand, moved or with other flags, objects the agent does not write, and rules the analysis does
// not understand (never "in sync"). Also the apply plan the node's table needs (render.ts).
import type { Family, Range } from "../cidr.js";
import type { AgentFlags, MasqConfig } from "../config.js";
import type { Difference } from "../drift.js";
import { setToCidrs, subtractSets } from "../path/range-set.js";
import { elementsRanges } from "./elements.js";
import {
  NFT_CHAIN,
  NFT_CHAIN_PRIORITY,
  NFT_IPV6_OFF_COMMENT,
  NFT_LOCAL_COMMENT,
  NFT_MASQ_COMMENT,
  NFT_NON_MASQ_COMMENT,
  NFT_TABLE,
  NFT_TABLE_FAMILY,
  NFT_TABLE_REF,
} from "./names.js";
import type { NftRuleset, NftSet, NftTable } from "./parse.js";
import {
  type DesiredNftRule,
  type DesiredNftSet,
  type DesiredNftTable,
  desiredNftTable,
  isAgentStatement,
  type NftApplyPlan,
} from "./render.js";
import { ruleText } from "./text.js";
import { translateRule } from "./translate.js";

/** The agent's table in a parsed ruleset, if present. */
export function agentTable(rs: NftRuleset): NftTable | undefined {
  return rs.tables.get(`${NFT_TABLE_FAMILY} ${NFT_TABLE}`);
}

const diff = (
  kind: Difference["kind"],
  severity: Difference["severity"],
  message: string,
  extra: Partial<Difference> = {},
): Difference => ({ kind, severity, scope: "ipv4", message, ...extra });

/** At most this many CIDRs are named per set and direction; the rest are counted. */
const MAX_NAMED_CIDRS = 64;

function setSpecOk(want: DesiredNftSet, have: NftSet): boolean {
  return (
    have.kind === "set" &&
    have.type.length === 1 &&
    have.type[0] === want.type &&
    have.flags.includes("interval")
  );
}

function cidrDiffs(
  family: Family,
  ranges: readonly Range[],
  kind: "missing-cidr" | "unexpected-cidr",
  set: string,
): Difference[] {
  const cidrs = setToCidrs(family, ranges);
  const named = cidrs.slice(0, MAX_NAMED_CIDRS).map((cidr) =>
    diff(
      kind,
      "critical",
      `${cidr} ${kind === "missing-cidr" ? "is missing from" : "is in"} @${set}${kind === "missing-cidr" ? "" : " but not in the config"}`,
      {
        scope: family,
        cidr,
        impact:
          kind === "missing-cidr"
            ? `pod traffic to ${cidr} is masqueraded`
            : `pod traffic to ${cidr} keeps the pod address`,
      },
    ),
  );
  if (cidrs.length > MAX_NAMED_CIDRS)
    named.push(
      diff(kind, "critical", `and ${cidrs.length - MAX_NAMED_CIDRS} more CIDRs`, { scope: family }),
    );
  return named;
}

function setDifferences(want: DesiredNftSet, have: NftSet | undefined): Difference[] {
  if (!have)
    return [
      diff("chain-missing", "critical", `set @${want.name} is missing from ${NFT_TABLE_REF}`, {
        scope: want.family,
      }),
    ];
  if (!setSpecOk(want, have))
    return [
      diff(
        "chain-missing",
        "critical",
        `@${want.name} is not a ${want.type} interval set (it is ${have.kind} of ${have.type.join(" . ")}${have.flags.length ? `, flags ${have.flags.join(",")}` : ""})`,
        { scope: want.family },
      ),
    ];
  const ranges = elementsRanges(have.elem, want.family);
  if (!ranges)
    return [
      diff(
        "unreadable",
        "critical",
        `@${want.name} holds elements that are not ${want.family} addresses`,
        { scope: want.family },
      ),
    ];
  return [
    ...cidrDiffs(want.family, subtractSets(want.ranges, ranges), "missing-cidr", want.name),
    ...cidrDiffs(want.family, subtractSets(ranges, want.ranges), "unexpected-cidr", want.name),
  ];
}

function chainDifferences(table: NftTable): Difference[] {
  const chain = table.chains.get(NFT_CHAIN);
  if (!chain)
    return [
      diff(
        "chain-missing",
        "critical",
        `chain ${NFT_CHAIN} is missing from ${NFT_TABLE_REF}: the agent masquerades nothing`,
      ),
    ];
  const b = chain.base;
  if (
    b?.type === "nat" &&
    b.hook === "postrouting" &&
    b.priority === NFT_CHAIN_PRIORITY &&
    b.policy === "accept"
  )
    return [];
  const is = b
    ? `type ${b.type} hook ${b.hook} priority ${b.priority} policy ${b.policy}`
    : "not a base chain";
  return [
    diff(
      "chain-missing",
      "critical",
      `${NFT_CHAIN} is ${is}, not type nat hook postrouting priority srcnat policy accept`,
    ),
  ];
}

interface Seen {
  text: string;
  comment?: string;
  unreadable?: string;
  effect: boolean;
}

function observedRules(table: NftTable): Seen[] {
  return (table.chains.get(NFT_CHAIN)?.rules ?? []).map((r) => {
    const t = translateRule(table, NFT_CHAIN, r, "ipv4")[0]!;
    return {
      text: ruleText(r.expr),
      ...(r.comment !== undefined ? { comment: r.comment } : {}),
      ...(t.unreadable !== undefined ? { unreadable: t.unreadable } : {}),
      effect: t.target !== undefined || t.unreadable !== undefined,
    };
  });
}

const isMasq = (text: string) => /\bmasquerade\b/.test(text);

/** A desired rule not on the node; a masquerade rule there in another form is "options". */
function missingRule(
  r: DesiredNftRule,
  have: readonly Seen[],
  wanted: ReadonlySet<string>,
  paired: Set<Seen>,
): Difference {
  const ports = (t: string) => t.includes(" to :");
  const changed =
    r.kind === "masquerade"
      ? have.find(
          (h) =>
            isMasq(h.text) &&
            !wanted.has(h.text) &&
            !paired.has(h) &&
            ports(h.text) === ports(r.statement),
        )
      : undefined;
  if (changed) paired.add(changed);
  if (changed)
    return diff(
      "masquerade-options",
      "critical",
      `"${changed.text}" where the agent writes "${r.statement}"`,
      { rule: changed.text },
    );
  if (r.kind === "masquerade")
    return diff("masquerade-missing", "critical", `"${r.statement}" is missing`, {
      impact: "traffic the agent should masquerade keeps the pod address",
    });
  return diff("chain-missing", "critical", `"${r.statement}" is missing from ${NFT_CHAIN}`);
}

/** Rules nft printed that the parser could not read: what the table does is unknown. */
function unreadableRules(have: readonly Seen[]): Difference[] {
  return have
    .filter((h) => h.unreadable)
    .map((h) =>
      diff(
        "unreadable",
        "critical",
        `"${h.text}" is not understood (${h.unreadable}): what the table does is unknown`,
        { rule: h.text },
      ),
    );
}

const AGENT_COMMENTS: ReadonlySet<string | undefined> = new Set([
  NFT_LOCAL_COMMENT,
  NFT_IPV6_OFF_COMMENT,
  NFT_NON_MASQ_COMMENT,
  NFT_MASQ_COMMENT,
]);

/**
 * A rule the agent wrote for other flags or another config (its comment on a statement it
 * writes), e.g. `meta nfproto ipv6 return` after --enable-ipv6 was turned on: not a hand edit.
 */
const writtenByAgent = (h: Seen) => AGENT_COMMENTS.has(h.comment) && isAgentStatement(h.text);

/** Rules the desired table lacks (and no changed form of a missing one): stale or foreign. */
function foreignRules(
  have: readonly Seen[],
  wanted: ReadonlySet<string>,
  paired: ReadonlySet<Seen>,
): Difference[] {
  return have
    .filter((h) => !wanted.has(h.text) && !h.unreadable && !paired.has(h))
    .map((h) =>
      writtenByAgent(h)
        ? diff(
            "stale-rule",
            h.effect ? "critical" : "warning",
            `"${h.text}" is the agent's rule for other flags or another config, not the desired table's`,
            { rule: h.text, impact: "the next apply removes it" },
          )
        : diff(
            "foreign-rule",
            h.effect ? "critical" : "warning",
            `"${h.text}" is not one of the agent's rules (added by hand?)`,
            { rule: h.text },
          ),
    );
}

/** The agent's masquerade before one of its returns. */
function masqueradeNotLast(have: readonly Seen[], wanted: ReadonlySet<string>): Difference[] {
  const order = have.filter((h) => wanted.has(h.text)).map((h) => h.text);
  const lastReturn = order.findLastIndex((t) => !isMasq(t));
  const firstMasq = order.findIndex(isMasq);
  if (firstMasq < 0 || lastReturn <= firstMasq) return [];
  return [
    diff(
      "masquerade-not-last",
      "critical",
      `"${order[firstMasq]}" comes before "${order[lastReturn]}": traffic that should return is masqueraded`,
    ),
  ];
}

/** The agent's rules with another comment than it writes. */
function commentDifferences(d: DesiredNftTable, have: readonly Seen[]): Difference[] {
  return d.rules.flatMap((r) => {
    const h = have.find((x) => x.text === r.statement);
    if (!h || h.comment === r.comment) return [];
    const comment = h.comment === undefined ? "none" : `"${h.comment}"`;
    return [
      diff("cosmetic", "info", `"${r.statement}" has comment ${comment}, not "${r.comment}"`),
    ];
  });
}

function ruleDifferences(d: DesiredNftTable, have: readonly Seen[]): Difference[] {
  const wanted = new Set(d.rules.map((r) => r.statement));
  const present = new Set(have.map((h) => h.text));
  const paired = new Set<Seen>();
  const missing = d.rules
    .filter((r) => !present.has(r.statement))
    .map((r) => missingRule(r, have, wanted, paired));
  return [
    ...unreadableRules(have),
    ...missing,
    ...foreignRules(have, wanted, paired),
    ...masqueradeNotLast(have, wanted),
    ...commentDifferences(d, have),
  ];
}

function extraObjects(table: NftTable, d: DesiredNftTable): Difference[] {
  const sets = new Set(d.sets.map((s) => s.name));
  const out: Difference[] = [];
  for (const c of table.chains.keys())
    if (c !== NFT_CHAIN)
      out.push(
        diff("foreign-rule", "warning", `chain ${c} in ${NFT_TABLE_REF} is not the agent's`),
      );
  for (const s of table.sets.values())
    if (!sets.has(s.name))
      out.push(
        diff(
          "foreign-rule",
          "warning",
          `${s.kind} @${s.name} in ${NFT_TABLE_REF} is not the agent's`,
        ),
      );
  return out;
}

/**
 * The agent's table on the node vs the one this config and these flags give. `readError`: the
 * table could not be read, so nothing can be said (one critical difference).
 */
export function nftTableDrift(
  config: MasqConfig,
  flags: AgentFlags,
  rs: NftRuleset,
  readError?: string,
): Difference[] {
  if (readError)
    return [diff("unreadable", "critical", `${NFT_TABLE_REF} could not be read: ${readError}`)];
  const parseErrors = rs.errors.map((e) => diff("unreadable", "critical", `${e.at}: ${e.reason}`));
  const table = agentTable(rs);
  if (!table)
    return [
      ...parseErrors,
      diff(
        "chain-missing",
        "critical",
        `table ${NFT_TABLE_REF} is missing: the agent masquerades nothing`,
      ),
    ];
  const d = desiredNftTable(config, flags);
  return [
    ...parseErrors,
    ...chainDifferences(table),
    ...d.sets.flatMap((s) => setDifferences(s, table.sets.get(s.name))),
    ...ruleDifferences(d, observedRules(table)),
    ...extraObjects(table, d),
  ];
}

/**
 * What an apply must do to this node's table (render.ts): re-create it when a set or the chain
 * cannot be changed in place, else delete the objects that are not the agent's.
 */
export function planNftApply(config: MasqConfig, flags: AgentFlags, rs: NftRuleset): NftApplyPlan {
  const table = agentTable(rs);
  const plan: NftApplyPlan = { recreate: false, deleteChains: [], deleteSets: [], deleteMaps: [] };
  if (!table) return plan;
  const d = desiredNftTable(config, flags);
  const chain = table.chains.get(NFT_CHAIN);
  const b = chain?.base;
  const chainOk =
    !chain || (b?.type === "nat" && b.hook === "postrouting" && b.priority === NFT_CHAIN_PRIORITY);
  const setsOk = d.sets.every((s) => {
    const have = table.sets.get(s.name);
    return !have || setSpecOk(s, have);
  });
  if (!chainOk || !setsOk) return { ...plan, recreate: true };
  const wanted = new Set(d.sets.map((s) => s.name));
  for (const c of table.chains.keys()) if (c !== NFT_CHAIN) plan.deleteChains.push(c);
  for (const s of table.sets.values())
    if (!wanted.has(s.name)) (s.kind === "map" ? plan.deleteMaps : plan.deleteSets).push(s.name);
  return plan;
}
