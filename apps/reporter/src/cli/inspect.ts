import { analyzeSnapshot, BACKEND_LABELS, type FamilySnapshot } from "@masq/shared";
import type { Command } from "commander";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatAnalysis } from "./format.js";
import type { CliIO } from "./io.js";
import { addSourceOptions, readAnalyses, readLiveReadable, type SourceOptions } from "./source.js";
import {
  addWindowsCniOption,
  checkWindowsExclusive,
  formatWindowsInspect,
  readWindowsCni,
  type WindowsCniOption,
  windowsInspectJson,
} from "./windows.js";

type InspectOptions = AgentFlagOptions & SourceOptions & WindowsCniOption & { json?: boolean };

export function registerInspect(program: Command, io: CliIO): void {
  const cmd = program
    .command("inspect")
    .description("show what a node's masquerade rules do")
    .option("--json", "print the analysis as JSON");
  addWindowsCniOption(addSourceOptions(cmd), "show");
  addAgentFlagOptions(cmd).action(async (opts: InspectOptions, c: Command) => {
    checkWindowsExclusive(opts, c);
    if (opts.windowsCni !== undefined) {
      const r = await readWindowsCni(opts.windowsCni, agentFlagsFrom(opts));
      io.stdout(
        opts.json ? `${JSON.stringify(windowsInspectJson(r), null, 2)}\n` : formatWindowsInspect(r),
      );
      return;
    }
    const flags = agentFlagsFrom(opts);
    if (opts.netns !== undefined && opts.from === undefined) {
      io.stdout(inspectLive(await readLiveReadable(opts.netns, flags), flags.masqChain, opts.json));
      return;
    }
    const analyses = await readAnalyses(io, opts, flags);
    if (opts.json) io.stdout(`${JSON.stringify(analyses.map(toJson), null, 2)}\n`);
    else io.stdout(analyses.map(formatAnalysis).join("\n"));
  });
}

function toJson(a: import("@masq/shared").FamilyAnalysis) {
  return {
    family: a.family,
    chain: a.chain,
    chainExists: a.chainExists,
    returns: a.returns.map((c) => c.canonical),
    finalMasquerade:
      a.finalMasquerade === undefined ? null : a.entries[a.finalMasquerade]?.rule.text,
    unreachable: a.unreachable.map((i) => a.entries[i]?.rule.text),
    jumps: a.jumps.map((j) => ({
      rule: j.index + 1,
      exact: j.exact,
      canonical: j.canonical,
      conditions: j.conditions,
    })),
    shadows: a.shadows.map((s) => ({
      rule: s.index + 1,
      effect: s.effect,
      reach: s.reach,
      text: s.rule.text,
    })),
    rules: a.entries.map((e) => ({
      rule: e.index + 1,
      role: e.role,
      cidr: e.cidr?.canonical ?? null,
      negated: e.negated,
      conditions: e.conditions,
      text: e.rule.text,
    })),
    errors: a.errors,
  };
}

/** A live node: each backend holding nat rules is shown (named when there are two). */
function inspectLive(snaps: FamilySnapshot[], chain: string, json?: boolean): string {
  const two = new Set(snaps.map((s) => s.family)).size < snaps.length;
  const parts = snaps.map((s) => ({ backend: s.backend, a: analyzeSnapshot(s, chain) }));
  if (json)
    return `${JSON.stringify(
      parts.map((p) => ({ backend: p.backend, ...toJson(p.a) })),
      null,
      2,
    )}\n`;
  return parts
    .map((p) => `${two ? `in ${BACKEND_LABELS[p.backend]}:\n` : ""}${formatAnalysis(p.a)}`)
    .join("\n");
}
