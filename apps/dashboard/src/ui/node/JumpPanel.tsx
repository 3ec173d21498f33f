"use client";
import { AlertTriangleIcon, CheckCircleIcon, XCircleIcon } from "../components/icons";
import type { JumpState } from "./chains";

const JUMP_STYLE: Record<JumpState["kind"], { cls: string; label: string }> = {
  present: { cls: "text-emerald-700 dark:text-emerald-400", label: "Jump present" },
  missing: { cls: "text-red-700 dark:text-red-400", label: "Jump missing" },
  duplicate: { cls: "text-amber-700 dark:text-amber-400", label: "Duplicate jump" },
  shadowed: { cls: "text-red-700 dark:text-red-400", label: "Jump shadowed" },
  modified: { cls: "text-amber-700 dark:text-amber-400", label: "Jump modified" },
};

function ruleClass(mark: JumpState["rules"][number]["mark"]): string {
  if (mark === "jump") return "text-emerald-700 dark:text-emerald-400";
  return mark ? "text-red-700 dark:text-red-400" : "text-zinc-500";
}

/** The POSTROUTING jump to the chain: present, missing, duplicated, shadowed or modified. */
export function JumpPanel({ jump, showRaw }: { jump: JumpState; showRaw: boolean }) {
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
            <li key={r.index} className={`font-mono text-[11px] break-all ${ruleClass(r.mark)}`}>
              {r.index + 1}. {r.text}
            </li>
          ))}
        </ol>
      ) : null}
    </div>
  );
}
