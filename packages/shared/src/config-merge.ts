// One config merged from several sources (ConfigMaps of a prefix, files of a directory), the way
// Azure's ip-masq-agent-v2 merges the `ip-masq*` files of its config directory
// (cmd/ip-masq-agent-v2/ip-masq-agent.go, syncConfig/merge): each source is read and validated on
// its own, the CIDR lists are a union, masqLinkLocal and masqLinkLocalIPv6 are OR'd. Unlike v2,
// which takes the first bad file as fatal (the agent exits and the node keeps whatever rules it
// had) and never reports disagreements, every problem here is a named conflict, and a merge with
// any conflict is not pushable: callers keep the last good merged config in force.
//
// Keys no source sets keep upstream's defaults, so one source merges to exactly its own parse
// (upstream's single-ConfigMap semantics); v2 instead starts from empty lists.

import { parseCidr } from "./cidr.js";
import {
  type AgentFlags,
  DEFAULT_FLAGS,
  defaultConfig,
  type Issue,
  type MasqConfig,
  validateConfig,
} from "./config.js";
import { parseConfigText } from "./config-decode.js";
import {
  type ConfigSource,
  compareSources,
  type SourceText,
  sourceId,
  sourceLabel,
} from "./config-source.js";
import { parseGoDuration } from "./duration.js";
import { MAX_CONFIG_SOURCE_BYTES, MAX_CONFIG_SOURCES } from "./limits.js";
import { LINK_LOCAL_CIDR, LINK_LOCAL_CIDR_IPV6 } from "./masquerade-decision.js";

/** The config with every list key, including ones MasqConfig may not declare yet. */
type Mergeable = MasqConfig & { masqueradeCIDRs?: string[] };
export type MergedListKey = "nonMasqueradeCIDRs" | "masqueradeCIDRs";
export type MergedScalarKey =
  | "masqLinkLocal"
  | "masqLinkLocalIPv6"
  | "cidrLimit"
  | "resyncInterval";

/**
 * Every list key and what a destination it lists gets. Lists merge as a union with provenance;
 * the "masqueraded by one source, not by another" conflict is a rule over this table.
 */
export const LIST_KEYS: readonly { key: MergedListKey; masquerade: boolean }[] = [
  { key: "nonMasqueradeCIDRs", masquerade: false },
  { key: "masqueradeCIDRs", masquerade: true },
];
/** Booleans are OR'd (v2); the link-local block a `true` masquerades takes part in the rule. */
const OR_KEYS: readonly { key: MergedScalarKey; block: string }[] = [
  { key: "masqLinkLocal", block: LINK_LOCAL_CIDR },
  { key: "masqLinkLocalIPv6", block: LINK_LOCAL_CIDR_IPV6 },
];
/** Scalars every source setting them must agree on (v2 has neither key). */
const AGREE_KEYS: readonly ("cidrLimit" | "resyncInterval")[] = ["cidrLimit", "resyncInterval"];

/** One entry of a merged list: its first spelling, canonical block, every source listing it. */
export interface CidrOrigin {
  cidr: string;
  canonical: string;
  sources: ConfigSource[];
}

/** One merged scalar and the sources that decide it (none: the default). */
export interface ScalarOrigin {
  key: MergedScalarKey;
  value: boolean | number | string;
  sources: ConfigSource[];
}

export type MergeConflict =
  | { kind: "too-many-sources"; message: string; count: number; limit: number }
  | { kind: "invalid-source"; message: string; source: ConfigSource; errors: Issue[] }
  | {
      kind: "scalar";
      message: string;
      key: "cidrLimit" | "resyncInterval";
      values: { value: number | string; sources: ConfigSource[] }[];
    }
  | { kind: "cidr-limit"; message: string; count: number; limit: number }
  | {
      kind: "masquerade";
      message: string;
      cidr: string;
      masqueraded: ConfigSource[];
      notMasqueraded: ConfigSource[];
    }
  | { kind: "merged-invalid"; message: string; errors: Issue[] };

export interface SourceWarning {
  /** Absent for a warning about the merged config as a whole (e.g. a CIDR inside another's). */
  source?: ConfigSource;
  issue: Issue;
}

