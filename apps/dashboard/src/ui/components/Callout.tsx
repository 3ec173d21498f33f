import type { ReactNode } from "react";
import { AlertTriangleIcon, CheckCircleIcon, InfoIcon, XCircleIcon } from "./icons";

type Tone = "info" | "warning" | "error" | "success";

const TONE: Record<Tone, string> = {
  info: "bg-sky-50 text-sky-900 ring-sky-600/20 dark:bg-sky-500/10 dark:text-sky-100 dark:ring-sky-400/20",
  warning:
    "bg-amber-50 text-amber-900 ring-amber-600/25 dark:bg-amber-500/10 dark:text-amber-100 dark:ring-amber-400/25",
  error:
    "bg-red-50 text-red-900 ring-red-600/20 dark:bg-red-500/10 dark:text-red-100 dark:ring-red-400/25",
  success:
    "bg-emerald-50 text-emerald-900 ring-emerald-600/20 dark:bg-emerald-500/10 dark:text-emerald-100 dark:ring-emerald-400/25",
};

const ICON: Record<Tone, (p: { className?: string }) => ReactNode> = {
  info: InfoIcon,
  warning: AlertTriangleIcon,
  error: XCircleIcon,
  success: CheckCircleIcon,
};

export function Callout({
  tone = "info",
  title,
  children,
  role,
  actions,
  className,
}: {
  tone?: Tone;
  title?: ReactNode;
  children?: ReactNode;
  role?: "alert" | "status";
  actions?: ReactNode;
  className?: string;
}) {
  const I = ICON[tone];
  return (
    <div
      role={role}
      className={`flex gap-3 rounded-lg px-4 py-3 text-sm ring-1 ring-inset ${TONE[tone]} ${className ?? ""}`}
    >
      <I className="mt-0.5 size-4 shrink-0" />
      <div className="min-w-0 flex-1">
        {title ? <p className="font-medium">{title}</p> : null}
        {children ? <div className={title ? "mt-1" : ""}>{children}</div> : null}
        {actions ? <div className="mt-3 flex flex-wrap gap-2">{actions}</div> : null}
      </div>
    </div>
  );
}
