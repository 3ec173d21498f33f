import type { NodeStatus } from "@masq/shared";
import { STATUS_LABEL, STATUS_PILL_CLASS } from "../fleet/status";
import {
  AlertTriangleIcon,
  CheckCircleIcon,
  HelpCircleIcon,
  SpinnerIcon,
  UnplugIcon,
  XCircleIcon,
} from "./icons";

export function StatusIcon({ status, className }: { status: NodeStatus; className?: string }) {
  const c = className ?? "size-4 shrink-0";
  switch (status) {
    case "in-sync":
      return <CheckCircleIcon className={c} />;
    case "drifted":
      return <AlertTriangleIcon className={c} />;
    case "applying":
      return <SpinnerIcon className={c} />;
    case "error":
      return <XCircleIcon className={c} />;
    case "unknown":
      return <HelpCircleIcon className={c} />;
    case "offline":
      return <UnplugIcon className={c} />;
  }
}

export function StatusBadge({ status }: { status: NodeStatus }) {
  return (
    <span
      className={`inline-flex items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium whitespace-nowrap ring-1 ring-inset ${STATUS_PILL_CLASS[status]}`}
      data-status={status}
    >
      <StatusIcon status={status} className="size-3.5 shrink-0" />
      {STATUS_LABEL[status]}
    </span>
  );
}
