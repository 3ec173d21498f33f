import {
  type AgentFlags,
  evaluate,
  evaluateSnapshots,
  type Family,
  parseIp,
  type Verdict,
} from "@masq/shared";
import type { Command } from "commander";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatVerdict } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR } from "./io.js";
import { addSourceOptions, readAnalyses, readLiveReadable, type SourceOptions } from "./source.js";

type WhyOptions = AgentFlagOptions & SourceOptions & { json?: boolean };

export function registerWhy(program: Command, io: CliIO): void {
  const cmd = program
    .command("why")
    .description("would pod traffic to IP be masqueraded, and which rule decides")
    .argument("<ip>", "destination address")
    .option("--json", "print the verdict as JSON");
  addAgentFlagOptions(addSourceOptions(cmd)).action(async (ip: string, opts: WhyOptions) => {
    const parsed = parseIp(ip);
    if (!parsed) throw new CliExit(EXIT_ERROR, `"${ip}" is not an IP address`);
    const flags = agentFlagsFrom(opts);
    const v = await verdictFor(io, opts, flags, parsed.family, ip);
    if ("error" in v) throw new CliExit(EXIT_ERROR, v.error);
    io.stdout(opts.json ? `${JSON.stringify(v, null, 2)}\n` : formatVerdict(v));
  });
}

/** A live node is judged across its iptables backends (both act on packets); a file as given. */
async function verdictFor(
  io: CliIO,
  opts: WhyOptions,
  flags: AgentFlags,
  family: Family,
  ip: string,
): Promise<Verdict | { error: string }> {
  const missing = `no ${family} rules were read (IPv6 needs --enable-ipv6)`;
  if (opts.netns !== undefined && opts.from === undefined) {
    const snaps = (await readLiveReadable(opts.netns, flags)).filter((s) => s.family === family);
    if (snaps.length === 0) throw new CliExit(EXIT_ERROR, missing);
    return evaluateSnapshots(snaps, flags.masqChain, ip);
  }
  const analyses = await readAnalyses(
    io,
    { ...opts, family: opts.family === "auto" ? family : opts.family },
    flags,
  );
  const analysis = analyses.find((a) => a.family === family);
  if (!analysis) throw new CliExit(EXIT_ERROR, missing);
  return evaluate(analysis, ip);
}
