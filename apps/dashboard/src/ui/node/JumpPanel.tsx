"use client";
// The POSTROUTING jump to the chain as drift judged it (shared node-view JumpView); on a native
// nftables node, the agent's base chain on the hook.
import type { JumpView } from "@masq/shared";
import { AlertTriangleIcon, CheckCircleIcon, XCircleIcon } from "../components/icons";
import { jumpHeading } from "./rule-labels";

const TONE: Record<JumpView["severity"], { cls: string; icon: typeof XCircleIcon }> = {
  ok: { cls: "text-emerald-700 dark:text-emerald-400", icon: CheckCircleIcon },
  info: { cls: "text-emerald-700 dark:text-emerald-400", icon: CheckCircleIcon },
  warning: { cls: "text-amber-700 dark:text-amber-400", icon: AlertTriangleIcon },
  critical: { cls: "text-red-700 dark:text-red-400", icon: XCircleIcon },
};

function ruleClass(mark: JumpView["rules"][number]["mark"]): string {
  if (mark === "jump") return "text-emerald-700 dark:text-emerald-400";
  return mark ? "text-red-700 dark:text-red-400" : "text-zinc-500";
}

/** The jump's state, drift's sentences for it, and (on demand) the POSTROUTING rules read. */
export function JumpPanel({
  jump,
  showRaw,
  nftables = false,
}: {
  jump: JumpView;
  showRaw: boolean;
  /** A native nftables node: the agent's chain is a base chain, there is no jump. */
  nftables?: boolean;
}) {
  const t = TONE[jump.severity];
  const Icon = t.icon;
  return (
    <div className="rounded-lg p-3 ring-1 ring-zinc-200 dark:ring-zinc-800" data-jump={jump.state}>
      <p className={`flex items-center gap-1.5 text-sm font-medium ${t.cls}`}>
        <Icon className="size-4" />
        {jumpHeading(jump.state, nftables)}
      </p>
      <p className="mt-0.5 text-sm text-zinc-700 dark:text-zinc-300">{jump.message}</p>
      {jump.differences.map((d) => (
        <p key={d.message} className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">
          {d.message === jump.message ? null : `${d.message}: `}
          {d.impact}
        </p>
      ))}
      {showRaw && jump.rules.length > 0 ? (
        <ol className="mt-2 space-y-0.5">
          {jump.rules.map((r) => (
            <li key={r.index} className={`font-mono text-[11px] break-all ${ruleClass(r.mark)}`}>
              {r.index + 1}. {r.text}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
