"use client";
import {
  type AgentFlags,
  cidrKey,
  type Issue,
  LINK_LOCAL_CIDR,
  LINK_LOCAL_CIDR_IPV6,
  type MasqConfig,
  parseCidr,
} from "@masq/shared";
import { Button } from "../components/Button";
import { UndoIcon, XIcon } from "../components/icons";
import { AddCidrForm, type Candidate } from "./AddCidrForm";
import { type CidrListKey, listOf, withList } from "./draft";
import { IssueLine } from "./Issues";
import type { EditConfig } from "./useConfigDraft";

function ImpliedRow({ cidr, note }: { cidr: string; note: string }) {
  return (
    <li className="flex items-center gap-3 px-3 py-2 text-sm text-zinc-500 dark:text-zinc-400">
      <span className="font-mono">{cidr}</span>
      <span className="text-xs">{note}</span>
    </li>
  );
}

const TAG = "rounded px-1.5 text-[11px]";

function CidrRow({
  cidr,
  isNew,
  issues,
  onRemove,
}: {
  cidr: string;
  isNew: boolean;
  issues: { errors: Issue[]; warnings: Issue[] };
  onRemove?: () => void;
}) {
  const p = parseCidr(cidr);
  return (
    <li
      className={`flex items-start gap-3 px-3 py-2 ${isNew ? "bg-emerald-50/70 dark:bg-emerald-500/5" : ""}`}
    >
      <div className="min-w-0 flex-1">
        <div className="flex flex-wrap items-center gap-2">
          <span className="font-mono text-sm text-zinc-900 dark:text-zinc-100">{cidr}</span>
          {p.ok ? (
            <span
              className={`${TAG} bg-zinc-100 text-zinc-600 dark:bg-zinc-800 dark:text-zinc-400`}
            >
              {p.cidr.family === "ipv4" ? "IPv4" : "IPv6"}
            </span>
          ) : null}
          {isNew ? (
            <span
              className={`${TAG} bg-emerald-100 font-medium text-emerald-800 dark:bg-emerald-500/15 dark:text-emerald-300`}
            >
              new
            </span>
          ) : null}
        </div>
        {issues.errors.map((x) => (
          <IssueLine key={x.message} issue={x} tone="error" />
        ))}
        {issues.warnings.map((x) => (
          <IssueLine key={x.message} issue={x} tone="warning" />
        ))}
      </div>
      {onRemove ? (
        <button
          type="button"
          onClick={onRemove}
          aria-label={`Remove ${cidr}`}
          title={`Remove ${cidr}`}
          className="rounded-md p-1.5 text-zinc-500 hover:bg-red-50 hover:text-red-700 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:text-zinc-400 dark:hover:bg-red-500/10 dark:hover:text-red-400"
        >
          <XIcon className="size-4" />
        </button>
      ) : null}
    </li>
  );
}

function RemovedRow({ cidr, onRestore }: { cidr: string; onRestore?: () => void }) {
  return (
    <li className="flex items-center gap-3 bg-red-50/70 px-3 py-2 dark:bg-red-500/5">
      <span className="flex-1 font-mono text-sm text-red-800 line-through decoration-red-500/60 dark:text-red-300">
        {cidr}
      </span>
      <span className="text-[11px] font-medium text-red-700 dark:text-red-400">removed</span>
      {onRestore ? (
        <Button
          size="sm"
          variant="ghost"
          onClick={onRestore}
          aria-label={`Restore ${cidr}`}
          icon={<UndoIcon className="size-3.5" />}
        >
          Restore
        </Button>
      ) : null}
    </li>
  );
}

const TEXT: Record<CidrListKey, { heading: string; about: string; label: string }> = {
  nonMasqueradeCIDRs: {
    heading: "nonMasqueradeCIDRs",
    about:
      "Pod traffic to these destinations keeps the pod IP; everything else leaves with the node IP.",
    label: "Non-masquerade CIDRs",
  },
  masqueradeCIDRs: {
    heading: "Masquerade exceptions (masqueradeCIDRs)",
    about:
      "Ranges inside the list above that are masqueraded after all: the most specific CIDR of either list decides. The upstream agent ignores this key.",
    label: "Masquerade exceptions",
  },
};

