// Text for people about the nat path: a verdict with its branches (`ipmasq why`), and the path
// a node's packets take (`ipmasq inspect`).
import {
  BACKEND_LABELS,
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

/** Chains of one component in a row shown before the rest are counted (a chain per pod). */
const CHAINS_PER_RUN = 2;

/**
 * "POSTROUTING → KUBE-POSTROUTING (kube-proxy) → IP-MASQ-AGENT (ip-masq-agent)"; a long run of
 * one component's chains is shortened ("… 108 more CNI bridge plugin (ipMasq) chains").
 */
export function pathLine(chains: readonly string[], agentChain: string): string {
  const parts: string[] = [];
  let run = 0;
  let runName = "";
  const flush = () => {
    if (run > CHAINS_PER_RUN) parts.push(`… ${run - CHAINS_PER_RUN} more ${runName} chains`);
  };
  chains.forEach((c, i) => {
    const comp = chainComponent(c, agentChain);
    const same = i > 0 && comp.id !== "unknown" && comp.name === runName;
    if (!same) {
      flush();
      run = 0;
      runName = comp.name;
    }
    run++;
    if (run <= CHAINS_PER_RUN) parts.push(comp.id === "unknown" ? c : `${c} (${comp.name})`);
  });
  flush();
  return parts.join(" → ");
}

function headline(v: Verdict, agentChain: string): string {
  const ip = v.ip;
  const partial = v.unknowns.some((u) => u.kind === "postrouting-missing");
  // Not certain for another reason than a missing POSTROUTING (translation outside netfilter,
  // a chain not read): said as such, not as if POSTROUTING were missing or the agent decided.
  const notCertain = `as far as these rules say, but not for certain (see "could not see")`;
  if (v.masqueraded === true)
    return v.certain
      ? `${ip} is masqueraded`
      : partial
        ? `${ip} is masqueraded by ${agentChain} if POSTROUTING jumps to it (POSTROUTING is not in the input)`
        : `${ip} is masqueraded ${notCertain}`;
  if (v.masqueraded === false)
    return v.certain
      ? `${ip} is not masqueraded (it keeps the pod address)`
      : partial
        ? `${ip} is not masqueraded by ${agentChain} (POSTROUTING is not in the input: what it does besides is unknown)`
        : `${ip} is not masqueraded ${notCertain}`;
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
    ...[...(o.passedBy ?? []), ...(o.natBy ?? [])].map((r) => `      ${r.text}`),
    ...(o.entry ? [`      config entry: ${o.entry.text}`] : []),
  ];
}

function viaOf(v: Verdict): string[] {
  const seen = new Set<string>();
  for (const o of v.outcomes) for (const c of o.via) seen.add(c);
  return [...seen];
}

/** No one rule decides: each of these let it pass (chains whose order is not in the rules). */
function passedByLines(o: VerdictOutcome): string[] {
  return (o.passedBy ?? []).map(
    (r) =>
      `  let pass by ${describeRef(r)}${r.backend ? ` in ${BACKEND_LABELS[r.backend]}` : ""}: ${r.text}`,
  );
}

/** No one rule decides: each of these NATs it the same way, whichever runs first. */
function natByLines(o: VerdictOutcome): string[] {
  if (!o.natBy?.length) return [];
  return [
    "  NATed by whichever of these runs first (an order not in the rules):",
    ...o.natBy.map(
      (r) =>
        `    ${describeRef(r)}${r.backend ? ` in ${BACKEND_LABELS[r.backend]}` : ""}: ${r.text}`,
    ),
  ];
}

/** `ipmasq why` output. */
export function formatVerdict(v: Verdict, agentChain: string): string {
  const lines = [headline(v, agentChain)];
  const [only] = v.outcomes;
  if (v.outcomes.length === 1 && only) {
    // The backend named when it is not the only one read (a legacy rule beside iptables-nft's).
    const several = "backends" in v && Array.isArray(v.backends) && v.backends.length > 1;
    const where = only.backend && several ? ` in ${BACKEND_LABELS[only.backend]}` : "";
    if (only.decidedBy)
      lines.push(`  decided by ${describeRef(only.decidedBy)}${where}: ${only.decidedBy.text}`);
    lines.push(...passedByLines(only), ...natByLines(only));
    if (only.entry) lines.push(`  config entry: ${only.entry.text}`);
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

/** What "no NAT here" means: after the agent's chain (iptables), or in one nftables base chain. */
const NO_NAT = {
  iptables: "returns (nothing NATs it after)",
  hook: "ends this chain without NAT (the other nat postrouting chains still run)",
};

/** A branch decided outside the agent's chain, for `inspect`. */
function decisionLine(o: PathOutcome, hook: boolean): string {
  const verb =
    o.result === "masquerade"
      ? "masquerades"
      : o.result === "snat"
        ? `SNATs to ${o.toSource ?? "?"}`
        : hook
          ? NO_NAT.hook
          : isAccept(o)
            ? "accepts (no NAT)"
            : NO_NAT.iptables;
  const when = describeConditions(o.conditions);
  const by = o.decidedBy ? describeRef(o.decidedBy) : "?";
  return `    ${by} ${verb}: ${when.length ? `pod traffic when ${when.join(" and ")}` : "all pod traffic"}`;
}

/**
 * The path part of `inspect`: chains, decisions outside the agent's chain, what was not seen.
 * `decidedHere`: the analysis is one nftables base chain's, whose decisions are its own.
 */
export function formatPath(a: FamilyAnalysis, decidedHere?: string): string[] {
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
    out.push(
      `  decided ${decidedHere ?? `before ${a.chain}`}:`,
      ...summarized(before, decidedHere !== undefined),
    );
  const after = decided("after").filter((o) => o.result === "masquerade" || o.result === "snat");
  if (after.length > 0) out.push(`  NAT after ${a.chain} returns:`, ...summarized(after));
  if (a.inert.length > 0)
    out.push(
      "  matches no packet:",
      ...a.inert.map((r) => `    ${describeRef(r)}: ${r.why}: ${r.text}`),
    );
  out.push(...a.unknowns.map((u: Unknown) => `  could not see: ${u.message}`));
  return out;
}

/** Lines shown per component and result before the rest are counted (e.g. a chain per pod). */
const LINES_PER_KIND = 3;

/** One line per branch, at most a few of the same kind (component and result). */
function summarized(outcomes: readonly PathOutcome[], hook = false): string[] {
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const o of outcomes) {
    const line = decisionLine(o, hook);
    if (out.includes(line)) continue;
    const kind = `${o.decidedBy?.component.id}|${o.result}`;
    const n = (seen.get(kind) ?? 0) + 1;
    seen.set(kind, n);
    if (n <= LINES_PER_KIND) out.push(line);
  }
  for (const [kind, n] of seen)
    if (n > LINES_PER_KIND)
      out.push(
        `    … and ${n - LINES_PER_KIND} more like the ${kind.split("|")[1]} lines above (--json lists all)`,
      );
  return out;
}
