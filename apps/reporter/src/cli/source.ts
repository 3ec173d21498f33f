// Where inspect/drift/why read rules from: a file (iptables-save or -S text, or stdin) or the
// live node (`--netns NS` reads that namespace; the reporter's own backend does the reading).
import {
  type AgentFlags,
  analyzeRuleset,
  analyzeSnapshot,
  BACKEND_LABELS,
  type Family,
  type FamilyAnalysis,
  type FamilySnapshot,
  parseIptables,
} from "@masq/shared";
import { type Command, Option } from "commander";
import { createIptablesBackend } from "../backend/iptables.js";
import { CliExit, type CliIO, EXIT_ERROR, readInput } from "./io.js";

export interface SourceOptions {
  from?: string;
  netns?: string;
  family: Family | "auto";
}

export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option("--from <file>", "iptables-save or `iptables -t nat -S` output; - for stdin")
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
  try {
    return await createIptablesBackend({ netns, flags }).read();
  } catch (e) {
    throw new CliExit(EXIT_ERROR, `cannot read rules in netns ${netns}: ${(e as Error).message}`);
  }
}

/** Live snapshots that must all have been read (for answers about traffic). */
export async function readLiveReadable(
  netns: string,
  flags: AgentFlags,
): Promise<FamilySnapshot[]> {
  const snaps = await readLive(netns, flags);
  const failed = snaps.find((s) => s.readError);
  if (failed)
    throw new CliExit(
      EXIT_ERROR,
      `cannot read ${failed.family} rules (${BACKEND_LABELS[failed.backend]}): ${failed.readError}`,
    );
  return snaps;
}

/** Analyses of every family the source holds. */
export async function readAnalyses(
  io: CliIO,
  opts: SourceOptions,
  flags: AgentFlags,
): Promise<FamilyAnalysis[]> {
  if (opts.netns !== undefined && opts.from !== undefined)
    throw new CliExit(EXIT_ERROR, "give either --from or --netns, not both");
  if (opts.netns !== undefined) {
    const snaps = await readLiveReadable(opts.netns, flags);
    return snaps.map((s) => analyzeSnapshot(s, flags.masqChain));
  }
  if (opts.from === undefined)
    throw new CliExit(EXIT_ERROR, "give --from FILE (or - for stdin) or --netns NAME");
  const text = await readInput(io, opts.from);
  const { ruleset, errors } = parseIptables(text, "nat");
  const analysis = analyzeRuleset(ruleset, familyOf(text, opts.family), flags.masqChain);
  analysis.errors = errors;
  return [analysis];
}
