"use client";
// The nat path, and the desired and actual chain of a Linux node rule by rule, as the server
// computed them (shared node-view): this file only lays them out.
import type { CompareRow, FamilyView, LinuxNodeView, RuleRole } from "@masq/shared";
import { type ReactNode, useState } from "react";
import { Callout } from "../components/Callout";
import { JumpPanel } from "./JumpPanel";
import { PathPanel } from "./PathPanel";
import { RULE_ROLE_WORDS, rawRulesLabel } from "./rule-labels";

const NEUTRAL = {
  row: "bg-zinc-50 dark:bg-zinc-800/40",
  badge: "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
};
const AMBER = {
  row: "bg-amber-50 dark:bg-amber-500/10",
  badge: "bg-amber-100 text-amber-900 dark:bg-amber-500/20 dark:text-amber-200",
};

const ROW_STYLE: Record<CompareRow["state"], { row: string; badge?: string; label?: string }> = {
  same: { row: "" },
  cosmetic: { ...NEUTRAL, label: "text differs" },
  moved: { ...NEUTRAL, label: "moved" },
  covered: { ...NEUTRAL, label: "same effect" },
  missing: {
    row: "bg-red-50 dark:bg-red-500/10",
    badge: "bg-red-100 text-red-800 dark:bg-red-500/20 dark:text-red-200",
    label: "missing on node",
  },
  unexpected: { ...AMBER, label: "not in config" },
  unreachable: { ...AMBER, label: "never reached" },
};

/** What the rule does (RETURN, MASQUERADE, another target), its meaning on hover. */
function RoleTag({ role }: { role: RuleRole }) {
  const words = RULE_ROLE_WORDS[role];
  return (
    <span
      data-role={role}
      title={words.meaning}
      className="rounded bg-zinc-100 px-1 py-0.5 text-[11px] font-normal text-zinc-600 dark:bg-zinc-800 dark:text-zinc-300"
    >
      {words.tag}
    </span>
  );
}

/** One side of a row: the rule in words (its raw text on demand), or why there is none. */
export function RuleCell({
  rule,
  showRaw,
  side,
  note,
}: {
  rule: CompareRow["desired"];
  showRaw: boolean;
  side: "desired" | "actual";
  note?: ReactNode;
}) {
  return (
    <td
      className={`px-3 py-2 align-top ${side === "actual" ? "border-l border-zinc-200 dark:border-zinc-800" : ""}`}
    >
      {rule ? (
        <>
          <p className="text-sm font-medium text-zinc-900 dark:text-zinc-100" title={rule.text}>
            {rule.index === undefined ? null : (
              <span className="mr-1.5 text-xs text-zinc-400 tabular-nums">{rule.index + 1}.</span>
            )}
            {rule.title} <RoleTag role={rule.role} />
          </p>
          {rule.detail ? (
            <p className="text-xs text-zinc-600 dark:text-zinc-400">{rule.detail}</p>
          ) : null}
          {showRaw ? (
            <p className="mt-1 font-mono text-[11px] break-all text-zinc-500 dark:text-zinc-400">
              {rule.text}
            </p>
          ) : null}
        </>
      ) : (
        <p className="text-sm text-zinc-400 italic dark:text-zinc-500">
          {side === "desired" ? "not configured" : "absent"}
        </p>
      )}
      {note}
    </td>
  );
}

function CompareRowView({ r, showRaw }: { r: CompareRow; showRaw: boolean }) {
  const st = ROW_STYLE[r.state];
  const note = st.label ? (
    <p className="mt-1 text-xs">
      <span className={`mr-1.5 rounded px-1.5 py-0.5 font-medium ${st.badge}`}>{st.label}</span>
      {r.explanation ? (
        <span className="text-zinc-700 dark:text-zinc-300">{r.explanation}</span>
      ) : null}
    </p>
  ) : undefined;
  return (
    <tr data-state={r.state} className={`border-t border-zinc-200 dark:border-zinc-800 ${st.row}`}>
      <RuleCell rule={r.desired} showRaw={showRaw} side="desired" />
      <RuleCell rule={r.actual} showRaw={showRaw} side="actual" note={note} />
    </tr>
  );
}

