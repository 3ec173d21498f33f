import {
  describeConditions,
  type Family,
  type FamilyAnalysis,
  familiesFor,
  type PathOutcome,
  type RuleRef,
  setToCidrs,
} from "@masq/shared";
import type { Command } from "commander";
import type { NftObserved } from "../backend/types.js";
import { type AgentFlagOptions, addAgentFlagOptions, agentFlagsFrom } from "./flags.js";
import { formatAnalysis } from "./format.js";
import { formatAll } from "./format-backends.js";
import { type CliIO, ERROR_EXIT, EXIT_OK, exitCodesHelp } from "./io.js";
import { addBackendOption, type BackendOption, nftAnalysis, nftSource } from "./nft-source.js";
import { addSourceOptions, readSource, type SourceOptions } from "./source.js";
import {
  addWindowsCniOption,
  checkWindowsExclusive,
  formatWindowsInspect,
  readWindowsCni,
  type WindowsCniOption,
  windowsInspectJson,
} from "./windows.js";

const HELP = `
Shows the path pod traffic takes through nat POSTROUTING (each chain with the component that
wrote it: kube-proxy, CNI plugins, Calico, AWS VPC CNI, flannel, Cilium, Docker, OVN-Kubernetes,
older agents), what other rules decide before the agent's chain or after it returns, the
agent's chain rule by rule, rules that match no packet, and what could not be seen (chains not
in the input, POSTROUTING not in the input). With only \`iptables -t nat -S IP-MASQ-AGENT\`
output, it answers for that chain alone.

Examples:
  iptables-save -t nat | ipmasq inspect --from -
  ipmasq inspect --netns node-a --json
  ipmasq inspect --windows-cni /etc/cni/net.d/10-flannel.conflist
`;

type InspectOptions = AgentFlagOptions &
  SourceOptions &
  BackendOption &
  WindowsCniOption & { json?: boolean };

export function registerInspect(program: Command, io: CliIO): void {
  const cmd = program
    .command("inspect")
    .description("show what a node's masquerade rules do, along the whole nat path")
    .option("--json", "print the analysis as JSON")
    .addHelpText("after", HELP)
    .addHelpText(
      "after",
      exitCodesHelp([[EXIT_OK, "shown (whatever the rules do: see drift and why)"], ERROR_EXIT]),
    );
  addWindowsCniOption(addBackendOption(addSourceOptions(cmd)), "show");
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
    const nft = await nftSource(io, opts, flags);
    if (nft) return inspectNft(io, nft, familiesFor(flags), opts.json);
    const { analyses, agent } = await readSource(io, opts, flags);
    // Read live, each backend says whether the agent writes to it (its chain is expected there).
    const json = (a: FamilyAnalysis) =>
      agent && a.backend
        ? { ...toJson(a), agentWritesHere: a.backend === agent.backend }
        : toJson(a);
    if (opts.json) io.stdout(`${JSON.stringify(analyses.map(json), null, 2)}\n`);
    else io.stdout(formatAll(analyses, agent));
  });
}

const refJson = (r?: RuleRef) =>
  r ? { chain: r.chain, rule: r.index + 1, text: r.text, component: r.component.id } : null;

function outcomeJson(a: FamilyAnalysis, o: PathOutcome) {
  return {
    when: describeConditions(o.conditions),
    result: o.result,
    masqueraded: o.masqueraded,
    decidedBy: refJson(o.decidedBy),
    ...(o.toSource ? { toSource: o.toSource } : {}),
    agentChain: o.agent,
    destination: setToCidrs(a.family, o.destination),
    reason: o.reason,
  };
}

function toJson(a: FamilyAnalysis) {
  return {
    family: a.family,
    chain: a.chain,
    chainExists: a.chainExists,
    postroutingRead: a.postroutingRead,
    ...(a.backend ? { backend: a.backend } : {}),
    path: a.path.map((p) => ({
      chain: p.name,
      component: p.component.id,
      read: p.read,
      rules: p.rules,
    })),
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
    outcomes: a.outcomes.map((o) => outcomeJson(a, o)),
    matchesNoPacket: a.inert.map((r) => ({ ...refJson(r), why: r.why })),
    rules: a.entries.map((e) => ({
      rule: e.index + 1,
      role: e.role,
      cidr: e.cidr?.canonical ?? null,
      negated: e.negated,
      conditions: e.conditions,
      ...(e.matchesNothing ? { matchesNoPacket: e.matchesNothing } : {}),
      text: e.rule.text,
    })),
    unknowns: a.unknowns,
    errors: a.errors,
  };
}

/** A native nftables node: each nat postrouting chain of each family, in priority order. */
function inspectNft(io: CliIO, o: NftObserved, families: Family[], json?: boolean): void {
  const all = families.map((f) => nftAnalysis(o, f));
  if (json) {
    const out = all.map((fa) => ({
      family: fa.family,
      agentTable: fa.agentTable,
      hooks: fa.hooks.map((h) => ({
        ref: h.ref,
        priority: h.priority,
        agent: h.agent,
        analysis: toJson(h.analysis),
      })),
      unknowns: fa.unknowns,
    }));
    io.stdout(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  const text = all.map((fa) => {
    const head = `${fa.family}: ${fa.hooks.length} nat postrouting chain(s)${fa.agentTable ? "" : ", the agent's table is missing"}\n`;
    const hooks = fa.hooks.map(
      (h) =>
        `chain ${h.ref} (priority ${h.priority}):\n${formatAnalysis(h.analysis, h.agent ? "agent" : "other")}`,
    );
    const unknown = fa.unknowns.map((u) => `  not understood: ${u.message}\n`).join("");
    return `${head}${unknown}${hooks.join("\n")}`;
  });
  io.stdout(text.join("\n"));
}
