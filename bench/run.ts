// Runs every benchmark of the project (files named *.bench.ts under packages/*/bench and
// apps/*/bench), writes bench/results/latest.json and the table in docs/performance.md.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import type { Benchmark, BenchResult } from "./types.js";

const root = join(import.meta.dirname, "..");
const only = process.argv.slice(2);

function benchFiles(): string[] {
  const dirs = ["packages", "apps"].flatMap((top) =>
    readdirSync(join(root, top)).map((d) => join(root, top, d, "bench")),
  );
  return dirs
    .filter((d) => existsSync(d))
    .flatMap((d) =>
      readdirSync(d)
        .filter((f) => f.endsWith(".bench.ts"))
        .map((f) => join(d, f)),
    )
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
    .sort();
}

async function runOne(file: string): Promise<BenchResult[]> {
  const mod = (await import(pathToFileURL(file).href)) as { default: Benchmark };
  const t0 = Date.now();
  try {
    const results = await mod.default();
    console.error(`✓ ${relative(root, file)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    return results;
  } catch (e) {
    console.error(`✗ ${relative(root, file)}: ${(e as Error).stack}`);
    return [
      {
        id: `${relative(root, file)}#error`,
        issue: 0,
        name: `${relative(root, file)} failed`,
        value: Number.NaN,
        unit: "",
        pass: false,
        notes: (e as Error).message,
      },
    ];
  }
}

function table(results: BenchResult[]): string {
  const rows = results.map(
    (r) =>
      `| ${r.issue} | ${r.name} | ${Number.isFinite(r.value) ? r.value : "error"} ${r.unit} | ${r.target ?? ""} | ${r.pass === undefined ? "" : r.pass ? "✅" : "❌"} | ${(r.notes ?? "").replace(/\|/g, "\\|")} |`,
  );
  return [
    "| issue | what | measured | target | ok | how / notes |",
    "|---|---|---|---|---|---|",
    ...rows,
  ].join("\n");
}

function writePerformanceDoc(results: BenchResult[], meta: Record<string, unknown>): void {
  const path = join(root, "docs/performance.md");
  const start = "<!-- bench:start -->";
  const end = "<!-- bench:end -->";
  const body = `${start}\nLast run: ${meta.date} on ${meta.cpus} × ${meta.cpuModel}, ${meta.memGiB} GiB, Node ${meta.node}.\n\n${table(results)}\n${end}`;
  const doc = existsSync(path) ? readFileSync(path, "utf8") : `# Performance\n\n${start}\n${end}\n`;
  const next = doc.includes(start)
    ? doc.replace(new RegExp(`${start}[\\s\\S]*${end}`), body)
    : `${doc}\n${body}\n`;
  writeFileSync(path, next);
}

const files = benchFiles();
const results: BenchResult[] = [];
for (const f of files) results.push(...(await runOne(f)));
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memGiB: Math.round(totalmem() / 2 ** 30),
};
const merged = only.length === 0 ? results : mergeWithPrevious(results);
writeFileSync(
  join(root, "bench/results/latest.json"),
  `${JSON.stringify({ meta, results: merged }, null, 2)}\n`,
);
writePerformanceDoc(merged, meta);
console.log(table(merged));
process.exit(merged.some((r) => r.pass === false) ? 1 : 0);

/** With a filter, keep the other benchmarks' last numbers. */
function mergeWithPrevious(fresh: BenchResult[]): BenchResult[] {
  const path = join(root, "bench/results/latest.json");
  const previous: BenchResult[] = existsSync(path)
    ? (JSON.parse(readFileSync(path, "utf8")) as { results: BenchResult[] }).results
    : [];
  const ids = new Set(fresh.map((r) => r.id));
  return [...previous.filter((r) => !ids.has(r.id)), ...fresh].sort((a, b) => a.issue - b.issue);
}