function ChainCompare({
  fc,
  showRaw,
  resyncUnavailable,
}: {
  fc: FamilyView;
  showRaw: boolean;
  resyncUnavailable?: string;
}) {
  return (
    <div className="space-y-2">
      {fc.chainMissing ? (
        <Callout tone="error" title={fc.chainMissing.message}>
          {fc.chainMissing.impact}{" "}
          {resyncUnavailable
            ? `The dashboard cannot resync this node: ${resyncUnavailable}.`
            : "Resync recreates it."}
        </Callout>
      ) : null}
      <div className="overflow-hidden rounded-lg ring-1 ring-zinc-200 dark:ring-zinc-800">
        <table className="w-full table-fixed border-collapse">
          <caption className="sr-only">
            {fc.family === "ipv4" ? "IPv4" : "IPv6"} {fc.chain}: desired and actual rules
          </caption>
          <thead>
            <tr className="bg-zinc-50 text-left text-xs font-medium tracking-wide text-zinc-600 uppercase dark:bg-zinc-900 dark:text-zinc-400">
              <th scope="col" className="px-3 py-2 font-medium">
                Desired
              </th>
              <th
                scope="col"
                className="border-l border-zinc-200 px-3 py-2 font-medium dark:border-zinc-800"
              >
                Actual on the node
              </th>
            </tr>
          </thead>
          <tbody>
            {fc.rows.map((r, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
              <CompareRowView key={i} r={r} showRaw={showRaw} />
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

function Legend() {
  return (
    <p
      className="mt-3 flex flex-wrap gap-3 text-xs text-zinc-500 dark:text-zinc-400"
      aria-hidden="true"
    >
      <span className="inline-flex items-center gap-1">
        <span className="size-2.5 rounded-sm bg-red-200 dark:bg-red-500/40" /> missing
      </span>
      <span className="inline-flex items-center gap-1">
        <span className="size-2.5 rounded-sm bg-amber-200 dark:bg-amber-500/40" /> unexpected
      </span>
      <span className="inline-flex items-center gap-1">
        <span className="size-2.5 rounded-sm bg-zinc-200 dark:bg-zinc-700" /> cosmetic
      </span>
    </p>
  );
}

/** Each family's desired and actual chain, rule by rule, with its POSTROUTING jump. */
function FamilyComparison({
  fc,
  showRaw,
  titled,
  resyncUnavailable,
}: {
  fc: FamilyView;
  showRaw: boolean;
  titled: boolean;
  resyncUnavailable?: string;
}) {
  return (
    <div className="space-y-3">
      {titled ? (
        <h3 className="text-sm font-semibold">
          {fc.nftables
            ? `${fc.family === "ipv4" ? "IPv4" : "IPv6"} (nftables)`
            : fc.family === "ipv4"
              ? "IPv4 (iptables)"
              : "IPv6 (ip6tables)"}
        </h3>
      ) : null}
      {fc.unreadable ? <Callout tone="error">{fc.unreadable.message}</Callout> : null}
      <PathPanel path={fc.path} showRaw={showRaw} nftables={fc.nftables} />
      <JumpPanel jump={fc.jump} showRaw={showRaw} nftables={fc.nftables !== undefined} />
      <ChainCompare fc={fc} showRaw={showRaw} resyncUnavailable={resyncUnavailable} />
    </div>
  );
}

/** "Desired vs actual, rule by rule" of a Linux node (`view` null: not reported yet). */
export function ChainsComparison({
  view,
  unavailable,
  lastKnown,
  resyncUnavailable,
}: {
  view: LinuxNodeView | null;
  unavailable: string | null;
  /** "last known, 3 min ago" when the node is not live. */
  lastKnown?: ReactNode;
  /** Why the dashboard cannot resync the node (the server's), if it cannot. */
  resyncUnavailable?: string;
}) {
  const [showRaw, setShowRaw] = useState(false);
  const families = view?.families ?? [];
  return (
    <section
      aria-labelledby="chains-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
        <h2 id="chains-heading" className="text-base font-semibold">
          Desired vs actual, rule by rule
          {lastKnown ? <span className="ml-2 text-sm">{lastKnown}</span> : null}
        </h2>
        {/* Nothing to show raw when no family was reported (or the node is held elsewhere). */}
        {families.length > 0 ? (
          <label className="inline-flex items-center gap-2 text-sm text-zinc-700 dark:text-zinc-300">
            <input
              type="checkbox"
              checked={showRaw}
              onChange={(e) => setShowRaw(e.target.checked)}
              className="size-4 rounded border-zinc-300 accent-indigo-600"
            />
            {rawRulesLabel(families)}
          </label>
        ) : null}
      </div>
      <div className="space-y-6">
        {families.map((fc) => (
          <FamilyComparison
            key={fc.family}
            fc={fc}
            showRaw={showRaw}
            titled={families.length > 1}
            resyncUnavailable={resyncUnavailable}
          />
        ))}
        {families.length === 0 ? (
          <p className="text-sm text-zinc-500">
            {unavailable ? `Nothing to compare: ${unavailable}.` : "No family to compare."}
          </p>
        ) : null}
      </div>
      <Legend />
    </section>
  );
}
