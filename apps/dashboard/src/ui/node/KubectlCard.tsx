"use client";
// The kubectl commands for this node (GET /api/nodes/:name/kubectl): the Node, the reporter
// Pod on it and its logs, each with a copy button. Standalone dashboards say why there are none.
import type { KubectlCommand } from "@masq/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { endpoints } from "../api/endpoints";
import { Button } from "../components/Button";
import { CheckCircleIcon, CopyIcon, TerminalIcon } from "../components/icons";

/** Copies `text`: the Clipboard API where allowed (HTTPS, localhost), else a selected textarea. */
async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // denied: fall back below
  }
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.append(area);
  area.select();
  const ok = document.execCommand("copy");
  area.remove();
  return ok;
}

/** One command with its copy button. */
export function CommandRow({ c }: { c: KubectlCommand }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = async () => {
    setCopied(await copyText(c.command));
    setTimeout(() => setCopied(null), 2000);
  };
  return (
    <li>
      <p className="text-xs font-medium text-zinc-600 dark:text-zinc-400">{c.title}</p>
      <div className="mt-1 flex items-start gap-2">
        <code className="min-w-0 flex-1 rounded-md bg-zinc-100 px-2 py-1.5 font-mono text-[11px] [overflow-wrap:anywhere] text-zinc-800 select-all dark:bg-zinc-800 dark:text-zinc-200">
          {c.command}
        </code>
        <Button
          size="sm"
          onClick={() => void copy()}
          className="min-w-[5.75rem]"
          aria-label={`Copy: ${c.title}`}
          icon={
            copied ? (
              <CheckCircleIcon className="size-3.5 text-emerald-600" />
            ) : (
              <CopyIcon className="size-3.5" />
            )
          }
        >
          {copied === null ? "Copy" : copied ? "Copied" : "Select and copy"}
        </Button>
      </div>
    </li>
  );
}

export function KubectlCard({ name, className }: { name: string; className: string }) {
  const q = useQuery({
    queryKey: ["kubectl", name],
    queryFn: ({ signal }) => endpoints.kubectl(name, signal),
    staleTime: Number.POSITIVE_INFINITY,
  });
  if (!q.data) return null;
  const { commands, unavailable } = q.data;
  return (
    <section aria-labelledby="kubectl-heading" className={className}>
      <h2 id="kubectl-heading" className="flex items-center gap-1.5 text-base font-semibold">
        <TerminalIcon className="size-4 text-indigo-500" /> kubectl
      </h2>
      {unavailable ? (
        <p className="mt-0.5 text-sm text-zinc-600 dark:text-zinc-400">{unavailable}</p>
      ) : null}
      {commands.length > 0 ? (
        <ul className="mt-3 space-y-3">
          {commands.map((c) => (
            <CommandRow key={c.title} c={c} />
          ))}
        </ul>
      ) : null}
    </section>
  );
}
