"use client";
// "Would traffic be masqueraded?": the server evaluates the packet along the node's whole nat
// path (and along the desired chain) and this only shows what it computed (EvaluateResponse:
// the verdicts and their VerdictView). One answer for the current input: editing any field
// clears the previous answer and errors, so what shows is the answer for what is in the
// fields, or one error about it, or nothing yet.
import {
  type Answer,
  type BranchGroup,
  type BranchView,
  type EvaluateRequest,
  type EvaluateResponse,
  type Freshness,
  type PolledRules,
  parseIp,
  RULES_BACKEND_LABELS,
  type RuleRef,
  type RulesBackend,
  type Verdict,
  type VerdictView,
} from "@masq/shared";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import { RelativeTime } from "../components/Time";
import { askAgain } from "./answer-rules";
import { branchLabel } from "./branch-label";
import { PacketFields } from "./PacketFields";
import { type PacketInput, packetRequest } from "./packet-request";
import { rulesSource } from "./rules-source";

/**
 * Where the node's answer comes from: its current rules, its last known ones and how old, or
 * none known here (rulesSource).
 */
export function RulesSource({ rules }: { rules: Freshness }) {
  const source = rulesSource(rules);
  if (source.kind === "live") return <>from this node&apos;s real rules</>;
  if (source.kind === "not-known") return <>{source.text}</>;
  return (
    <>
      from this node&apos;s last known rules, <RelativeTime value={source.at} />
    </>
  );
}

/**
 * A live answer read from a backend the reporter polls (iptables-legacy): when those rules were
 * reported, and that a change since the last poll is not in it yet (the server's words).
 */
function PolledNote({ polled }: { polled: PolledRules }) {
  return (
    <span data-testid="polled-note">
      {" "}
      as reported{" "}
      {polled.reportedAt === null ? "(time not known)" : <RelativeTime value={polled.reportedAt} />}
      . {polled.note}.
    </span>
  );
}

const HEADLINE: Record<Answer, string> = {
  masqueraded: "Masqueraded: leaves with the node IP",
  "not-masqueraded": "Not masqueraded: keeps the pod IP",
  depends: "Depends on the packet",
  unknown: "Unknown: the rules read cannot say",
};

const SHORT: Record<Answer, string> = {
  masqueraded: "masqueraded",
  "not-masqueraded": "not masqueraded",
  depends: "depends",
  unknown: "unknown",
};

const TONE: Record<Answer, { card: string; text: string }> = {
  masqueraded: {
    card: "bg-amber-50 ring-amber-600/20 dark:bg-amber-500/10 dark:ring-amber-400/20",
    text: "text-amber-800 dark:text-amber-300",
  },
  "not-masqueraded": {
    card: "bg-emerald-50 ring-emerald-600/20 dark:bg-emerald-500/10 dark:ring-emerald-400/20",
    text: "text-emerald-800 dark:text-emerald-300",
  },
  depends: {
    card: "bg-sky-50 ring-sky-600/20 dark:bg-sky-500/10 dark:ring-sky-400/20",
    text: "text-sky-900 dark:text-sky-200",
  },
  unknown: {
    card: "ring-zinc-300 dark:ring-zinc-700",
    text: "text-zinc-800 dark:text-zinc-200",
  },
};

function RuleText({ rule }: { rule: RuleRef }) {
  return (
    <code className="mt-0.5 block font-mono text-[11px] break-all text-zinc-500">{rule.text}</code>
  );
}

function ruleName(rule: RuleRef): string {
  const c = rule.component.id === "unknown" ? "" : ` (${rule.component.name})`;
  return `${rule.chain} rule ${rule.index + 1}${c}`;
}

/**
 * Whose rules decide a branch when several backends answered (`backends`): its iptables
 * backend, else on a native nftables node the nftables ruleset; none when one answered.
 */
function branchBackend(b: BranchView, backends: readonly RulesBackend[]): string {
  if (backends.length < 2) return "";
  const whose = b.backend ?? (backends.includes("nftables") ? "nftables" : undefined);
  return whose ? `${RULES_BACKEND_LABELS[whose]}: ` : "";
}

