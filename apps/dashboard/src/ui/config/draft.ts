// Pure helpers of the config editor: what changed between two configs, re-applying one's
// own changes on top of someone else's, and the checks for a CIDR being added. Validation
// itself is @masq/shared's (the same code the server and the reporters run).

import {
  type AgentFlags,
  type ConfigResponse,
  type ConflictCurrent,
  cidrKey,
  type DestinationImpact,
  defaultConfig,
  diffConfigs,
  type Issue,
  MAX_HTTP_BODY_BYTES,
  type MasqConfig,
  type RolloutStrategy,
  type ScalarChange,
  type ScalarKey,
  validateConfig,
} from "@masq/shared";
import type { EditableConfig } from "../api/endpoints";

/**
 * Re-applies the edits `mine` made to `base` on top of `theirs`: my added CIDRs are added
 * (unless they already have them), my removed ones removed, my changed scalars win.
 */
export function rebase(base: MasqConfig, mine: MasqConfig, theirs: MasqConfig): MasqConfig {
  const d = diffConfigs(base, mine);
  const cidrs = reapply(theirs.nonMasqueradeCIDRs, d.added, d.removed);
  const exceptions = reapply(
    theirs.masqueradeCIDRs ?? [],
    d.exceptionsAdded ?? [],
    d.exceptionsRemoved ?? [],
  );
  const out: MasqConfig = { ...theirs, nonMasqueradeCIDRs: cidrs };
  if (exceptions.length > 0 || theirs.masqueradeCIDRs) out.masqueradeCIDRs = exceptions;
  for (const s of d.scalars) (out as Record<ScalarKey, unknown>)[s.key] = s.to;
  return out;
}

/** `list` with my removals taken out and my additions added (unless already there). */
function reapply(list: readonly string[], added: readonly string[], removed: readonly string[]) {
  const gone = new Set(removed.map(cidrKey));
  const out = list.filter((c) => !gone.has(cidrKey(c)));
  const have = new Set(out.map(cidrKey));
  for (const c of added) {
    if (!have.has(cidrKey(c))) {
      out.push(c);
      have.add(cidrKey(c));
    }
  }
  return out;
}

/** Their revision (from a save conflict) as the base to edit against, under our flags. */
export function adoptCurrent(base: EditableConfig, current: ConflictCurrent): EditableConfig {
  return {
    ...base,
    resourceVersion: current.resourceVersion,
    revision: current.revision,
    yaml: current.yaml,
    config: current.config ?? defaultConfig(base.flags),
    author: current.author,
    updatedAt: current.updatedAt,
    valid: current.config !== null,
    errors: [],
    warnings: [],
  };
}

export function describeScalar(s: ScalarChange): string {
  return `${s.key}: ${String(s.from)} → ${String(s.to)}`;
}

export interface CandidateCheck {
  /** Blocking problems: the CIDR cannot be added. */
  errors: Issue[];
  /** Allowed, but probably not meant (overlaps). */
  warnings: Issue[];
}

/** The editor's two CIDR lists. */
export type CidrListKey = "nonMasqueradeCIDRs" | "masqueradeCIDRs";

/** One of the two lists of a config (masqueradeCIDRs is optional: absent is empty). */
export function listOf(config: MasqConfig, list: CidrListKey): string[] {
  return config[list] ?? [];
}

/** `config` with `list` replaced; an emptied masqueradeCIDRs is dropped (upstream's shape). */
export function withList(config: MasqConfig, list: CidrListKey, cidrs: string[]): MasqConfig {
  if (list === "masqueradeCIDRs" && cidrs.length === 0) {
    const { masqueradeCIDRs: _gone, ...rest } = config;
    return rest;
  }
  return { ...config, [list]: cidrs };
}