export interface MergeResult {
  /** No conflict: the merged config may be sent to nodes. */
  ok: boolean;
  /** The merged view (also with conflicts, to show; never push it then). */
  config: MasqConfig;
  /** The sources, in merge order (name, then key). */
  sources: ConfigSource[];
  cidrs: Record<MergedListKey, CidrOrigin[]>;
  scalars: ScalarOrigin[];
  conflicts: MergeConflict[];
  warnings: SourceWarning[];
}

const labels = (xs: readonly ConfigSource[]) => xs.map(sourceLabel).join(", ");

/** One source's config as decoded, and the keys its text sets (absent keys keep defaults). */
export interface ParsedSource {
  source: ConfigSource;
  config: Mergeable;
  keys: readonly string[];
}

function invalidSource(source: ConfigSource, errors: Issue[]): MergeConflict {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
  return {
    kind: "invalid-source",
    source,
    errors,
    message: `${sourceLabel(source)} is invalid: ${errors[0]?.message ?? "unreadable"}${more}`,
  };
}

/** A source given twice or too large for the merge is refused before it is read. */
function inputErrors({ source, text, bytes: cut }: SourceText, seen: Set<string>): Issue[] {
  const id = sourceId(source);
  if (seen.has(id))
    return [{ code: "syntax", message: `${sourceLabel(source)} is given more than once` }];
  seen.add(id);
  const bytes = cut ?? new TextEncoder().encode(text).length;
  if (bytes <= MAX_CONFIG_SOURCE_BYTES) return [];
  return [
    {
      code: "undeliverable",
      message: `${bytes} bytes are more than the ${MAX_CONFIG_SOURCE_BYTES} a config source may have`,
      value: String(bytes),
    },
  ];
}

/** Reads each source as upstream reads its one ConfigMap; bad ones become conflicts. */
function parseSources(
  inputs: readonly SourceText[],
  flags: AgentFlags,
): { parsed: ParsedSource[]; conflicts: MergeConflict[]; warnings: SourceWarning[] } {
  const conflicts: MergeConflict[] = [];
  const warnings: SourceWarning[] = [];
  const parsed: ParsedSource[] = [];
  const seen = new Set<string>();
  for (const input of [...inputs].sort((a, b) => compareSources(a.source, b.source))) {
    const { source, text } = input;
    const errors = inputErrors(input, seen);
    const r = errors.length > 0 ? undefined : parseConfigText(text, flags);
    for (const issue of r?.warnings ?? []) warnings.push({ source, issue });
    if (!r?.ok) {
      conflicts.push(invalidSource(source, r ? r.errors : errors));
      continue;
    }
    parsed.push({ source, config: r.config, keys: r.keys });
  }
  return { parsed, conflicts, warnings };
}

/**
 * Merges config sources (a ConfigMap key or a file each). O(n log n) in the CIDRs of all sources.
 * More than MAX_CONFIG_SOURCES sources, or one over MAX_CONFIG_SOURCE_BYTES, is a conflict.
 */
export function mergeSources(
  inputs: readonly SourceText[],
  flags: AgentFlags = DEFAULT_FLAGS,
): MergeResult {
  if (inputs.length > MAX_CONFIG_SOURCES) {
    const base = mergeParsed([], flags);
    const conflict: MergeConflict = {
      kind: "too-many-sources",
      count: inputs.length,
      limit: MAX_CONFIG_SOURCES,
      message: `more than ${MAX_CONFIG_SOURCES} config sources; no more are merged: remove some`,
    };
    return { ...base, ok: false, conflicts: [conflict] };
  }
  const { parsed, conflicts, warnings } = parseSources(inputs, flags);
  const merged = mergeParsed(parsed, flags);
  const all = [...conflicts, ...merged.conflicts];
  const sources = [...inputs].map((i) => i.source).sort(compareSources);
  return {
    ...merged,
    sources,
    ok: all.length === 0,
    conflicts: all,
    // A source's own warning shows once, with its source, not again for the merge; one about
    // what an entry does ("has no effect") only while it holds for the merge nodes get.
    warnings: [
      ...stillTrue(warnings, merged.config, flags),
      ...merged.warnings.filter((m) => !sameIssueIn(warnings, m)),
    ],
  };
}

/** Warnings about what an entry does, which another source's entries can make untrue. */
const EFFECT_CODES: ReadonlySet<string> = new Set(["exception-redundant", "contained"]);

