// What the node page shows, computed once from a node's assessment (assessLinux /
// assessWindows): per family the nat path (the chains POSTROUTING reaches with their
// components and deciding rules, other NAT before or after the agent's chain, inert rules,
// what could not be seen, the iptables backends), the desired and actual chains side by side,
// the POSTROUTING jump as drift judged it, and every difference with what it means for
// traffic; on Windows each ExceptionList entry marked. The server serves it
// (GET /api/nodes/:name); the UI only renders it. Nothing here judges drift again: every
// verdict is a Difference the assessment produced.
import type { FamilyAssessment, LinuxAssessment, WindowsAssessment } from "./assess.js";
import type { Family } from "./cidr.js";
import { readExceptionEntry } from "./cni/entries.js";
import { type Difference, type DriftReport, healedByResync, type Severity } from "./drift.js";
import type { ComponentRef } from "./path/components.js";
import type { PathOutcome, RuleRef, Unknown } from "./path/types.js";
import type {
  ExceptionListSnapshot,
  FamilySnapshot,
  IptablesBackend,
  WindowsSnapshot,
} from "./protocol.js";
import { type CompareRow, compareRows, desiredAnalysis } from "./rule-rows.js";

export type JumpState = "present" | "missing" | "duplicate" | "shadowed" | "modified";

export interface JumpView {
  state: JumpState;
  /** The worst severity among `differences`; "ok" when there are none. */
  severity: Severity | "ok";
  /** One sentence: drift's message for the worst jump difference, else what the jump does. */
  message: string;
  /** drift's jump-* differences of this family, most severe first (`impact` says what each means). */
  differences: Difference[];
  /** POSTROUTING rules up to the jumps, as read: the jump(s) and the rules before them. */
  rules: { index: number; text: string; mark?: "jump" | "shadow" | "duplicate" }[];
}

/** A rule on the path that decides what happens to some pod packets. */
export interface PathDecision {
  /** 0-based position in its chain. */
  index: number;
  text: string;
  component: ComponentRef;
  /** What it does: "masquerades", "SNATs to 192.0.2.10", "accepts (no NAT)", "returns (no NAT)". */
  does: string;
  nat: boolean;
  /**
   * Where it decides relative to the agent's chain. On a native nftables node another base
   * chain's rules are placed by hook priority: "same-priority" when its priority equals the
   * agent's (which runs first is registration order, not in the rules), "no-agent" when the
   * agent's chain is not there to be placed against.
   */
  agent: PathOutcome["agent"] | "same-priority" | "no-agent";
}

/** A chain POSTROUTING reaches, in the order first reached. */
export interface PathChainView {
  name: string;
  component: ComponentRef;
  /** The agent's own chain. */
  agent: boolean;
  /** False: reachable but its rules were not read (answers through it are unknown). */
  read: boolean;
  rules: number;
  /** Its rules that decide some packets (at most MAX_PATH_DECISIONS). */
  decisions: PathDecision[];
}

/** Most chains listed on the path (the bridge plugin adds one per pod); the rest are counted. */
export const MAX_PATH_CHAINS = 50;
/** Most deciding rules listed per chain. */
export const MAX_PATH_DECISIONS = 20;

/** The nat path of one family: what POSTROUTING reaches, who NATs what, what is not known. */
export interface PathView {
  /** False when POSTROUTING was not in what the node reported: the path starts at the agent chain. */
  postroutingRead: boolean;
  chains: PathChainView[];
  /** Chains on the path beyond MAX_PATH_CHAINS, not listed. */
  moreChains: number;
  /**
   * drift's jump-shadowed (another component NATs or accepts packets before the agent's chain)
   * and masqueraded-after (NAT after the agent returned them) differences, most severe first.
   */
  effects: Difference[];
  /** Rules on the path that match no packet (e.g. `! -d 0.0.0.0/0`), with why. */
  inert: (RuleRef & { why: string })[];
  /** What the analysis could not see, each said once. */
  unknowns: Unknown[];
  /** Every iptables backend that reported this family, the judged one first. */
  backends: IptablesBackend[];
  /** drift's backend-conflict differences: the agent chain or NAT in the other backend. */
  conflicts: Difference[];
}

/** A native nftables node: the nat postrouting base chains that act on the family. */
export interface NftFamilyView {
  backend: "nftables";
  /** In priority order (the order the kernel runs them; equal priorities: unknown order). */
  hooks: { ref: string; priority: number; component: ComponentRef; agent: boolean }[];
}

export interface FamilyView {
  family: Family;
  /** Set on a native nftables node (rules are in nft syntax; there is no jump). */
  nftables?: NftFamilyView;
  chain: string;
  chainExists: boolean;
  /** drift's chain-missing difference, when the chain does not exist. */
  chainMissing?: Difference;
  /** drift's difference when the family's rules could not be read. */
  unreadable?: Difference;
  /** The iptables backend whose rules were judged (absent when nothing was reported). */
  backend?: IptablesBackend;
  /** Chains on the path that were not read: answers about packets reaching them are unknown. */
  unread: string[];
  /** Why they were not read (e.g. an older reporter reads only two chains). */
  unreadNote?: string;
  jump: JumpView;
  rows: CompareRow[];
  path: PathView;
}

