"use client";
import type { Difference, Freshness } from "@masq/shared";
import { AlertTriangleIcon, CheckCircleIcon, InfoIcon, XCircleIcon } from "../components/icons";
import { LastKnown } from "../components/Liveness";
import { RelativeTime } from "../components/Time";

const SEVERITY: Record<Difference["severity"], { cls: string; icon: typeof XCircleIcon }> = {
  critical: { cls: "text-red-700 dark:text-red-400", icon: XCircleIcon },
  warning: { cls: "text-amber-700 dark:text-amber-400", icon: AlertTriangleIcon },
  info: { cls: "text-zinc-500 dark:text-zinc-400", icon: InfoIcon },
};

const SCOPE_LABEL: Record<Difference["scope"], string> = {
  windows: "Windows",
  ipv6: "IPv6",
  ipv4: "IPv4",
};

function DifferenceItem({ d }: { d: Difference }) {
  const s = SEVERITY[d.severity];
  const I = s.icon;
  return (
    <li className="flex gap-2 text-sm">
      <I className={`mt-0.5 size-4 shrink-0 ${s.cls}`} />
      <div>
        <p className="font-medium text-zinc-900 dark:text-zinc-100">
          {d.message}
          <span className="ml-2 text-xs font-normal text-zinc-500">{SCOPE_LABEL[d.scope]}</span>
        </p>
        {d.impact ? <p className="text-zinc-600 dark:text-zinc-400">{d.impact}</p> : null}
      </div>
    </li>
  );
}

function NothingDiffers({ node }: { node: Freshness }) {
  return (
    <p className="mt-2 flex items-center gap-1.5 text-sm text-emerald-700 dark:text-emerald-400">
      <CheckCircleIcon className="size-4" />
      {node.liveness === "live" ? (
        "Nothing: this node does exactly what the config says."
      ) : (
        <span>
          Nothing differed when last known, <RelativeTime value={node.lastSeenAt} />. What it does
          now is not known.
        </span>
      )}
    </p>
  );
}

/**
 * "What differs": the server's differences, most severe first, with what each means for
 * traffic; null `differences` when the node could not be judged (`unavailable` says why).
 */
export function DifferencesCard({
  differences,
  unavailable,
  observeMode,
  node,
}: {
  differences: readonly Difference[] | null;
  unavailable: string | null;
  observeMode: boolean;
  node: Freshness;
}) {
  const behavioural = (differences ?? []).filter((d) => d.severity !== "info");
  return (
    <section
      aria-labelledby="diff-heading"
      className="rounded-xl border border-zinc-200 bg-white p-4 dark:border-zinc-800 dark:bg-zinc-900"
    >
      <h2 id="diff-heading" className="text-base font-semibold">
        What differs <LastKnown node={node} parens />
      </h2>
      {differences === null ? (
        <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
          Not known: {unavailable ?? "the node has not been judged"}.
        </p>
      ) : differences.length === 0 ? (
        <NothingDiffers node={node} />
      ) : (
        <ul className="mt-2 space-y-2">
          {differences.map((d, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: differences have no id
            <DifferenceItem key={i} d={d} />
          ))}
        </ul>
      )}
      {behavioural.length > 0 && observeMode ? (
        <p className="mt-3 text-xs text-zinc-500 dark:text-zinc-400">
          This node is in observe mode: the upstream ip-masq-agent owns the chain. Resync recreates
          its agent pod where the dashboard is allowed to (chart value dashboard.observeResync);
          otherwise Resync is disabled and its tooltip says why.
        </p>
      ) : null}
    </section>
  );
}
