"use client";
import { type Difference, desiredExceptions } from "@masq/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type ReactNode, useEffect, useMemo, useState } from "react";
import { errorMessage } from "../api/client";
import { endpoints } from "../api/endpoints";
import type { NodeDetail, NodeEvent } from "../api/types";
import { Button } from "../components/Button";
import { Callout } from "../components/Callout";
import {
  AlertTriangleIcon,
  ArrowLeftIcon,
  CheckCircleIcon,
  InfoIcon,
  LinuxIcon,
  RefreshIcon,
  WindowsIcon,
  XCircleIcon,
  ZapIcon,
} from "../components/icons";
import { ErrorState, LoadingBlock, PageHeader, Skeleton } from "../components/States";
import { StatusBadge } from "../components/StatusBadge";
import { RelativeTime } from "../components/Time";
import { useToast } from "../components/Toaster";
import { absoluteTime, toMillis } from "../components/time";
import { useFleetState } from "../live/live";
import { useCanEdit } from "../shell/me";
import {
  type CompareRow,
  compareExceptions,
  compareFamily,
  type FamilyCompare,
  type JumpState,
} from "./chains";
import { IpTester } from "./IpTester";

const SEVERITY: Record<
  Difference["severity"],
  { cls: string; icon: typeof XCircleIcon; label: string }
> = {
  critical: { cls: "text-red-700 dark:text-red-400", icon: XCircleIcon, label: "Changes traffic" },
  warning: { cls: "text-amber-700 dark:text-amber-400", icon: AlertTriangleIcon, label: "Risky" },
  info: { cls: "text-zinc-500 dark:text-zinc-400", icon: InfoIcon, label: "Cosmetic" },
};

const ROW_STYLE: Record<CompareRow["state"], { row: string; badge?: string; label?: string }> = {
  same: { row: "" },
  cosmetic: {
    row: "bg-zinc-50 dark:bg-zinc-800/40",
    badge: "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
    label: "text differs",
  },
  moved: {
    row: "bg-zinc-50 dark:bg-zinc-800/40",
    badge: "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
    label: "moved",
  },
  covered: {
    row: "bg-zinc-50 dark:bg-zinc-800/40",
    badge: "bg-zinc-200 text-zinc-700 dark:bg-zinc-700 dark:text-zinc-200",
    label: "same effect",
  },
  missing: {
    row: "bg-red-50 dark:bg-red-500/10",
    badge: "bg-red-100 text-red-800 dark:bg-red-500/20 dark:text-red-200",
    label: "missing on node",
  },
  unexpected: {
    row: "bg-amber-50 dark:bg-amber-500/10",
    badge: "bg-amber-100 text-amber-900 dark:bg-amber-500/20 dark:text-amber-200",
    label: "not in config",
  },
  unreachable: {
    row: "bg-amber-50 dark:bg-amber-500/10",
    badge: "bg-amber-100 text-amber-900 dark:bg-amber-500/20 dark:text-amber-200",
    label: "never reached",
  },
};