/** Checks one CIDR about to be added to a list of `config`, with the shared validation. */
export function checkCandidate(
  config: MasqConfig,
  candidate: string,
  flags: AgentFlags,
  list: CidrListKey = "nonMasqueradeCIDRs",
): CandidateCheck {
  const text = candidate.trim();
  if (text === "") return { errors: [], warnings: [] };
  const next = withList(config, list, [...listOf(config, list), text]);
  const { errors, warnings } = validateConfig(next, flags);
  const before = validateConfig(config, flags);
  const knownErrors = new Set(before.errors.map((e) => e.message));
  const knownWarnings = new Set(before.warnings.map((w) => w.message));
  const own = errors.filter(
    (e) =>
      !knownErrors.has(e.message) &&
      (e.value === text ||
        e.code === "cidr-limit" ||
        e.code === "undeliverable" ||
        e.code === "both-lists"),
  );
  const newWarnings = warnings.filter((w) => !knownWarnings.has(w.message) && w.value === text);
  // Adding the same block twice is never meant: block it instead of warning.
  const dup = newWarnings.find((w) => w.code === "duplicate");
  if (dup) {
    return {
      errors: [...own, { ...dup, message: `${text} is already in the list` }],
      warnings: [],
    };
  }
  if (own.length === 0) {
    const already = listOf(config, list).find((c) => cidrKey(c) === cidrKey(text));
    if (already)
      return {
        errors: [
          {
            code: "duplicate",
            message: `${text} is already in the list (as ${already})`,
            value: text,
          },
        ],
        warnings: [],
      };
  }
  return { errors: own, warnings: newWarnings };
}

/** Only show "as you type" errors once the text looks finished, or after Add / blur. */
export function looksComplete(text: string): boolean {
  return /\/\d{1,3}$/.test(text.trim());
}

/**
 * No more typing makes `text` a CIDR: a character no address has ("foo"), a second "/", or an
 * IPv4 part past 255 or a fifth one ("300."). Such text is flagged as typed, as a finished one
 * is: "foo" waited for Add while "300.1.1.1/8" was flagged at once. Text that may still become
 * one ("10.0.", "fe80", "bad", an IPv6 address) waits until it looks finished, or Add / blur.
 */
export function cannotBecomeCidr(text: string): boolean {
  const t = text.trim();
  if (!/^[0-9A-Fa-f:./]*$/.test(t)) return true;
  const [addr = "", prefix, ...more] = t.split("/");
  if (more.length > 0 || (prefix !== undefined && !/^\d{0,3}$/.test(prefix))) return true;
  if (addr.includes(":") || !addr.includes(".")) return false;
  const parts = addr.split(".");
  return parts.length > 4 || parts.some((p) => !/^\d{0,3}$/.test(p) || Number(p) > 255);
}

/** Whether the typed CIDR's check shows now: never for an empty field. */
export function showCandidateCheck(text: string, afterAddOrBlur: boolean): boolean {
  if (text.trim() === "") return false;
  return afterAddOrBlur || looksComplete(text) || cannotBecomeCidr(text);
}

/** Issues keyed by the value they name (a CIDR), for showing them next to that entry. */
export function issuesByValue(issues: readonly Issue[]): Map<string, Issue[]> {
  const m = new Map<string, Issue[]>();
  for (const i of issues) {
    if (i.value === undefined) continue;
    const list = m.get(i.value);
    if (list) list.push(i);
    else m.set(i.value, [i]);
  }
  return m;
}

function nodesText(n: number): string {
  return `${n.toLocaleString("en-US")} node${n === 1 ? "" : "s"}`;
}

/** "traffic to 100.64.0.0/10 will no longer be masqueraded on 12 nodes". */
export function impactSentence(d: DestinationImpact): string {
  // With masqueradeCIDRs the server names the entry that decides the range (impact.ts).
  const by = d.entry ? ` (decided by ${d.entry})` : "";
  return d.change === "no-longer-masqueraded"
    ? `Traffic to ${d.cidr} will no longer be masqueraded on ${nodesText(d.nodes)}: pods keep their own IP${by}.`
    : `Traffic to ${d.cidr} will be masqueraded on ${nodesText(d.nodes)}: it leaves with the node's IP${by}.`;
}

/**
 * A destination in a comparison of two revisions, neither of which is to come: "traffic to
 * 100.64.0.0/10 is masqueraded in the first, not in the second" (impactSentence says "will").
 */
