// Lists several chains of one table in one process. Every `iptables -S CHAIN` spawns a process
// that loads the table's chain list first (~2 ms of CPU on a node with 100,000 kube-proxy
// rules, spawn included), so reading the path one chain at a time grows with its length.
// `iptables-restore --noflush` runs `-S CHAIN` lines one after the other in one process and
// prints what they list: the same output, one table load. The script holds nothing but `-S`
// lines of validated names (no flush, no rule, no chain operation), and COMMIT of an unchanged
// table writes nothing (libiptc and nft skip an empty commit; no ruleset generation passes).
import { chainNameSchema } from "@masq/shared";
import type { ExecResult } from "../exec.js";
import { type ChainRead, classifyChainRead, linesRead } from "./read.js";

/** Chains listed by one process; more are split into several, run `LIST_CONCURRENCY` at a time. */
export const LIST_BATCH = 64;
export const LIST_CONCURRENCY = 2;

export type Run = (argv: string[], input?: string) => Promise<ExecResult>;

export interface ListerTools {
  /** `iptables-nft`, `ip6tables-legacy`, …: lists one chain (`-w -t TABLE -S NAME`). */
  list: string;
  /** The matching `…-restore`: lists several chains in one process. */
  restore: string;
}

/** Reads chains of one table: one result per name, in any order; never throws. */
export type ChainLister = (names: readonly string[]) => Promise<Map<string, ChainRead>>;

/** Names iptables-restore may be given: what iptables prints, never an option or a line break. */
export function listable(name: string): boolean {
  return chainNameSchema.safeParse(name).success && !/["'\\]/.test(name);
}

/** The restore input that lists `names` (all listable) and changes nothing. */
export function listingScript(table: string, names: readonly string[]): string {
  for (const n of names) if (!listable(n)) throw new Error(`refusing to list chain "${n}"`);
  return `*${table}\n${names.map((n) => `-S ${n}\n`).join("")}COMMIT\n`;
}

/**
 * `-S` output of several chains, by chain: each line names its chain as its second word. Lines
 * are kept whole (linesRead refuses a chain with one too long for a snapshot).
 */
export function splitByChain(stdout: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of stdout.split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const name = line.split(" ", 2)[1];
    if (name === undefined) continue;
    const lines = out.get(name);
    if (lines) lines.push(line);
    else out.set(name, [line]);
  }
  return out;
}

async function limit<T>(jobs: (() => Promise<T>)[], concurrency: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  return results;
}

/**
 * Which name a failed listing stopped at. Restore stops at the first failing line: every name
 * before it printed complete output, the failing one printed nothing (missing) or part of its
 * rules (a rule iptables cannot parse). Legacy names the line, nf_tables the missing chain;
 * otherwise the last name with output may be the partial one.
 */
export function failedAt(
  r: ExecResult,
  names: readonly string[],
  printed: Map<string, string[]>,
): number {
  const line = /line:? (\d+)/.exec(r.stderr);
  if (line) return Math.min(Math.max(Number(line[1]) - 2, 0), names.length - 1);
  const chain = /chain `([^']+)' in table/.exec(r.stderr);
  const named = chain ? names.indexOf(chain[1]!) : -1;
  if (named >= 0) return named;
  const firstSilent = names.findIndex((n) => !printed.has(n));
  return firstSilent < 0 ? names.length - 1 : Math.max(firstSilent - 1, 0);
}

/**
 * A lister for one table of one backend: one restore process per batch. The name a failed
 * batch stopped at is read alone with `-S NAME` (which tells a missing chain from an error),
 * and the names after it go on in a batch.
 */
export function createLister(run: Run, tools: ListerTools, table: string): ChainLister {
  const single = async (name: string) =>
    classifyChainRead(await run([tools.list, "-w", "-t", table, "-S", name]), name);

  /** One restore over `names`; returns the names still to read ([] when done). */
  async function batchOnce(
    names: readonly string[],
    out: Map<string, ChainRead>,
  ): Promise<readonly string[]> {
    const r = await run([tools.restore, "--noflush", "-w"], listingScript(table, names));
    const printed = splitByChain(r.stdout);
    // A restore that exits 0 without printing a name does not list (some versions): alone.
    const stop =
      r.code === 0 ? names.findIndex((n) => !printed.has(n)) : failedAt(r, names, printed);
    for (const n of stop < 0 ? names : names.slice(0, stop))
      out.set(n, linesRead(n, printed.get(n)!));
    if (stop < 0) return [];
    const failed = await single(names[stop]!);
    out.set(names[stop]!, failed);
    const rest = names.slice(stop + 1);
    if (failed.kind !== "ok") return rest;
    // It lists fine alone: this restore cannot list, so read the rest one by one.
    for (const n of rest) out.set(n, await single(n));
    return [];
  }

  async function batch(names: readonly string[], out: Map<string, ChainRead>): Promise<void> {
    let rest = names;
    while (rest.length > 0) rest = await batchOnce(rest, out);
  }

  return async (names) => {
    const out = new Map<string, ChainRead>();
    const unique = [...new Set(names)];
    for (const n of unique)
      if (!listable(n))
        out.set(n, {
          kind: "error",
          message: `"${n}" is not a chain name iptables-restore can be given`,
        });
    const ok = unique.filter((n) => !out.has(n));
    const batches: string[][] = [];
    for (let i = 0; i < ok.length; i += LIST_BATCH) batches.push(ok.slice(i, i + LIST_BATCH));
    await limit(
      batches.map((b) => () => batch(b, out)),
      LIST_CONCURRENCY,
    );
    return out;
  };
}
