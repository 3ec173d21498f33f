// A verdict as the node page's IP tester shows it, computed once on the server: the answer in
// one word, and the branches grouped so the answer pod traffic usually gets comes first. On
// kube-proxy nodes most answers depend on its 0x4000 mark (set on service traffic it SNATs):
// the unmarked branches are one group, the marked ones another, each with its own answer.
// Nothing is decided here that the verdict does not say: a null verdict stays "depends".
import type { AgentEntry } from "./analysis/entry.js";
import { outcomeSummary, type Verdict, type VerdictOutcome } from "./analysis/evaluate.js";
import { describeConditions } from "./path/describe.js";
import { markNeverMatches, parseMarkTest } from "./path/marks.js";
import type { RuleRef } from "./path/types.js";
import type { IptablesBackend } from "./protocol.js";

/**
 * masqueraded / not-masqueraded: every branch agrees (and nothing unseen could change it);
 * depends: some packets are masqueraded and others not; unknown: the rules read cannot say.
 */
export type Answer = "masqueraded" | "not-masqueraded" | "depends" | "unknown";

export interface BranchView {
  /** The branch's conditions in words, without the one its group states ([] for all packets). */
  when: string[];
  answer: Exclude<Answer, "depends">;
  /** What happens, e.g. "masqueraded by IP-MASQ-AGENT rule 3 (ip-masq-agent)". */
  summary: string;
  decidedBy?: RuleRef;
  /** The config entry behind the deciding rule of the agent's chain (analysis/entry.ts). */
  entry?: AgentEntry;
  /** SNAT's `--to-source`. */
  toSource?: string;
  backend?: IptablesBackend;
}

export interface BranchGroup {
  /** What the group's packets share, e.g. "Unmarked packets (pod traffic as it usually is)"; "" for the only group. */
  title: string;
  answer: Answer;
  branches: BranchView[];
}

export interface VerdictView {
  answer: Answer;
  /** Verdict.certain: the answer holds for the node (POSTROUTING was read). */
  certain: boolean;
  /** The branches, grouped; [] when one branch covers every packet (decidedBy says the rest). */
  groups: BranchGroup[];
  /** What could not be seen, in words. */
  unknowns: string[];
  /**
   * The answer to hold against the config's: the unmarked group's when the marked group is
   * only kube-proxy NATing service traffic it marked itself (by design, not the config's to
   * decide, as drift judges it), else `answer`.
   */
  compared: Answer;
  /**
   * Every branch is kube-proxy's masquerade, which it does only to packets it marked (a `mark`
   * given with its bit): the config does not decide them, so no answer is held against it.
   */
  kubeProxyMarked?: true;
}

const KUBE_PROXY_MARK = "kube-proxy marks service traffic it SNATs";

function branchAnswer(m: boolean | null): BranchView["answer"] {
  return m === null ? "unknown" : m ? "masqueraded" : "not-masqueraded";
}

/** One answer for several branches: depends when both results occur, unknown when one is null. */
export function foldAnswer(values: readonly (boolean | null)[]): Answer {
  const seen = new Set(values);
  if (seen.has(true) && seen.has(false)) return "depends";
  if (seen.has(null) || seen.size === 0) return "unknown";
  return seen.has(true) ? "masqueraded" : "not-masqueraded";
}

function branch(o: VerdictOutcome, keep: (c: VerdictOutcome["conditions"][number]) => boolean) {
  const view: BranchView = {
    when: describeConditions(o.conditions.filter(keep)),
    answer: branchAnswer(o.masqueraded),
    summary: outcomeSummary(o),
  };
  if (o.decidedBy) view.decidedBy = o.decidedBy;
  if (o.entry) view.entry = o.entry;
  if (o.toSource) view.toSource = o.toSource;
  if (o.backend) view.backend = o.backend;
  return view;
}

type Cond = VerdictOutcome["conditions"][number];

