"use client";
// The nat path of one family as the server computed it (shared node-view PathView): the chains
// POSTROUTING reaches with their components and the rules that decide there, what other
// components NAT before or after the agent's chain, rules that match nothing, what could not
// be seen, and the iptables backend(s) — or, on a native nftables node, every nat postrouting
// base chain in priority order. This file only lays it out.
import {
  BACKEND_LABELS,
  type NftFamilyView,
  type PathChainView,
  type PathView,
} from "@masq/shared";
import type { ReactNode } from "react";
import { Callout } from "../components/Callout";

const WHERE: Record<PathChainView["decisions"][number]["agent"], string> = {
  before: "before the agent's chain",
  inside: "",
  after: "after the agent's chain returned it",
  "same-priority":
    "at the agent's chain's priority (which of the two runs first is not in the rules)",
  "no-agent": "",
};

function ChainItem({ c, showRaw }: { c: PathChainView; showRaw: boolean }) {
  const who = c.component.id === "unknown" ? null : c.component.name;
  return (
    <li data-chain={c.name} className="text-sm">
      <p className="flex flex-wrap items-baseline gap-x-2">
        <span className={`font-mono text-xs ${c.agent ? "font-semibold" : ""}`}>{c.name}</span>
        {who ? (
          <span className="rounded bg-zinc-100 px-1.5 py-0.5 text-xs text-zinc-700 dark:bg-zinc-800 dark:text-zinc-300">
            {who}
          </span>
        ) : null}
        {c.read ? (
          <span className="text-xs text-zinc-500">
            {c.rules} rule{c.rules === 1 ? "" : "s"}
          </span>
        ) : (
          <span className="text-xs font-medium text-amber-700 dark:text-amber-400">
            not read: packets reaching it are unknown
          </span>
        )}
      </p>
      {c.agent ? (
        <p className="pl-3 text-xs text-zinc-600 dark:text-zinc-400">
          its rules are compared with the config below
        </p>
      ) : c.decisions.length > 0 ? (
        <ul className="mt-0.5 space-y-0.5 pl-3 text-xs text-zinc-600 dark:text-zinc-400">
          {c.decisions.map((d) => (
            <li key={`${d.index}:${d.does}:${d.agent}`}>
              rule {d.index + 1}{" "}
              <span className={d.nat ? "text-amber-800 dark:text-amber-300" : ""}>{d.does}</span>
              {WHERE[d.agent] ? ` ${WHERE[d.agent]}` : ""}
              {showRaw ? (
                <code className="block font-mono text-[11px] break-all text-zinc-500">
                  {d.text}
                </code>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

/** A native nftables node: the nat postrouting base chains, in the order the kernel runs them. */
function nftText(n: NftFamilyView): string {
  const hooks = n.hooks.map((h) => `${h.ref} (priority ${h.priority})`).join(", ");
  const priorities = n.hooks.map((h) => h.priority);
  const ties = new Set(priorities).size < priorities.length;
  return `Native nftables: ${n.hooks.length} base chain${n.hooks.length === 1 ? "" : "s"} on nat postrouting, run by priority: ${hooks || "none"}. Each runs until one NATs the packet; an accept or return ends only its own chain.${ties ? " Chains of equal priority run in the order they were registered, which the rules do not show." : ""}`;
}

function backendsText(p: PathView): string {
  if (p.backends.length === 0) return "No iptables backend reported this family.";
  const names = p.backends.map((b) => BACKEND_LABELS[b]);
  if (names.length === 1) return `Rules read from ${names[0]}.`;
  return `Rules read from ${names.join(" and ")}: both act on packets; the agent's chain is judged in ${names[0]}.`;
}

/** A titled list, left out when empty. */
function Section<T>({
  title,
  items,
  children,
}: {
  title: string;
  items: readonly T[];
  children: (item: T) => ReactNode;
}) {
  if (items.length === 0) return null;
  return (
    <div className="mt-2">
      <p className="text-xs font-semibold">{title}</p>
      <ul className="mt-0.5 space-y-0.5 text-xs text-zinc-600 dark:text-zinc-400">
        {items.map(children)}
      </ul>
    </div>
  );
}

/** The path panel of one family. */
export function PathPanel({
  path,
  showRaw,
  nftables,
}: {
  path: PathView;
  showRaw: boolean;
  /** Set on a native nftables node. */
  nftables?: NftFamilyView;
}) {
  return (
    <div className="rounded-lg p-3 ring-1 ring-zinc-200 dark:ring-zinc-800" data-testid="nat-path">
      {path.conflicts.map((d) => (
        <Callout
          key={d.message}
          tone={d.severity === "critical" ? "error" : "warning"}
          title={d.message}
          className="mb-2"
        >
          {d.impact}
        </Callout>
      ))}
      <p className="text-sm font-medium">
        {nftables
          ? "The nat path: every nat postrouting chain (nftables), in priority order, and the chains each reaches"
          : path.postroutingRead
            ? "The nat path: chains POSTROUTING reaches, in order"
            : "The nat path: POSTROUTING was not reported, so this starts at the agent's chain"}
      </p>
      <ol className="mt-1.5 space-y-1.5">
        {path.chains.map((c) => (
          <ChainItem key={c.name} c={c} showRaw={showRaw} />
        ))}
      </ol>
      {path.moreChains > 0 ? (
        <p className="mt-1 text-xs text-zinc-500">and {path.moreChains} more chains</p>
      ) : null}
      <Section title="Other NAT on the path" items={path.effects}>
        {(d) => (
          <li key={d.message} data-kind={d.kind}>
            <span
              className={`font-medium ${d.severity === "critical" ? "text-red-700 dark:text-red-400" : "text-amber-700 dark:text-amber-400"}`}
            >
              {d.message}
            </span>
            {d.impact ? <span>: {d.impact}</span> : null}
          </li>
        )}
      </Section>
      <Section title="Rules that match no packet" items={path.inert}>
        {(r) => (
          <li key={`${r.chain}:${r.index}`}>
            {r.chain} rule {r.index + 1}: {r.why}
            <code className="block font-mono text-[11px] break-all text-zinc-500">{r.text}</code>
          </li>
        )}
      </Section>
      <Section title="Could not see" items={path.unknowns}>
        {(u) => <li key={u.message}>{u.message}</li>}
      </Section>
      <p className="mt-2 text-xs text-zinc-500 dark:text-zinc-400" data-testid="backends">
        {nftables ? nftText(nftables) : backendsText(path)}
      </p>
    </div>
  );
}
