// Text output for people: short, aligned, one fact per line.
import {
  type Difference,
  type DriftReport,
  type FamilyAnalysis,
  type Issue,
  translatedImpact,
  type Unknown,
} from "@masq/shared";
import { formatPath } from "./format-path.js";

export function formatIssues(kind: "error" | "warning", issues: readonly Issue[]): string {
  return issues.map((i) => `${kind}: ${i.message}\n`).join("");
}

function jumpState(a: FamilyAnalysis): string {
  if (a.jumps.length === 0) {
    // Reached through another chain (POSTROUTING -j X, X -j the agent's chain): not missing.
    const via = a.outcomes.find((o) => o.agent !== "before")?.via ?? [];
    const through = via.slice(1, via.indexOf(a.chain));
    return through.length > 0
      ? `none of its own; reached through ${through.join(" → ")}`
      : "missing";
  }
  const where = a.jumps
    .map(
      (j) =>
        `rule ${j.index + 1}${j.exact ? "" : j.canonical ? ", other comment" : `, conditions: ${j.conditions.join(" ")}`}`,
    )
    .join("; ");
  return `${a.jumps.length === 1 ? "present" : `${a.jumps.length} jumps`} (${where})`;
}

/**
 * Upstream's chain: the returned destinations. With masqueradeCIDRs (a MASQUERADE with a
 * destination before the final one) the first match decides, so every RETURN and exception is
 * listed by rule, in chain order, and one that earlier rules hide says so.
 */
function decisionLines(a: FamilyAnalysis): string[] {
  const decisions = a.decisions;
  if (!decisions.some((d) => d.masquerade))
    return [
      "  not masqueraded (RETURN before MASQUERADE), in order:",
      ...(a.returns.length ? a.returns.map((c) => `    ${c.canonical}`) : ["    (none)"]),
    ];
  const rows = decisions.map((d) => {
    const e = a.entries[d.index]!;
    const what = d.masquerade ? "masqueraded (masqueradeCIDRs)" : "keeps the pod address";
    const to = `${e.negated ? "not " : ""}${e.cidr?.canonical ?? "every destination"}`;
    const dead = d.set.length === 0 ? " (never applies: earlier rules decide all of it)" : "";
    return `    rule ${e.index + 1}: ${to} ${what}${dead}`;
  });
  return ["  first match decides (before the final MASQUERADE), in order:", ...rows];
}

/**
 * `inspect`'s text for one analysis. `hook`: the analysis is of one nftables base chain of nat
 * postrouting (the agent's own, or another's): hooked by the kernel, so no jump is looked for;
 * another's chain is not the agent's, so no agent chain is looked for in it either.
 */
export function formatAnalysis(a: FamilyAnalysis, hook?: "agent" | "other"): string {
  if (hook === "other") return `${formatPath(a, "in this chain").join("\n")}\n${formatErrors(a)}`;
  const out: string[] = [
    `${a.chain} (${a.family}${a.backend ? `, ${a.backend}` : ""})${a.chainExists ? "" : ": chain does not exist"}`,
  ];
  if (!hook)
    out.push(
      `  jump from POSTROUTING: ${a.postroutingRead ? jumpState(a) : "unknown (POSTROUTING is not in the input)"}`,
    );
  out.push(...formatPath(a));
  if (a.chainExists) {
    out.push(...decisionLines(a));
    const final = a.finalMasquerade === undefined ? undefined : a.entries[a.finalMasquerade];
    out.push(
      `  everything else: ${final ? `${final.rule.text.replace(/^.* -j /, "")} (rule ${final.index + 1})` : `no final MASQUERADE rule: ${translatedImpact(a.outcomes)}`}`,
    );
    const other = a.entries.filter(
      (e) =>
        e.role === "foreign" ||
        e.conditions.length > 0 ||
        (e.role === "return" && e.protocol !== undefined),
    );
    if (other.length)
      out.push(
        "  other rules:",
        ...other.map(
          (e) =>
            `    rule ${e.index + 1}${e.matchesNothing ? " (matches no packet)" : ""}: ${e.rule.text}`,
        ),
      );
    if (a.unreachable.length)
      out.push(
        `  never reached (after MASQUERADE): rules ${a.unreachable.map((i) => i + 1).join(", ")}`,
      );
  }
  return `${out.join("\n")}\n${formatErrors(a)}`;
}

/** The input's unreadable lines, indented ("" when none). */
export function formatErrors(a: FamilyAnalysis): string {
  if (a.errors.length === 0) return "";
  const lines = a.errors.map((e) => `    line ${e.line}: ${e.reason}: ${e.text}`);
  return `${["  unreadable lines:", ...lines].join("\n")}\n`;
}

export function formatDifference(d: Difference): string {
  const head = `  ${d.severity.toUpperCase().padEnd(8)} ${d.scope} ${d.kind}: ${d.message}`;
  return [
    head,
    ...(d.impact ? [`           → ${d.impact}`] : []),
    ...(d.rule ? [`           rule: ${d.rule}`] : []),
  ].join("\n");
}

export function formatReport(r: DriftReport): string {
  const lines = [
    `${r.status === "in-sync" ? "in sync" : "drifted"}${r.status === "drifted" || r.cosmetic ? `: ${r.summary}` : ""}`,
  ];
  lines.push(...r.differences.map(formatDifference));
  return `${lines.join("\n")}\n`;
}

/** What an analysis could not see, as notes under a drift report. */
export function formatUnknowns(unknowns: readonly Unknown[]): string {
  return unknowns.map((u) => `  note: could not see: ${u.message}\n`).join("");
}