/**
 * A mark condition an unmarked packet (mark 0) meets: `(mark & M) == V` holds for mark 0 when
 * V is 0. Which sense that is depends on how the rule is written: iptables' kube-proxy tests
 * `! --mark 0x4000/0x4000` (fails for mark 0), its nftables mode `mark & 0x4000 == 0` (holds
 * for mark 0); the sense alone (`holds`) does not say which branch is the unmarked one.
 */
export function unmarkedMeets(c: Cond): boolean {
  const t = parseMarkTest(c.key.replace(/^mark /, ""));
  // A test not read as value/mask: its sense is the best guess (a match on a mark set).
  if (!t) return !c.holds;
  const zeroMatches = !markNeverMatches(t) && t.value === 0;
  return zeroMatches === c.holds;
}

/** A branch that needs a mark an unmarked packet does not have. */
const marked = (o: VerdictOutcome) =>
  o.conditions.some((c) => c.field === "mark" && !unmarkedMeets(c));

function group(title: string, outcomes: readonly VerdictOutcome[], hide: "mark" | "none") {
  // The unmarked group hides what every unmarked packet meets (its title says it).
  const keep =
    hide === "mark" ? (c: Cond) => !(c.field === "mark" && unmarkedMeets(c)) : () => true;
  return {
    title,
    answer: foldAnswer(outcomes.map((o) => o.masqueraded)),
    branches: outcomes.map((o) => branch(o, keep)),
  };
}

const byKubeProxy = (outcomes: readonly VerdictOutcome[]) =>
  outcomes.every((o) =>
    (o.decidedBy ? [o.decidedBy] : (o.natBy ?? [])).some((r) => r.component.id === "kube-proxy"),
  );

/** "Packets with mark 0x4000/0x4000 (kube-proxy marks …)", from what the marked branches share. */
function markedTitle(outcomes: readonly VerdictOutcome[]): string {
  const marks = new Set(
    outcomes.flatMap((o) => o.conditions.filter((c) => c.field === "mark" && !unmarkedMeets(c))),
  );
  const texts = [...new Set([...marks].map((c) => c.text))];
  const what = texts.length === 1 ? `Packets with ${texts[0]}` : "Packets with a mark set";
  return byKubeProxy(outcomes) ? `${what} (${KUBE_PROXY_MARK})` : what;
}

/** The branches: unmarked first when a mark splits the answer, else one group. */
function groupsOf(v: Verdict): BranchGroup[] {
  if (v.outcomes.length <= 1) return [];
  const withMark = v.outcomes.filter(marked);
  const without = v.outcomes.filter((o) => !marked(o));
  if (withMark.length === 0 || without.length === 0) return [group("", v.outcomes, "none")];
  return [
    group("Unmarked packets (pod traffic as it usually is)", without, "mark"),
    group(markedTitle(withMark), withMark, "none"),
  ];
}

/** VerdictView.compared: kube-proxy's NAT of the packets it marked is not held against the config. */
function comparedAnswer(v: Verdict, answer: Answer, groups: readonly BranchGroup[]): Answer {
  const withMark = v.outcomes.filter(marked);
  const [unmarked] = groups;
  if (groups.length !== 2 || !unmarked || !byKubeProxy(withMark)) return answer;
  return withMark.every((o) => o.masqueraded === true) ? unmarked.answer : answer;
}

/** The tester's view of a verdict (desired or actual). */
export function verdictView(v: Verdict): VerdictView {
  const answer =
    v.masqueraded === null
      ? foldAnswer(v.outcomes.map((o) => o.masqueraded)) === "depends"
        ? "depends"
        : "unknown"
      : v.masqueraded
        ? "masqueraded"
        : "not-masqueraded";
  const groups = groupsOf(v);
  // kube-proxy masquerades in POSTROUTING only what it marked: every branch its masquerade.
  const kubeProxyMarked =
    v.outcomes.length > 0 &&
    byKubeProxy(v.outcomes) &&
    v.outcomes.every((o) => o.masqueraded === true);
  return {
    answer,
    certain: v.certain,
    groups,
    unknowns: [...new Set(v.unknowns.map((u) => u.message))],
    compared: comparedAnswer(v, answer, groups),
    ...(kubeProxyMarked ? { kubeProxyMarked: true as const } : {}),
  };
}