function Groups({
  groups,
  backends,
}: {
  groups: BranchGroup[];
  backends: readonly RulesBackend[];
}) {
  return (
    <div className="mt-2 space-y-2">
      {groups.map((g, gi) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: groups are positional
        <div key={gi} data-group-answer={g.answer}>
          {g.title ? (
            <p className={`font-semibold ${gi === 0 ? "text-sm" : "text-xs"}`}>
              {g.title}: <span className={TONE[g.answer].text}>{SHORT[g.answer]}</span>
            </p>
          ) : null}
          <ul className="mt-0.5 space-y-1 text-xs text-zinc-700 dark:text-zinc-300">
            {g.branches.map((b, bi) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: branches are positional
              <li key={bi} data-answer={b.answer} className="pl-2">
                <span className="font-medium">{branchLabel(b, g.branches)}:</span>{" "}
                {branchBackend(b, backends)}
                {b.summary}
                {b.entry ? ` (config entry: ${b.entry.text})` : ""}
                {b.decidedBy ? <RuleText rule={b.decidedBy} /> : null}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </div>
  );
}

/** A node answer that is not the configured one reads as a problem, not by its answer's colour. */
const DIFFERS_CARD = "bg-red-50 ring-red-600/30 dark:bg-red-500/10 dark:ring-red-400/30";

function backendsText(backends: readonly RulesBackend[]): string | undefined {
  if (backends.length === 0) return undefined;
  const names = backends.map((b) => RULES_BACKEND_LABELS[b]);
  if (names.length === 1) return `Rules of ${names[0]}.`;
  const list = `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;
  return `Rules of ${list}: ${names.length === 2 ? "both" : "all"} act on the packet.`;
}

function VerdictCard(p: {
  testId: string;
  label: string;
  /** Where the answer comes from, under the label. */
  source?: ReactNode;
  v: Verdict;
  view: VerdictView;
  backends?: readonly RulesBackend[];
  /** The node's answer differs from the desired one: the card is red, whatever the answer. */
  differs?: boolean;
}) {
  const { v, view } = p;
  const tone = p.differs ? { ...TONE[view.answer], card: DIFFERS_CARD } : TONE[view.answer];
  const decided = view.answer !== "depends" && view.answer !== "unknown";
  const from = p.backends ? backendsText(p.backends) : undefined;
  const orderMatters = "orderMatters" in v && v.orderMatters === true;
  return (
    <div
      className={`rounded-lg p-3 ring-1 ring-inset ${tone.card}`}
      data-answer={view.answer}
      data-differs={p.differs ? "true" : undefined}
      data-testid={p.testId}
    >
      <p className="text-xs font-medium tracking-wide text-zinc-600 uppercase dark:text-zinc-400">
        {p.label}
      </p>
      {p.source ? <p className="text-xs text-zinc-600 dark:text-zinc-400">{p.source}</p> : null}
      <p className={`mt-0.5 text-sm font-semibold ${tone.text}`}>
        {HEADLINE[view.answer]}
        {decided && !view.certain ? " (for this chain alone)" : ""}
      </p>
      {view.groups.length === 0 ? (
        <p className="mt-1 text-sm text-zinc-700 dark:text-zinc-300">{v.reason}</p>
      ) : null}
      {v.decidedBy ? (
        <p className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          Deciding rule: {ruleName(v.decidedBy)}
          <RuleText rule={v.decidedBy} />
        </p>
      ) : null}
      {v.entry ? (
        <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
          Config entry: {v.entry.text}
        </p>
      ) : null}
      {view.groups.length > 0 ? <Groups groups={view.groups} backends={p.backends ?? []} /> : null}
      {view.unknowns.length > 0 ? (
        <div className="mt-1.5 text-xs text-zinc-600 dark:text-zinc-400">
          <p className="font-medium">Could not see:</p>
          <ul className="list-disc pl-4">
            {view.unknowns.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {from ? <p className="mt-1.5 text-xs text-zinc-500 dark:text-zinc-400">{from}</p> : null}
      {orderMatters ? (
        <p className="mt-1 text-xs text-zinc-600 dark:text-zinc-400">
          Both backends would translate some packets differently: the order of their nat hooks
          decides which translation is used.
        </p>
      ) : null}
    </div>
  );
}

/** What the packet was (destination and the fields given), for the answer's heading. */
function packetText(v: Verdict): string {
  const p = v.packet;
  const parts = [
    p.source ? `from ${p.source}` : "",
    p.protocol ? p.protocol : "",
    p.dport !== undefined ? `port ${p.dport}` : "",
    p.mark !== undefined ? `mark 0x${p.mark.toString(16)}` : "",
  ].filter(Boolean);
  return parts.length > 0 ? `${p.destination} (${parts.join(", ")})` : p.destination;
}

/**
 * The node's answer held against the configured one: its `compared` answer (kube-proxy's NAT of
 * service traffic it marked is by design, not a difference from the config).
 */
const differs = (r: EvaluateResponse) =>
  !r.view.actual.kubeProxyMarked && r.view.actual.compared !== r.view.desired.answer;

function Comparison({ r }: { r: EvaluateResponse }) {
  const d = r.view.desired.answer;
  const a = r.view.actual.compared;
  if (r.view.actual.kubeProxyMarked)
    return (
      <Callout tone="info">
        kube-proxy NATs {packetText(r.actual)} itself: it carries kube-proxy's mark (service traffic
        it SNATs), which the masquerade config does not decide.
      </Callout>
    );
  if (!differs(r)) return null;
  const sure = d !== "depends" && d !== "unknown" && a !== "depends" && a !== "unknown";
  const what = packetText(r.actual);
  return (
    <Callout
      tone={sure ? "error" : "warning"}
      title={
        sure
          ? `This node treats ${what} differently than configured`
          : `This node may treat ${what} differently than configured`
      }
    />
  );
}

/** The server's answers for one packet: desired, then the node's. */
function Answers({ r }: { r: EvaluateResponse }) {
  return (
    <div className="mt-3 space-y-2" aria-live="polite">
      <p className="text-xs text-zinc-600 dark:text-zinc-400">
        Answer for <span className="font-mono">{packetText(r.actual)}</span>
      </p>
      <Comparison r={r} />
      <VerdictCard
        testId="verdict-desired"
        label="Desired (config)"
        v={r.desired}
        view={r.view.desired}
      />
      <VerdictCard
        testId="verdict-actual"
        label="Actual (this node)"
        source={
          <>
            Answered <RulesSource rules={r.rules} />
            {r.polled ? <PolledNote polled={r.polled} /> : null}
          </>
        }
        v={r.actual}
        view={r.view.actual}
        backends={r.backends}
        differs={differs(r)}
      />
    </div>
  );
}

const NO_INPUT: PacketInput = { ip: "", source: "", protocol: "", dport: "", mark: "" };

/**
 * `rulesAt`: when the rules the page shows arrived (the node's lastReportAt); an answer from
 * older rules is asked again (answer-rules.ts).
 */
export function IpTester({ name, rulesAt }: { name: string; rulesAt: number | null }) {
  const [input, setInput] = useState<PacketInput>(NO_INPUT);
  const [touched, setTouched] = useState(false);
  const [inputError, setInputError] = useState<string | null>(null);
  /** The request of the answer shown (or being computed). */
  const [asked, setAsked] = useState<EvaluateRequest | null>(null);
  const reasked = useRef<number | null>(null);
  const inputId = useId();
  const msgId = useId();
  const m = useMutation<EvaluateResponse, Error, EvaluateRequest>({
    mutationFn: (body) => endpoints.evaluate(name, body),
  });
  const { data, mutate } = m;
  useEffect(() => {
    if (!data || !asked) return;
    const r = { answered: data.rules.lastReportAt, current: rulesAt, reasked: reasked.current };
    if (!askAgain(r)) return;
    reasked.current = rulesAt;
    mutate(asked);
  }, [data, asked, rulesAt, mutate]);
  const text = input.ip.trim();
  const invalid = touched && text !== "" && !parseIp(text);
  const change = (next: PacketInput) => {
    setInput(next);
    setTouched(false);
    setInputError(null);
    setAsked(null);
    m.reset();
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    setTouched(true);
    const req = packetRequest(input);
    // One answer for the current input: an error replaces the previous answer.
    if ("error" in req) {
      m.reset();
      setInputError(req.error);
      return;
    }
    setInputError(null);
    setAsked(req.body);
    m.mutate(req.body);
  };

  return (
    <div>
      <form onSubmit={submit} noValidate>
        <div className="flex gap-2">
          <div className="min-w-0 flex-1">
            <label htmlFor={inputId} className="sr-only">
              Destination IP
            </label>
            <input
              id={inputId}
              value={input.ip}
              onChange={(e) => change({ ...input, ip: e.target.value })}
              onBlur={() => setTouched(true)}
              placeholder="Destination IP, e.g. 10.1.2.3"
              aria-invalid={invalid}
              aria-describedby={msgId}
              spellCheck={false}
              autoComplete="off"
              className="h-9 w-full rounded-md border-0 bg-white px-3 font-mono text-sm ring-1 ring-zinc-300 ring-inset focus:ring-2 focus:ring-indigo-500 aria-[invalid=true]:ring-red-500 dark:bg-zinc-950 dark:ring-zinc-700"
            />
          </div>
          <Button type="submit" busy={m.isPending}>
            Check
          </Button>
        </div>
        <PacketFields value={input} onChange={change} />
      </form>
      <div id={msgId} className="mt-1.5">
        {inputError || invalid ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-400">
            {inputError ?? `"${text}" is not an IP address.`}
          </p>
        ) : null}
      </div>
      {m.isError && !inputError && !invalid ? (
        <Callout tone="error" role="alert" className="mt-3">
          {errorMessage(m.error)}
        </Callout>
      ) : null}
      {m.data ? <Answers r={m.data} /> : null}
    </div>
  );
}