/**
 * A CIDR list (nonMasqueradeCIDRs, or the masqueradeCIDRs exceptions): the implied link-local
 * ranges (non-masquerade only), each CIDR with its own errors and warnings (new ones marked),
 * and the ones removed since the base revision, restorable.
 */
export function CidrList({
  config,
  base,
  flags,
  byValue,
  readOnly,
  candidate,
  edit,
  list = "nonMasqueradeCIDRs",
}: {
  list?: CidrListKey;
  config: MasqConfig;
  base: MasqConfig;
  flags: AgentFlags;
  byValue: { errors: Map<string, Issue[]>; warnings: Map<string, Issue[]> };
  readOnly: boolean;
  candidate: Candidate;
  edit: EditConfig;
}) {
  const mine = listOf(config, list);
  const theirs = listOf(base, list);
  const removed = theirs.filter((b) => !mine.some((c) => cidrKey(c) === cidrKey(b)));
  const baseKeys = new Set(theirs.map(cidrKey));
  const remove = (cidr: string) =>
    edit((c) =>
      withList(
        c,
        list,
        listOf(c, list).filter((x) => x !== cidr),
      ),
    );
  const add = (cidr: string) => edit((c) => withList(c, list, [...listOf(c, list), cidr]));
  const text = TEXT[list];
  const headingId = `${list}-heading`;
  const exceptions = list === "masqueradeCIDRs";
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId} className="text-sm font-semibold text-zinc-900 dark:text-zinc-100">
        {text.heading}
      </h2>
      <p className="mt-0.5 mb-3 text-sm text-zinc-600 dark:text-zinc-400">{text.about}</p>
      {!readOnly ? (
        <AddCidrForm config={config} flags={flags} candidate={candidate} onAdd={add} list={list} />
      ) : null}
      <ul
        className="divide-y divide-zinc-100 rounded-lg ring-1 ring-zinc-200 dark:divide-zinc-800 dark:ring-zinc-800"
        aria-label={text.label}
      >
        {exceptions || config.masqLinkLocal ? null : (
          <ImpliedRow
            cidr={LINK_LOCAL_CIDR}
            note="link-local, implied while masqLinkLocal is off"
          />
        )}
        {!exceptions && flags.enableIPv6 && !config.masqLinkLocalIPv6 ? (
          <ImpliedRow
            cidr={LINK_LOCAL_CIDR_IPV6}
            note="link-local, implied while masqLinkLocalIPv6 is off"
          />
        ) : null}
        {mine.map((c, i) => (
          <CidrRow
            // biome-ignore lint/suspicious/noArrayIndexKey: duplicates are possible in stored configs
            key={`${c}#${i}`}
            cidr={c}
            isNew={!baseKeys.has(cidrKey(c))}
            issues={{
              errors: byValue.errors.get(c) ?? [],
              warnings: byValue.warnings.get(c) ?? [],
            }}
            onRemove={readOnly ? undefined : () => remove(c)}
          />
        ))}
        {removed.map((c) => (
          <RemovedRow
            key={`removed-${c}`}
            cidr={c}
            onRestore={readOnly ? undefined : () => add(c)}
          />
        ))}
        {mine.length === 0 && removed.length === 0 ? (
          <li className="px-3 py-4 text-sm text-zinc-500 dark:text-zinc-400">
            {exceptions
              ? "No exceptions: every destination in the list above keeps the pod IP."
              : `The list is empty: all pod traffic leaving the cluster is masqueraded${config.masqLinkLocal ? "" : " except link-local"}.`}
          </li>
        ) : null}
      </ul>
    </section>
  );
}
