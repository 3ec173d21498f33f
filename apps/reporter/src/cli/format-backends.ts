// `ipmasq inspect`'s text over every backend read: which iptables backend the agent writes to,
// and each backend's analysis. The agent's chain is expected only in the backend it writes to:
// another backend without it is shown as other components' rules, never as a missing chain.
import { BACKEND_LABELS, type FamilyAnalysis } from "@masq/shared";
import { formatAnalysis, formatErrors } from "./format.js";
import { formatPath } from "./format-path.js";
import type { AgentBackend } from "./source.js";

/** A backend whose nat POSTROUTING path holds no rule at all (read because its table exists). */
const holdsNothing = (a: FamilyAnalysis) =>
  !a.chainExists && a.path.every((p) => p.read && p.rules === 0);

/** "the agent writes to iptables-nft (nf_tables): WHY" (a live read only). */
export function agentBackendLine(agent: AgentBackend): string {
  return `the agent writes to ${BACKEND_LABELS[agent.backend]}${agent.reason ? `: ${agent.reason}` : ""}\n`;
}

/**
 * A backend the agent does not write to, without its chain (as expected): what its nat
 * POSTROUTING does to pod traffic, without "chain does not exist" or "jump missing".
 */
function notTheAgents(a: FamilyAnalysis, where: string): string {
  const shown = { ...a, unknowns: a.unknowns.filter((u) => u.kind !== "chain-missing") };
  const lines = formatPath(shown, "in its nat POSTROUTING");
  return `${where} (the agent does not write here, so no ${a.chain} is expected):\n${lines.join("\n")}\n${formatErrors(a)}`;
}

/**
 * Every analysis; the backend is named when one family comes from two (both act on packets).
 * `agent`: the backend the agent writes to (known on a live read): said first, and the agent's
 * chain is looked for only there.
 */
export function formatAll(analyses: readonly FamilyAnalysis[], agent?: AgentBackend): string {
  const two = new Set(analyses.map((a) => a.family)).size < analyses.length;
  const body = analyses
    .map((a) => {
      if (!two || !a.backend) return formatAnalysis(a);
      const where = `in ${BACKEND_LABELS[a.backend]}`;
      if (holdsNothing(a))
        return `${where}: no ${a.family} nat POSTROUTING rules (nothing there acts on pod traffic)\n`;
      if (!agent) return `${where}:\n${formatAnalysis(a)}`;
      if (a.backend === agent.backend) return `${where} (the agent's):\n${formatAnalysis(a)}`;
      if (!a.chainExists) return notTheAgents(a, where);
      return `${where} (the agent does not write here, yet ${a.chain} is here too and acts on packets: see ipmasq drift):\n${formatAnalysis(a)}`;
    })
    .join("\n");
  return `${agent ? agentBackendLine(agent) : ""}${body}`;
}