/** The sources' warnings, those about what an entry does only while true of the merged config. */
function stillTrue(
  warnings: readonly SourceWarning[],
  config: MasqConfig,
  flags: AgentFlags,
): SourceWarning[] {
  if (!warnings.some((w) => EFFECT_CODES.has(w.issue.code))) return [...warnings];
  const merged = validateConfig(config, flags).warnings.map((issue) => ({ issue }));
  return warnings.filter((w) => !EFFECT_CODES.has(w.issue.code) || sameIssueIn(merged, w));
}

function sameIssueIn(list: readonly SourceWarning[], w: SourceWarning): boolean {
  return list.some((x) => x.issue.code === w.issue.code && x.issue.value === w.issue.value);
}

/** The union of one list key over the sources that set it (first spelling kept, canonical dedupe). */
function unionOf(parsed: readonly ParsedSource[], key: MergedListKey): CidrOrigin[] | undefined {
  const setters = parsed.filter((p) => p.keys.includes(key));
  if (setters.length === 0) return undefined;
  const byBlock = new Map<string, CidrOrigin>();
  for (const p of setters)
    for (const cidr of p.config[key] ?? []) {
      const r = parseCidr(cidr);
      const canonical = r.ok ? r.cidr.canonical : cidr;
      const o = byBlock.get(canonical) ?? { cidr, canonical, sources: [] };
      if (!o.sources.some((s) => sourceId(s) === sourceId(p.source))) o.sources.push(p.source);
      byBlock.set(canonical, o);
    }
  return [...byBlock.values()];
}

/** The value a scalar compares by: a duration's nanoseconds ("1m" is "60s"), else itself. */
function agreeKey(key: "cidrLimit" | "resyncInterval", v: number | string): string {
  if (key === "cidrLimit") return String(v);
  const d = parseGoDuration(String(v));
  return d.ok ? `${d.ns}ns` : String(v);
}

/** OR'd booleans and scalars that must agree, each with the sources deciding it. */
function mergeScalars(
  parsed: readonly ParsedSource[],
  defaults: MasqConfig,
): { scalars: ScalarOrigin[]; conflicts: MergeConflict[] } {
  const scalars: ScalarOrigin[] = [];
  const conflicts: MergeConflict[] = [];
  for (const { key } of OR_KEYS) {
    const setters = parsed.filter((p) => p.keys.includes(key));
    const on = setters.filter((p) => p.config[key] === true);
    const sources = (on.length > 0 ? on : setters).map((p) => p.source);
    scalars.push({ key, value: on.length > 0 || (defaults[key] as boolean), sources });
  }
  for (const key of AGREE_KEYS) {
    const groups = new Map<string, { value: number | string; sources: ConfigSource[] }>();
    for (const p of parsed.filter((x) => x.keys.includes(key))) {
      const k = agreeKey(key, p.config[key]);
      const g = groups.get(k) ?? { value: p.config[key], sources: [] };
      g.sources.push(p.source);
      groups.set(k, g);
    }
    const values = [...groups.values()];
    scalars.push({
      key,
      value: values[0]?.value ?? defaults[key],
      sources: values[0]?.sources ?? [],
    });
    if (values.length > 1)
      conflicts.push({
        kind: "scalar",
        key,
        values,
        message: `${key} differs between sources: ${values.map((v) => `${v.value} (${labels(v.sources)})`).join(" vs ")}; set it the same everywhere, or in one source only`,
      });
  }
  return { scalars, conflicts };
}

/** A block masqueraded by one source and kept by another (the LIST_KEYS table, and link-local). */
function masqueradeConflicts(
  cidrs: Record<MergedListKey, CidrOrigin[]>,
  parsed: readonly ParsedSource[],
): MergeConflict[] {
  const sides = new Map<string, { cidr: string; masq: ConfigSource[]; keep: ConfigSource[] }>();
  const add = (cidr: string, canonical: string, masquerade: boolean, srcs: ConfigSource[]) => {
    const e = sides.get(canonical) ?? { cidr, masq: [], keep: [] };
    (masquerade ? e.masq : e.keep).push(...srcs);
    sides.set(canonical, e);
  };
  for (const { key, masquerade } of LIST_KEYS)
    for (const o of cidrs[key]) add(o.cidr, o.canonical, masquerade, o.sources);
  for (const { key, block } of OR_KEYS)
    add(
      block,
      block,
      true,
      parsed.filter((p) => p.config[key] === true).map((p) => p.source),
    );
  const out: MergeConflict[] = [];
  for (const { cidr, masq, keep } of sides.values()) {
    const disagree = masq.some((m) => keep.some((k) => sourceId(k) !== sourceId(m)));
    if (!disagree) continue;
    out.push({
      kind: "masquerade",
      cidr,
      masqueraded: masq,
      notMasqueraded: keep,
      message: `${cidr} is masqueraded by ${labels(masq)} and not masqueraded by ${labels(keep)}; decide in one source`,
    });
  }
  return out;
}