export interface LinuxNodeView {
  os: "linux";
  report: DriftReport;
  families: FamilyView[];
  /** Behavioural differences a resync does not remove (other components' or backends' rules). */
  notHealedByResync: Difference[];
}

export interface ExceptionMark {
  cidr: string;
  state: "same" | "missing" | "unexpected" | "unreadable";
}

export interface ExceptionListView {
  /** JSON pointer of the list inside the CNI config. */
  pointer: string;
  form: ExceptionListSnapshot["form"];
  /** The entries as written, then the desired CIDRs the list misses. */
  entries: ExceptionMark[];
}

export interface WindowsNodeView {
  os: "windows";
  report: DriftReport;
  /** The CNI config file the reporter read. */
  path: string;
  readError?: string;
  /** The ExceptionList the config wants. */
  desired: string[];
  lists: ExceptionListView[];
}

export type NodeView = LinuxNodeView | WindowsNodeView;

const JUMP_KINDS: Partial<Record<Difference["kind"], JumpState>> = {
  "jump-missing": "missing",
  "jump-shadowed": "shadowed",
  "jump-duplicate": "duplicate",
  "jump-modified": "modified",
};

function jumpRules(f: FamilyAssessment): JumpView["rules"] {
  const o = f.observed;
  return [
    ...o.shadows.map((s) => ({
      index: s.index,
      text: s.rule.text,
      mark: s.effect !== "unknown" ? ("shadow" as const) : undefined,
    })),
    ...o.jumps.map((j, i) => ({
      index: j.index,
      text: j.rule.text,
      mark: i === 0 ? ("jump" as const) : ("duplicate" as const),
    })),
  ].sort((x, y) => x.index - y.index);
}

/** The jump as drift judged it (differences arrive most severe first). */
export function jumpView(f: FamilyAssessment, chainMissing: Difference | undefined): JumpView {
  const chain = f.desired.chain;
  const differences = f.differences.filter((d) => JUMP_KINDS[d.kind] !== undefined);
  const rules = jumpRules(f);
  const worst = differences[0];
  const stated = differences.find((d) => d.kind === "jump-missing");
  // No jump in POSTROUTING itself, but the chain may be reached through another chain: then
  // drift says so (jump-modified) and that is what the view shows.
  if (f.observed.jumps.length === 0 && (stated || chainMissing || !worst)) {
    // With the chain missing too, drift reports only chain-missing (no jump-missing).
    return {
      state: "missing",
      severity: worst?.severity ?? chainMissing?.severity ?? "ok",
      message:
        stated?.message ?? `POSTROUTING does not jump to ${chain} (nor does the chain exist)`,
      differences,
      rules,
    };
  }
  if (worst)
    return {
      state: JUMP_KINDS[worst.kind]!,
      severity: worst.severity,
      message: worst.message,
      differences,
      rules,
    };
  return {
    state: "present",
    severity: "ok",
    message: `POSTROUTING jumps to ${chain} for non-local destinations`,
    differences,
    rules,
  };
}

/** An accept rule: iptables' `-j ACCEPT`, or nft's `accept` verdict (outside its comment). */
function accepts(text: string): boolean {
  return / -j ACCEPT( |$)/.test(text) || /(^| )accept( |$)/.test(text.split(' comment "')[0]!);
}

function does(o: PathOutcome): string {
  switch (o.result) {
    case "masquerade":
      return "masquerades";
    case "snat":
      return `SNATs to ${o.toSource ?? "another address"}`;
    default:
      return accepts(o.decidedBy?.text ?? "") ? "accepts (no NAT)" : "returns (no NAT)";
  }
}

