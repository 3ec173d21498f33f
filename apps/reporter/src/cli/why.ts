import { evaluate, parseIp } from "@masq/shared";
import type { Command } from "commander";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatVerdict } from "./format.js";
import { CliExit, type CliIO, EXIT_ERROR } from "./io.js";
import { addSourceOptions, readAnalyses, type SourceOptions } from "./source.js";

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
    const analyses = await readAnalyses(
      io,
      { ...opts, family: opts.family === "auto" ? parsed.family : opts.family },
      agentFlagsFrom(opts),
    );
    const analysis = analyses.find((a) => a.family === parsed.family);
    if (!analysis)
      throw new CliExit(
        EXIT_ERROR,
        `no ${parsed.family} rules were read (IPv6 needs --enable-ipv6)`,
      );
    const v = evaluate(analysis, ip);
    if ("error" in v) throw new CliExit(EXIT_ERROR, v.error);
    io.stdout(opts.json ? `${JSON.stringify(v, null, 2)}\n` : formatVerdict(v));
  });
}
