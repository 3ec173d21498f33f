// Text for people about the nat path: a verdict with its branches (`ipmasq why`), and the path
// a node's packets take (`ipmasq inspect`).
import {
  chainComponent,
  describeConditions,
  describeRef,
  type FamilyAnalysis,
  outcomeSummary,
  type PathOutcome,
  type Unknown,
  type Verdict,
  type VerdictOutcome,
} from "@masq/shared";

/** "POSTROUTING → KUBE-POSTROUTING (kube-proxy) → IP-MASQ-AGENT (ip-masq-agent)". */
export function pathLine(chains: readonly string[], agentChain: string): string {
  return chains
    .map((c) => {
      const comp = chainComponent(c, agentChain);
      return comp.id === "unknown" ? c : `${c} (${comp.name})`;
    })
    .join(" → ");
}

function headline(v: Verdict, agentChain: string): string {
  const ip = v.ip;
  const partial = v.unknowns.some((u) => u.kind === "postrouting-missing");
  if (v.masqueraded === true)
    return v.certain
      ? `${ip} is masqueraded`
      : `${ip} is masqueraded by ${agentChain} if POSTROUTING jumps to it (POSTROUTING is not in the input)`;
  if (v.masqueraded === false)
    return v.certain
      ? `${ip} is not masqueraded (it keeps the pod address)`
      : `${ip} is not masqueraded by ${agentChain}${partial ? " (POSTROUTING is not in the input: what it does besides is unknown)" : ""}`;
  return v.outcomes.some((o) => o.masqueraded === null)
    ? `${ip}: these rules cannot say for every packet`
    : `${ip}: it depends on the packet`;
}

/** What would decide the answer, as the flags that give it. */
function hints(outcomes: readonly VerdictOutcome[]): string[] {
  const fields = new Set(outcomes.flatMap((o) => o.conditions.map((c) => c.field)));
  const flags: string[] = [];
  if (fields.has("source")) flags.push("--source POD_IP");
  if (fields.has("protocol")) flags.push("--protocol tcp|udp|…");
  if (fields.has("dport")) flags.push("--dport PORT");
  if (fields.has("mark"))
    flags.push(
      "--mark VALUE (the packet's mark in POSTROUTING; kube-proxy sets 0x4000 on service traffic it SNATs)",
    );
  return flags.length > 0 ? [`  to answer for one packet, give ${flags.join(", ")}`] : [];
}

function outcomeLines(o: VerdictOutcome, showBackend: boolean): string[] {
  const when = o.when.length > 0 ? `if ${o.when.join(" and ")}` : "every packet";
  const backend = showBackend && o.backend ? `[${o.backend}] ` : "";
  return [
    `  ${when}: ${backend}${outcomeSummary(o)}`,
    ...(o.decidedBy ? [`      ${o.decidedBy.text}`] : []),
  ];
}

function viaOf(v: Verdict): string[] {
  const seen = new Set<string>();
  for (const o of v.outcomes) for (const c of o.via) seen.add(c);
  return [...seen];
}

/** `ipmasq why` output. */
export function formatVerdict(v: Verdict, agentChain: string): string {
  const lines = [headline(v, agentChain)];
  const [only] = v.outcomes;
  if (v.outcomes.length === 1 && only) {
    if (only.decidedBy)
      lines.push(`  decided by ${describeRef(only.decidedBy)}: ${only.decidedBy.text}`);
    lines.push(`  because ${v.reason}`);
  } else {
    // Backends are named only when the answer combines more than one.
    const several = new Set(v.outcomes.map((o) => o.backend)).size > 1;
    lines.push(...v.outcomes.flatMap((o) => outcomeLines(o, several)));
    if (v.masqueraded === null) lines.push(...hints(v.outcomes));
  }
  const via = viaOf(v);
  if (via.length > 0) lines.push(`  path: ${pathLine(via, agentChain)}`);
  lines.push(...v.unknowns.map((u) => `  could not see: ${u.message}`));
  return `${lines.join("\n")}\n`;
}

const isAccept = (o: PathOutcome) => / -j ACCEPT( |$)/.test(o.decidedBy?.text ?? "");

/** A branch decided outside the agent's chain, for `inspect`. */
function decisionLine(o: PathOutcome): string {
  const verb =
    o.result === "masquerade"
      ? "masquerades"
      : o.result === "snat"
        ? `SNATs to ${o.toSource ?? "?"}`
        : isAccept(o)
          ? "accepts (no NAT)"
          : "returns (nothing NATs it after)";
  const when = describeConditions(o.conditions);
  const by = o.decidedBy ? describeRef(o.decidedBy) : "?";
  return `    ${by} ${verb}: ${when.length ? `pod traffic when ${when.join(" and ")}` : "all pod traffic"}`;
}

/** The path part of `inspect`: chains, decisions outside the agent's chain, what was not seen. */
export function formatPath(a: FamilyAnalysis): string[] {
  const out: string[] = [];
  if (a.path.length > 0)
    out.push(
      `  path: ${pathLine(
        a.path.map((p) => p.name),
        a.chain,
      )}`,
    );
  // Unknown branches are listed once below, under "could not see".
  const decided = (where: PathOutcome["agent"]) =>
    a.outcomes.filter(
      (o) => o.agent === where && o.decidedBy !== undefined && o.result !== "unknown",
    );
  const before = decided("before");
  if (before.length > 0)
    out.push(`  decided before ${a.chain}:`, ...unique(before.map(decisionLine)));
  const after = decided("after").filter((o) => o.result === "masquerade" || o.result === "snat");
  if (after.length > 0)
    out.push(`  NAT after ${a.chain} returns:`, ...unique(after.map(decisionLine)));
  if (a.inert.length > 0)
    out.push(
      "  matches no packet:",
      ...a.inert.map((r) => `    ${describeRef(r)}: ${r.why}: ${r.text}`),
    );
  out.push(...a.unknowns.map((u: Unknown) => `  could not see: ${u.message}`));
  return out;
}

function unique(lines: string[]): string[] {
  return [...new Set(lines)];
}
