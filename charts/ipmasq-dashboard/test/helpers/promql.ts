// PromQL read with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser of
// Prometheus' web UI): syntax errors, and the metric names an expression selects, to compare
// with the metrics the dashboard really registers.
import { parser } from "@prometheus-io/lezer-promql";
import type { Registry } from "prom-client";

export interface PromqlRead {
  metrics: string[];
  /** Where the grammar could not read the expression ("" when it reads). */
  errors: string[];
}

export function readPromql(expr: string): PromqlRead {
  const metrics = new Set<string>();
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter(n) {
      if (n.type.isError)
        errors.push(`syntax error at ${n.from}: "${expr.slice(n.from, n.from + 20)}"`);
      if (n.name === "Identifier" && n.node.parent?.name === "VectorSelector")
        metrics.add(expr.slice(n.from, n.to));
    },
  });
  return { metrics: [...metrics], errors };
}

/** Series names a registry exposes: histograms as _bucket, _sum and _count. */
export async function exposedNames(registry: Registry): Promise<Set<string>> {
  const out = new Set<string>();
  for (const m of await registry.getMetricsAsJSON()) {
    out.add(m.name);
    if (String(m.type) === "histogram")
      for (const s of ["_bucket", "_sum", "_count"]) out.add(`${m.name}${s}`);
  }
  return out;
}

/** Every problem of `exprs` (named by `where`): syntax errors and metrics not in `known`. */
export function promqlViolations(
  exprs: { where: string; expr: string }[],
  known: Set<string>,
): string[] {
  return exprs.flatMap(({ where, expr }) => {
    const r = readPromql(expr);
    return [
      ...r.errors.map((e) => `${where}: ${e}`),
      ...(r.metrics.length === 0 ? [`${where}: selects no metric`] : []),
      ...r.metrics
        .filter((m) => !known.has(m))
        .map((m) => `${where}: ${m} is not a metric the dashboard exports`),
    ];
  });
}
