// Contract for every benchmark module: `export default async function (): Promise<BenchResult[]>`.
// bench/run.ts runs them all and writes bench/results/latest.json and docs/performance.md.
export interface BenchResult {
  /** Stable id, e.g. "parse-100k". */
  id: string;
  /** Issue the target comes from. */
  issue: number;
  /** What was measured, for the table. */
  name: string;
  value: number;
  unit: string;
  /** The target as text, e.g. "≤ 1000 ms". */
  target?: string;
  /** Whether the value meets the target (undefined when there is none). */
  pass?: boolean;
  /** How it was measured, comparisons, caveats. */
  notes?: string;
}

export type Benchmark = () => Promise<BenchResult[]>;