export function compareSentence(d: DestinationImpact): string {
  const by = d.entry ? ` (decided by ${d.entry})` : "";
  return d.change === "no-longer-masqueraded"
    ? `Traffic to ${d.cidr}: masqueraded in the first, pods keep their own IP in the second, on ${nodesText(d.nodes)}${by}.`
    : `Traffic to ${d.cidr}: pods keep their own IP in the first, masqueraded in the second, on ${nodesText(d.nodes)}${by}.`;
}

/**
 * The closing sentence of a save's impact; `nodes`: known nodes whose rules change. Zero says
 * only that (nodes may well be connected: a change of formatting, or to the same config).
 */
export function rolloutSentence(nodes: number): string {
  return nodes === 0
    ? "No known node's rules change; nodes that connect later get the config then."
    : `The change will be applied to ${nodesText(nodes)}.`;
}

/** How a save answer says it rolls out (SaveResponse, SourceSaveResponse). */
export interface SaveRollout {
  /** Null: the save reaches no node (`notPushed` says why). */
  rollsOut: RolloutStrategy | null;
  notPushed?: string;
}

/**
 * The toast after a save of `what` ("revision 3", a config source's label), for every editor.
 * In waves only the canary is sent the revision at once; the others keep theirs until their
 * wave is released, so "nodes are applying it now" would be wrong; a save whose merge is not
 * pushed (held after an abort, the sources conflict) reaches no node at all.
 */
export function savedSentence(what: string, r: SaveRollout): string {
  return `Saved ${what}; ${rollsOutClause(r)}`;
}

/**
 * What a save of the config made, for its toast: with other sources nodes get a merge numbered
 * apart, named when the page's fresh read is of this save (a new user read "Saved revision 3;
 * nodes are applying it now" while nodes applied revision 4).
 */
export function savedWhat(
  r: { revision: number; rollsOut: unknown },
  fresh: Pick<ConfigResponse, "revision" | "desiredRevision" | "merge"> | null,
): string {
  const merged =
    r.rollsOut !== null &&
    fresh?.merge &&
    fresh.revision === r.revision &&
    fresh.desiredRevision !== null &&
    fresh.desiredRevision !== r.revision;
  if (!merged || !fresh?.merge) return `revision ${r.revision}`;
  const others = fresh.merge.sources.length - 1;
  return `revision ${r.revision} (nodes get it merged with ${others} other config source${others === 1 ? "" : "s"} as revision ${fresh.desiredRevision})`;
}

/** The toast of a rollback: which revision it made, of which config, and how it rolls out. */
export function rolledBackSentence(
  revision: number,
  targetRevision: number,
  r: SaveRollout,
): string {
  return `Rolled back: revision ${revision} has the config of revision ${targetRevision}; ${rollsOutClause(r)}`;
}

function rollsOutClause({ rollsOut, notPushed }: SaveRollout): string {
  if (rollsOut === null)
    return `no node gets it. Not pushed: ${notPushed ?? "the merge of the config sources is not pushable"}`;
  return rollsOut.kind === "waves"
    ? "rolling out in waves: the canary applies it first, the other nodes keep their revision until their wave is released"
    : "nodes are applying it now";
}

/** What a save request adds to the draft: the base resourceVersion and a message (up to 200 characters). */
const SAVE_ENVELOPE_BYTES = 2048;

/**
 * The save (and validate) request a draft makes, when it is larger than the dashboard accepts
 * (MAX_HTTP_BODY_BYTES): the server would answer 413, so say it before.
 */
export function requestSizeIssue(body: { yaml: string } | { config: MasqConfig }): Issue | null {
  const bytes = new TextEncoder().encode(JSON.stringify(body)).length + SAVE_ENVELOPE_BYTES;
  if (bytes <= MAX_HTTP_BODY_BYTES) return null;
  const kib = (n: number) => Math.ceil(n / 1024);
  return {
    code: "undeliverable",
    message: `this config makes a ${kib(bytes)} KiB request; the dashboard accepts at most ${kib(MAX_HTTP_BODY_BYTES)} KiB: remove CIDRs`,
  };
}
