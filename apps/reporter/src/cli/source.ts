// Where inspect/drift/why read rules from: a file (iptables-save or -S text, or stdin) or the
// live node (`--netns NS` reads that namespace; the reporter's own backend does the reading).
import {
  type AgentFlags,
  type AnalysisContext,
  analyzeRuleset,
  analyzeSnapshot,
  BACKEND_LABELS,
  type Family,
  type FamilyAnalysis,
  type FamilySnapshot,
  type IptablesBackend,
  listingFormatError,
  parseIptables,
} from "@masq/shared";
import { type Command, Option } from "commander";
import { createIptablesBackend } from "../backend/iptables.js";
import { assertNetnsExists } from "../exec.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";

export interface SourceOptions {
  from?: string;
  netns?: string;
  family: Family | "auto";
}

export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option(
      "--from <file>",
      "iptables-save -t nat output, or `iptables -t nat -S` of POSTROUTING and the chains it reaches (or of the agent chain alone); - for stdin",
    )
    .addOption(
      new Option("--netns <name>", "read the live rules of this network namespace").env(
        "IPMASQ_NETNS",
      ),
    )
    .addOption(
      new Option("--family <family>", "family of --from text")
        .choices(["ipv4", "ipv6", "auto"])
        .default("auto"),
    );
}

const IPV6_ADDRESS = /\s!?\s?-[ds]\s+[0-9a-fA-F]*:[0-9a-fA-F:.]*(\/\d+)?\s/;

function familyOf(text: string, wanted: SourceOptions["family"]): Family {
  if (wanted !== "auto") return wanted;
  return IPV6_ADDRESS.test(text) ? "ipv6" : "ipv4";
}

/**
 * Live snapshots of the node: per managed family, one per iptables backend holding nat rules
 * (the one the reporter writes to first).
 */
export async function readLive(netns: string, flags: AgentFlags): Promise<FamilySnapshot[]> {
  return (await readLiveWith(netns, flags)).snaps;
}

/** The iptables backend the agent writes to on a live node, and why (as the reporter decides). */
export interface AgentBackend {
  backend: IptablesBackend;
  reason: string;
}

/** readLive, with the backend the agent writes to. */
async function readLiveWith(
  netns: string,
  flags: AgentFlags,
): Promise<{ snaps: FamilySnapshot[]; agent?: AgentBackend }> {
  try {
    assertNetnsExists(netns);
    const b = createIptablesBackend({ netns, flags });
    const snaps = await b.read();
    const info = await b.info();
    const backend = info.backend === "legacy" || info.backend === "nf_tables" ? info.backend : null;
    return {
      snaps,
      ...(backend ? { agent: { backend, reason: info.backendReason ?? "" } } : {}),
    };
  } catch (e) {
    throw new CliExit(EXIT_ERROR, `cannot read rules in netns ${netns}: ${(e as Error).message}`);
  }
}

/** Live snapshots that must all have been read (for answers about traffic). */
export async function readLiveReadable(
  netns: string,
  flags: AgentFlags,
): Promise<FamilySnapshot[]> {
  return (await readLiveReadableWith(netns, flags)).snaps;
}

async function readLiveReadableWith(netns: string, flags: AgentFlags) {
  const live = await readLiveWith(netns, flags);
  const failed = live.snaps.find((s) => s.readError);
  if (failed)
    throw new CliExit(
      EXIT_ERROR,
      `cannot read ${failed.family} rules (${BACKEND_LABELS[failed.backend]}): ${failed.readError}`,
    );
  return live;
}

/** Analyses of every family the source holds. */
export async function readAnalyses(
  io: CliIO,
  opts: SourceOptions,
  flags: AgentFlags,
): Promise<FamilyAnalysis[]> {
  return (await readSource(io, opts, flags)).analyses;
}

/**
 * Analyses of every family the source holds and, read live, the backend the agent writes to
 * (a file does not say which one the agent uses).
 */
export async function readSource(
  io: CliIO,
  opts: SourceOptions,
  flags: AgentFlags,
): Promise<{ analyses: FamilyAnalysis[]; agent?: AgentBackend }> {
  if (opts.netns !== undefined && opts.from !== undefined)
    throw new CliExit(EXIT_ERROR, "give either --from or --netns, not both");
  if (opts.netns !== undefined) {
    const { snaps, agent } = await readLiveReadableWith(opts.netns, flags);
    return {
      analyses: snaps.map((s) => analyzeSnapshot(s, flags.masqChain)),
      ...(agent ? { agent } : {}),
    };
  }
  if (opts.from === undefined)
    throw new CliExit(EXIT_ERROR, "give --from FILE (or - for stdin) or --netns NAME");
  const text = await readInput(io, opts.from);
  const listing = listingFormatError(text);
  if (listing) throw new CliExit(EXIT_ERROR, `${opts.from}: ${listing}`);
  const { ruleset, errors } = parseIptables(text, "nat");
  const analysis = analyzeRuleset(
    ruleset,
    familyOf(text, opts.family),
    flags.masqChain,
    backendOf(text),
  );
  analysis.errors = errors;
  return { analyses: [analysis] };
}

/**
 * What the text says about its backend: iptables-save's header names it ("v1.8.9 (nf_tables)",
 * "(legacy)"), and iptables-nft warns when legacy tables hold rules too.
 */
export function backendOf(text: string): AnalysisContext {
  const head = text.slice(0, 4096);
  const backend = /^# Generated by iptables-save v[\d.]+ \((nf_tables|legacy)\)/m.exec(head)?.[1] as
    | IptablesBackend
    | undefined;
  const legacyToo = /^# Warning: iptables-legacy tables present/m.test(head);
  return {
    ...(backend ? { backend } : {}),
    ...(legacyToo ? { unreadBackend: "legacy" as const } : {}),
  };
}