/** Each chain's deciding rules, from the static walk's outcomes (unknown branches decide nothing). */
export function decisionsByChain(
  outcomes: readonly PathOutcome[],
  agentChain: string,
): Map<string, PathDecision[]> {
  const out = new Map<string, PathDecision[]>();
  const seen = new Set<string>();
  for (const o of outcomes) {
    const r = o.decidedBy;
    if (!r || o.result === "unknown") continue;
    const d: PathDecision = {
      index: r.index,
      text: r.text,
      component: r.component,
      does: does(o),
      nat: o.masqueraded === true,
      // A RETURN in the agent's chain decides there, though the branch ends after it.
      agent: r.chain === agentChain ? "inside" : o.agent,
    };
    const key = `${r.chain}#${r.index}#${d.does}#${d.agent}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = out.get(r.chain) ?? [];
    if (list.length < MAX_PATH_DECISIONS) list.push(d);
    out.set(r.chain, list);
  }
  for (const list of out.values()) list.sort((a, b) => a.index - b.index);
  return out;
}

const PATH_KINDS = new Set<Difference["kind"]>(["jump-shadowed", "masqueraded-after"]);

/** The path view of one family, from its assessment and the backends that reported it. */
export function pathView(f: FamilyAssessment, backends: readonly IptablesBackend[]): PathView {
  const o = f.observed;
  const decisions = decisionsByChain(o.outcomes, f.desired.chain);
  const chains = o.path.slice(0, MAX_PATH_CHAINS).map(
    (c): PathChainView => ({
      name: c.name,
      component: c.component,
      agent: c.name === f.desired.chain,
      read: c.read,
      rules: c.rules,
      decisions: decisions.get(c.name) ?? [],
    }),
  );
  const unknowns = o.unknowns.filter(
    (u, i) => o.unknowns.findIndex((x) => x.message === u.message) === i,
  );
  return {
    postroutingRead: o.postroutingRead,
    chains,
    moreChains: Math.max(0, o.path.length - MAX_PATH_CHAINS),
    effects: f.differences.filter((d) => PATH_KINDS.has(d.kind)),
    inert: o.inert,
    unknowns,
    backends: [...backends],
    conflicts: f.differences.filter((d) => d.kind === "backend-conflict"),
  };
}

/** The judged backend first, then the others that reported the family. */
function familyBackends(f: FamilyAssessment, snapshots?: readonly FamilySnapshot[]) {
  const all = (snapshots ?? []).filter((s) => s.family === f.desired.family).map((s) => s.backend);
  const judged = f.backend ? [f.backend] : [];
  return [...new Set([...judged, ...all])];
}

export function familyView(f: FamilyAssessment, snapshots?: readonly FamilySnapshot[]): FamilyView {
  const scoped = (kind: Difference["kind"]) => f.differences.find((d) => d.kind === kind);
  const chainMissing = f.observed.chainExists ? undefined : scoped("chain-missing");
  const unreadable = f.differences.find(
    (d) => d.kind === "unreadable" && d.severity === "critical",
  );
  return {
    family: f.desired.family,
    chain: f.desired.chain,
    chainExists: f.observed.chainExists,
    ...(chainMissing ? { chainMissing } : {}),
    ...(unreadable ? { unreadable } : {}),
    ...(f.backend ? { backend: f.backend } : {}),
    unread: f.unread,
    ...(f.unreadNote ? { unreadNote: f.unreadNote } : {}),
    jump: jumpView(f, chainMissing),
    rows: compareRows(f, desiredAnalysis(f.desired)),
    path: pathView(f, familyBackends(f, snapshots)),
  };
}

/**
 * The node page of a Linux node, from `assessLinux` and the snapshots it judged (which name
 * every backend that reported a family; without them only the judged backend is known).
 */
export function linuxNodeView(
  a: Pick<LinuxAssessment, "families" | "report">,
  snapshots?: readonly FamilySnapshot[],
): LinuxNodeView {
  return {
    os: "linux",
    report: a.report,
    families: a.families.map((f) => familyView(f, snapshots)),
    notHealedByResync: a.report.differences.filter(
      (d) => d.severity !== "info" && !healedByResync(d),
    ),
  };
}

/** windowsDrift names the lists a difference concerns in `rule`: their pointers joined by ", ". */
function concerns(d: Difference, pointer: string): boolean {
  return d.scope === "windows" && (d.rule?.split(", ") ?? []).includes(pointer);
}

/** One list's entries as written, then the desired CIDRs it misses, marked with drift's differences. */
export function markExceptions(
  list: Pick<ExceptionListSnapshot, "pointer" | "exceptions">,
  differences: readonly Difference[],
): ExceptionMark[] {
  const here = differences.filter((d) => concerns(d, list.pointer));
  const has = (kind: Difference["kind"], cidr?: string) =>
    here.some((d) => d.kind === kind && (cidr === undefined || d.cidr === cidr));
  const entries = list.exceptions.map((cidr): ExceptionMark => {
    const r = readExceptionEntry(cidr);
    if (!r.ok) return { cidr, state: has("unreadable") ? "unreadable" : "same" };
    return { cidr, state: has("unexpected-cidr", r.cidr.canonical) ? "unexpected" : "same" };
  });
  const missing = here.flatMap((d): ExceptionMark[] =>
    d.kind === "missing-cidr" && d.cidr ? [{ cidr: d.cidr, state: "missing" }] : [],
  );
  return [...entries, ...missing];
}

/** The node page of a Windows node, from `assessWindows` and the file the reporter read. */
export function windowsNodeView(
  a: Pick<WindowsAssessment, "report" | "desired">,
  snapshot: WindowsSnapshot,
): WindowsNodeView {
  return {
    os: "windows",
    report: a.report,
    path: snapshot.path,
    ...(snapshot.readError ? { readError: snapshot.readError } : {}),
    desired: a.desired,
    lists: snapshot.lists.map((l) => ({
      pointer: l.pointer,
      form: l.form,
      entries: markExceptions(l, a.report.differences),
    })),
  };
}