function RuleCell({
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
            <span className="mr-1.5 text-xs text-zinc-400 tabular-nums">{rule.index + 1}.</span>
            {rule.title}
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

function ChainCompare({ fc, showRaw }: { fc: FamilyCompare; showRaw: boolean }) {
  return (
    <div className="space-y-2">
      {!fc.chainExists ? (
        <Callout tone="error" title={`The chain ${fc.chain} does not exist on this node`}>
          Pod traffic is not masqueraded by the agent to any destination until it is recreated
          (Resync does that).
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
            {fc.rows.map((r, i) => {
              const st = ROW_STYLE[r.state];
              const note = st.label ? (
                <p className="mt-1 text-xs">
                  <span className={`mr-1.5 rounded px-1.5 py-0.5 font-medium ${st.badge}`}>
                    {st.label}
                  </span>
                  {r.explanation ? (
                    <span className="text-zinc-700 dark:text-zinc-300">{r.explanation}</span>
                  ) : null}
                </p>
              ) : undefined;
              return (
                <tr
                  // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
                  key={i}
                  data-state={r.state}
                  className={`border-t border-zinc-200 dark:border-zinc-800 ${st.row}`}
                >
                  <RuleCell rule={r.desired} showRaw={showRaw} side="desired" />
                  <RuleCell rule={r.actual} showRaw={showRaw} side="actual" note={note} />
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </div>
  );
}

const JUMP_STYLE: Record<JumpState["kind"], { cls: string; label: string }> = {
  present: { cls: "text-emerald-700 dark:text-emerald-400", label: "Jump present" },
  missing: { cls: "text-red-700 dark:text-red-400", label: "Jump missing" },
  duplicate: { cls: "text-amber-700 dark:text-amber-400", label: "Duplicate jump" },
  shadowed: { cls: "text-red-700 dark:text-red-400", label: "Jump shadowed" },
  modified: { cls: "text-amber-700 dark:text-amber-400", label: "Jump modified" },
};

function JumpPanel({ jump, showRaw }: { jump: JumpState; showRaw: boolean }) {
  const st = JUMP_STYLE[jump.kind];
  const Icon =
    jump.kind === "present"
      ? CheckCircleIcon
      : jump.kind === "missing" || jump.kind === "shadowed"
        ? XCircleIcon
        : AlertTriangleIcon;
  return (
    <div className="rounded-lg p-3 ring-1 ring-zinc-200 dark:ring-zinc-800">
      <p className={`flex items-center gap-1.5 text-sm font-medium ${st.cls}`}>
        <Icon className="size-4" />
        POSTROUTING: {st.label}
      </p>
      <p className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">{jump.text}</p>
      {showRaw && jump.rules.length > 0 ? (
        <ol className="mt-2 space-y-0.5">
          {jump.rules.map((r) => (
            <li
              key={r.index}
              className={`font-mono text-[11px] break-all ${r.mark === "jump" ? "text-emerald-700 dark:text-emerald-400" : r.mark ? "text-red-700 dark:text-red-400" : "text-zinc-500"}`}
            >
              {r.index + 1}. {r.text}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}

/** Colour of an event dot: by the status it moved to, else by its kind. */
export function eventTone(kind: string, message = ""): string {
  const to = /→\s*(in-sync|drifted|applying|error|offline)\b/.exec(message)?.[1];
  if (to === "in-sync") return "bg-emerald-500";
  if (to === "drifted") return "bg-amber-500";
  if (to === "applying") return "bg-sky-500";
  if (to === "error") return "bg-red-500";
  if (to === "offline") return "bg-zinc-400";
  const k = kind.toLowerCase();
  if (/(fail|error|refus)/.test(k)) return "bg-red-500";
  if (/drift/.test(k)) return "bg-amber-500";
  if (/(heal|sync|ok|applied)/.test(k)) return "bg-emerald-500";
  if (/(apply|resync|desired)/.test(k)) return "bg-sky-500";
  return "bg-zinc-400";
}

function Events({ events }: { events: NodeEvent[] }) {
  const sorted = useMemo(
    () => [...events].sort((a, b) => (toMillis(b.time) ?? 0) - (toMillis(a.time) ?? 0)),
    [events],
  );
  if (sorted.length === 0)
    return <p className="text-sm text-zinc-500 dark:text-zinc-400">No events yet.</p>;
  return (
    <ol
      className="relative space-y-3 border-l border-zinc-200 pl-4 dark:border-zinc-800"
      aria-label="Node events"
    >
      {sorted.slice(0, 100).map((e, i) => {
        const ms = toMillis(e.time);
        return (
          // biome-ignore lint/suspicious/noArrayIndexKey: events have no id
          <li key={i} className="relative">
            <span
              className={`absolute top-1.5 -left-[21px] size-2.5 rounded-full ring-2 ring-white dark:ring-zinc-900 ${eventTone(e.kind, e.message)}`}
              aria-hidden="true"
            />
            <p className="text-sm text-zinc-900 dark:text-zinc-100">
              <span className="mr-2 rounded bg-zinc-100 px-1.5 py-0.5 text-xs font-medium text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
                {e.kind}
              </span>
              {e.message}
            </p>
            <p className="text-xs text-zinc-500 dark:text-zinc-400">
              <RelativeTime value={e.time} />
              {ms !== null ? (
                <span className="ml-2 hidden sm:inline">{absoluteTime(ms)}</span>
              ) : null}
            </p>
          </li>
        );
      })}
    </ol>
  );
}

function WindowsPanel({ detail }: { detail: NodeDetail }) {
  const w = detail.windows ?? {};
  const snap = w.snapshot ?? {};
  const cfg = useQuery({ queryKey: ["config"], queryFn: ({ signal }) => endpoints.config(signal) });
  // The ExceptionList should hold the config's IPv4 non-masquerade CIDRs (shared rule).
  const desired: string[] | null = Array.isArray(w.desired)
    ? (w.desired as string[])
    : cfg.data
      ? desiredExceptions(cfg.data.config)
      : null;
  const lists = snap.lists ?? [];
  return (
    <section
      aria-labelledby="win-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <h2 id="win-heading" className="flex items-center gap-2 text-base font-semibold">
        <WindowsIcon className="size-4 text-sky-600 dark:text-sky-400" /> Windows node: OutBoundNAT
        ExceptionList
      </h2>
      <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
        Windows has no iptables. Destinations in the CNI config&apos;s ExceptionList are not
        SNAT&apos;d
        {snap.path ? (
          <>
            {" "}
            (<span className="font-mono">{snap.path}</span>)
          </>
        ) : null}
        .
      </p>
      {snap.readError ? (
        <Callout tone="error" className="mt-3">
          Could not read the CNI config: {snap.readError}
        </Callout>
      ) : null}
      {lists.length === 0 ? (
        <p className="mt-3 text-sm text-zinc-500">No OutBoundNAT policy found.</p>
      ) : null}
      {lists.map((l) => (
        <div key={l.pointer} className="mt-4">
          <p className="mb-2 text-xs text-zinc-500 dark:text-zinc-400">
            {l.form} at <span className="font-mono">{l.pointer}</span>
          </p>
          <ul className="flex flex-wrap gap-1.5" aria-label="ExceptionList">
            {compareExceptions(l.exceptions, desired).map((x) => (
              <li
                key={`${x.state}-${x.cidr}`}
                className={`rounded-md px-2 py-0.5 font-mono text-xs ring-1 ring-inset ${
                  x.state === "same"
                    ? "bg-emerald-50 text-emerald-800 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-300"
                    : x.state === "missing"
                      ? "bg-red-50 text-red-800 ring-red-600/20 dark:bg-red-500/10 dark:text-red-300"
                      : "bg-amber-50 text-amber-900 ring-amber-600/25 dark:bg-amber-500/10 dark:text-amber-200"
                }`}
              >
                {x.state === "missing" ? "missing " : x.state === "unexpected" ? "extra " : ""}
                {x.cidr}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

export function NodeView({ name }: { name: string }) {
  const qc = useQueryClient();
  const toast = useToast();
  const canEdit = useCanEdit();
  const fleet = useFleetState();
  const live = fleet.nodes.get(name);
  const [showRaw, setShowRaw] = useState(false);
  const [resyncing, setResyncing] = useState(false);
  const q = useQuery({
    queryKey: ["node", name],
    queryFn: ({ signal }) => endpoints.node(name, signal),
  });

  // The fleet stream says this node changed: fetch its detail again.
  useEffect(() => {
    if (live) void qc.invalidateQueries({ queryKey: ["node", name] });
  }, [live, name, qc]);

  const detail = q.data;
  const families = useMemo(() => {
    if (!detail || detail.node.os === "windows") return [];
    const chain = detail.node.flags?.masqChain ?? "IP-MASQ-AGENT";
    return detail.desired.map((d) =>
      compareFamily(
        d.family,
        chain,
        d.lines,
        detail.actual.find((a) => a.family === d.family),
        detail.differences,
      ),
    );
  }, [detail]);

  const resync = async () => {
    setResyncing(true);
    try {
      await endpoints.resyncNode(name);
      toast("success", `Resync requested for ${name}`);
    } catch (e) {
      toast("error", `Resync of ${name} failed: ${errorMessage(e)}`);
    } finally {
      setResyncing(false);
    }
  };

  const back = (
    <Link
      href="/"
      className="mb-3 inline-flex items-center gap-1 text-sm text-zinc-600 hover:text-zinc-900 dark:text-zinc-400 dark:hover:text-zinc-100"
    >
      <ArrowLeftIcon className="size-3.5" /> All nodes
    </Link>
  );

  if (q.isPending) {
    return (
      <>
        {back}
        <PageHeader title={name} />
        <LoadingBlock label="Loading node…">
          <Skeleton className="h-24 w-full" />
          <Skeleton className="h-64 w-full" />
        </LoadingBlock>
      </>
    );
  }
  if (q.isError || !detail) {
    return (
      <>
        {back}
        <PageHeader title={name} />
        <ErrorState error={q.error} what={`node ${name}`} onRetry={() => void q.refetch()} />
      </>
    );
  }

  const node = { ...detail.node, ...(live ?? {}) };
  const offline = node.status === "offline" || !node.connected;
  const behavioural = detail.differences.filter((d) => d.severity !== "info");

  return (
    <>
      {back}
      <PageHeader
        title={
          <span className="flex flex-wrap items-center gap-3">
            <span className="break-all">{node.name}</span>
            <StatusBadge status={node.status} />
          </span>
        }
        description={
          <span className="flex flex-wrap items-center gap-x-4 gap-y-1">
            <span className="inline-flex items-center gap-1.5">
              {node.os === "windows" ? (
                <WindowsIcon className="size-3.5" />
              ) : (
                <LinuxIcon className="size-3.5" />
              )}
              {node.os === "windows" ? "Windows" : "Linux"} ·{" "}
              {node.mode === "observe" ? "observe mode" : "enforce mode"}
            </span>
            {node.backend ? <span>backend {node.backend}</span> : null}
            {node.iptablesVersion ? (
              <span>
                {/^iptables/.test(node.iptablesVersion)
                  ? node.iptablesVersion
                  : `iptables ${node.iptablesVersion}`}
              </span>
            ) : null}
            {node.kernel ? <span>kernel {node.kernel}</span> : null}
            <span>
              last seen <RelativeTime value={node.lastSeen} />
            </span>
            <span>applied generation {node.appliedGeneration ?? "none"}</span>
          </span>
        }
        actions={
          <Button
            variant="primary"
            busy={resyncing}
            disabled={!canEdit || offline}
            onClick={() => void resync()}
            title={
              !canEdit
                ? "Only editors can resync"
                : offline
                  ? "The node is offline"
                  : "Re-apply the desired rules on this node now"
            }
            icon={<RefreshIcon className="size-4" />}
          >
            Resync
          </Button>
        }
      />

      <div className="grid gap-6 xl:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-6">
          <section
            aria-labelledby="diff-heading"
            className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
          >
            <h2 id="diff-heading" className="text-base font-semibold">
              What differs
            </h2>
            {detail.differences.length === 0 ? (
              <p className="mt-2 flex items-center gap-1.5 text-sm text-emerald-700 dark:text-emerald-400">
                <CheckCircleIcon className="size-4" /> Nothing: this node does exactly what the
                config says.
              </p>
            ) : (
              <ul className="mt-2 space-y-2">
                {detail.differences.map((d, i) => {
                  const s = SEVERITY[d.severity];
                  const I = s.icon;
                  return (
                    // biome-ignore lint/suspicious/noArrayIndexKey: differences have no id
                    <li key={i} className="flex gap-2 text-sm">
                      <I className={`mt-0.5 size-4 shrink-0 ${s.cls}`} />
                      <div>
                        <p className="font-medium text-zinc-900 dark:text-zinc-100">
                          {d.message}
                          <span className="ml-2 text-xs font-normal text-zinc-500">
                            {d.scope === "windows"
                              ? "Windows"
                              : d.scope === "ipv6"
                                ? "IPv6"
                                : "IPv4"}
                          </span>
                        </p>
                        {d.impact ? (
                          <p className="text-zinc-600 dark:text-zinc-400">{d.impact}</p>
                        ) : null}
                      </div>
                    </li>
                  );
                })}
              </ul>
            )}
            {behavioural.length > 0 && node.mode === "observe" ? (
              <p className="mt-3 text-xs text-zinc-500 dark:text-zinc-400">
                This node is in observe mode: the upstream ip-masq-agent owns the chain. Resync
                recreates its agent pod.
              </p>
            ) : null}
          </section>

          {node.os === "windows" ? (
            <WindowsPanel detail={detail} />
          ) : (
            <section
              aria-labelledby="chains-heading"
              className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
            >
              <div className="mb-3 flex flex-wrap items-center justify-between gap-2">
                <h2 id="chains-heading" className="text-base font-semibold">
                  Desired vs actual, rule by rule
                </h2>
                <label className="inline-flex items-center gap-2 text-sm text-zinc-700 dark:text-zinc-300">
                  <input
                    type="checkbox"
                    checked={showRaw}
                    onChange={(e) => setShowRaw(e.target.checked)}
                    className="size-4 rounded border-zinc-300 accent-indigo-600"
                  />
                  Show iptables rules
                </label>
              </div>
              <div className="space-y-6">
                {families.map((fc) => (
                  <div key={fc.family} className="space-y-3">
                    {families.length > 1 ? (
                      <h3 className="text-sm font-semibold">
                        {fc.family === "ipv4" ? "IPv4 (iptables)" : "IPv6 (ip6tables)"}
                      </h3>
                    ) : null}
                    {fc.readError ? (
                      <Callout tone="error">Could not read the rules: {fc.readError}</Callout>
                    ) : null}
                    <JumpPanel jump={fc.jump} showRaw={showRaw} />
                    <ChainCompare fc={fc} showRaw={showRaw} />
                  </div>
                ))}
                {families.length === 0 ? (
                  <p className="text-sm text-zinc-500">The node has not reported its rules yet.</p>
                ) : null}
              </div>
              <p
                className="mt-3 flex flex-wrap gap-3 text-xs text-zinc-500 dark:text-zinc-400"
                aria-hidden="true"
              >
                <span className="inline-flex items-center gap-1">
                  <span className="size-2.5 rounded-sm bg-red-200 dark:bg-red-500/40" /> missing
                </span>
                <span className="inline-flex items-center gap-1">
                  <span className="size-2.5 rounded-sm bg-amber-200 dark:bg-amber-500/40" />{" "}
                  unexpected
                </span>
                <span className="inline-flex items-center gap-1">
                  <span className="size-2.5 rounded-sm bg-zinc-200 dark:bg-zinc-700" /> cosmetic
                </span>
              </p>
            </section>
          )}
        </div>

        <div className="min-w-0 space-y-6">
          {node.os === "windows" ? null : (
            <section
              aria-labelledby="tester-heading"
              className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
            >
              <h2 id="tester-heading" className="flex items-center gap-1.5 text-base font-semibold">
                <ZapIcon className="size-4 text-indigo-500" /> Would traffic be masqueraded?
              </h2>
              <p className="mt-0.5 mb-3 text-sm text-zinc-600 dark:text-zinc-400">
                Type a destination; the answer comes from this node&apos;s real rules.
              </p>
              <IpTester name={name} />
            </section>
          )}
          <section
            aria-labelledby="events-heading"
            className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
          >
            <h2 id="events-heading" className="mb-3 text-base font-semibold">
              History of this node
            </h2>
            <Events events={detail.events} />
          </section>
        </div>
      </div>
    </>
  );
}