/** A CIDR in canonical text (conflicts are keyed so), anything else as it is. */
function canonicalText(value: string): string {
  const c = parseCidr(value);
  return c.ok ? c.cidr.canonical : value;
}

/** What the union breaks that no source breaks alone: cidrLimit, what nodes can be sent. */
function mergedChecks(
  config: MasqConfig,
  flags: AgentFlags,
  conflicted: ReadonlySet<string>,
): { conflicts: MergeConflict[]; warnings: Issue[] } {
  const { errors, warnings } = validateConfig(config, flags);
  const conflicts: MergeConflict[] = [];
  const rest: Issue[] = [];
  for (const e of errors) {
    if (e.code === "cidr-limit") {
      const count = Number(e.value);
      conflicts.push({
        kind: "cidr-limit",
        count,
        limit: config.cidrLimit,
        message: `the sources together list ${count} CIDRs, more than cidrLimit ${config.cidrLimit}; remove some or raise cidrLimit`,
      });
    } else if (!(e.value && conflicted.has(canonicalText(e.value)))) rest.push(e);
  }
  if (rest.length > 0)
    conflicts.push({
      kind: "merged-invalid",
      errors: rest,
      message: `the merged config is invalid: ${rest.map((e) => e.message).join("; ")}`,
    });
  return { conflicts, warnings };
}

/**
 * Merges decoded sources (in the order given). One source merges to exactly its own config;
 * with more, a key no source sets keeps its default.
 */
export function mergeParsed(
  parsed: readonly ParsedSource[],
  flags: AgentFlags = DEFAULT_FLAGS,
): MergeResult {
  const defaults = defaultConfig(flags);
  const fallback = defaults.nonMasqueradeCIDRs.map((c) => ({ cidr: c, canonical: c, sources: [] }));
  const cidrs: Record<MergedListKey, CidrOrigin[]> = {
    nonMasqueradeCIDRs: unionOf(parsed, "nonMasqueradeCIDRs") ?? fallback,
    masqueradeCIDRs: unionOf(parsed, "masqueradeCIDRs") ?? [],
  };
  const { scalars, conflicts } = mergeScalars(parsed, defaults);
  const value = (k: MergedScalarKey) => scalars.find((s) => s.key === k)?.value;
  const masquerade = parsed.some((p) => p.keys.includes("masqueradeCIDRs"));
  const config: Mergeable =
    parsed.length === 1 && parsed[0]
      ? { ...parsed[0].config }
      : {
          nonMasqueradeCIDRs: cidrs.nonMasqueradeCIDRs.map((o) => o.cidr),
          ...(masquerade ? { masqueradeCIDRs: cidrs.masqueradeCIDRs.map((o) => o.cidr) } : {}),
          masqLinkLocal: value("masqLinkLocal") as boolean,
          masqLinkLocalIPv6: value("masqLinkLocalIPv6") as boolean,
          cidrLimit: value("cidrLimit") as number,
          resyncInterval: value("resyncInterval") as string,
        };
  const masq = masqueradeConflicts(cidrs, parsed);
  conflicts.push(...masq);
  const warnings: SourceWarning[] = [];
  if (parsed.length > 1 && !conflicts.some((c) => c.kind === "scalar" && c.key === "cidrLimit")) {
    const cidrsInConflict = new Set(masq.map((c) => (c.kind === "masquerade" ? c.cidr : "")));
    const checked = mergedChecks(config, flags, cidrsInConflict);
    conflicts.push(...checked.conflicts);
    for (const issue of checked.warnings)
      if (issue.code === "contained" || issue.code === "link-local-overlap")
        warnings.push({ issue });
  }
  return {
    ok: conflicts.length === 0,
    config,
    sources: parsed.map((p) => p.source),
    cidrs,
    scalars,
    conflicts,
    warnings,
  };
}
