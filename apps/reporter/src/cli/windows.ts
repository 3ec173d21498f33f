// `--windows-cni FILE` for inspect, drift and apply: the node is a Windows node whose masquerade
// intent is the OutBoundNAT ExceptionList of that CNI config (see docs/windows.md).
import {
  type AgentFlags,
  type ExceptionListSnapshot,
  type Family,
  mixedListIPv6,
  readExceptionEntry,
  type WindowsSnapshot,
} from "@masq/shared";
import type { Command } from "commander";
import { createWindowsCniBackend } from "../backend/windows-cni.js";
import { CliExit, EXIT_ERROR } from "./io.js";

export interface WindowsCniOption {
  windowsCni?: string;
}

export function addWindowsCniOption(cmd: Command, what: string): Command {
  return cmd.option(
    "--windows-cni <file>",
    `Windows node: ${what} the OutBoundNAT ExceptionList of this CNI config (.conf/.conflist)`,
  );
}

/** --windows-cni is a node of its own kind: it cannot be read from iptables text or a netns. */
export function checkWindowsExclusive(
  opts: WindowsCniOption & { netns?: string; from?: string },
  cmd: Command,
): void {
  if (opts.windowsCni === undefined) return;
  const others: string[] = [];
  if (opts.netns !== undefined)
    others.push(cmd.getOptionValueSource("netns") === "env" ? "IPMASQ_NETNS" : "--netns");
  if (opts.from !== undefined) others.push("--from");
  if (others.length > 0)
    throw new CliExit(
      EXIT_ERROR,
      `--windows-cni reads a Windows CNI config and cannot be combined with ${others.join(" or ")} (iptables rules)`,
    );
}

export interface ReadCni {
  snapshot: WindowsSnapshot;
  plugin: string;
}

/** The file's lists; an unreadable or unparsable file stops the command (exit 1). */
export async function readWindowsCni(path: string, flags: AgentFlags): Promise<ReadCni> {
  const backend = createWindowsCniBackend({ path, flags });
  const snapshot = await backend.read();
  if (snapshot.readError) throw new CliExit(EXIT_ERROR, snapshot.readError);
  return { snapshot, plugin: backend.plugin() ?? "unknown" };
}

const FORM: Record<ExceptionListSnapshot["form"], string> = {
  EndpointPolicy: "HNS v1 EndpointPolicy ExceptionList",
  OutBoundNAT: "HNS v2 OutBoundNAT Settings.Exceptions",
};

export interface EntryView {
  text: string;
  /** The block it means, or null when it is not an IP address or CIDR. */
  cidr: string | null;
  family: Family | null;
  note?: string;
}

export function entryView(text: string): EntryView {
  const r = readExceptionEntry(text);
  if (!r.ok) return { text, cidr: null, family: null, note: "not an IP address or CIDR" };
  const note =
    r.note === "plain IP"
      ? `plain IP: ${r.cidr.canonical}`
      : r.note === "not aligned"
        ? `host bits set: means ${r.cidr.canonical}`
        : r.note === "not canonical"
          ? `means ${r.cidr.canonical}`
          : undefined;
  return { text, cidr: r.cidr.canonical, family: r.cidr.family, ...(note ? { note } : {}) };
}

/** A list holding IPv6 entries and no IPv4 one: reported, never rewritten. */
export function isIPv6Only(entries: readonly EntryView[]): boolean {
  return entries.some((e) => e.family === "ipv6") && !entries.some((e) => e.family === "ipv4");
}

export function windowsInspectJson(r: ReadCni) {
  return {
    path: r.snapshot.path,
    plugin: r.plugin,
    lists: r.snapshot.lists.map((l) => {
      const entries = l.exceptions.map(entryView);
      return {
        pointer: l.pointer,
        form: l.form,
        managed: !isIPv6Only(entries),
        exceptions: l.exceptions,
        entries,
      };
    }),
  };
}

export function formatWindowsInspect(r: ReadCni): string {
  const out = [`${r.snapshot.path} (Windows CNI config, plugin ${r.plugin})`];
  if (r.snapshot.lists.length === 0) {
    out.push(
      "  no OutBoundNAT exception list: nonMasqueradeCIDRs cannot be applied to this file",
      "  (depending on the plugin, pod traffic is not SNAT'd at all, or SNAT'd to every destination but the plugin's own subnet)",
    );
    return `${out.join("\n")}\n`;
  }
  for (const l of r.snapshot.lists) {
    const entries = l.exceptions.map(entryView);
    const v6 = isIPv6Only(entries);
    out.push(`  ${l.pointer} (${FORM[l.form]}${v6 ? "; IPv6, never rewritten" : ""})`);
    out.push("    not SNAT'd (keep the pod address):");
    out.push(
      ...(entries.length
        ? entries.map(
            (e) =>
              `      ${e.cidr === null ? JSON.stringify(e.text) : e.text}${e.note ? ` (${e.note})` : ""}`,
          )
        : ["      (none)"]),
    );
    out.push(`    everything else: SNAT'd to the node address`);
    if (mixedListIPv6(l.exceptions).length > 0)
      out.push("    warning: mixes IPv4 and IPv6 entries; HNS expects one list per family");
  }
  return `${out.join("\n")}\n`;
}
