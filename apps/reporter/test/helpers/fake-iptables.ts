// A stand-in for the iptables programs of one backend, for unit tests of the readers: `-S`,
// restore listings (which stop at the first missing chain, as iptables-restore does), `-V`
// and /proc/net/ip_tables_names, over chains held in memory.
import type { ExecResult } from "../../src/exec.js";

export interface FakeTables {
  /** `iptables -V` output; undefined: the program is not installed. */
  version?: string;
  /** table → chain → `-S` lines (first line `-N X` or `-P X POLICY`). */
  tables: Record<string, Record<string, string[]>>;
  /** Legacy only: tables the kernel lists; undefined: /proc file absent. */
  procTables?: string[];
  /** A restore that ignores `-S` lines (prints nothing), as some versions might. */
  restoreIgnoresList?: boolean;
  /** Chains holding a rule iptables cannot parse: `-N X` is printed, then an error (exit 3). */
  unparsable?: string[];
  /** Restore failures name the line (legacy) instead of the chain (nf_tables). */
  namesLine?: boolean;
}

const ok = (stdout: string): ExecResult => ({ code: 0, stdout, stderr: "", timedOut: false });
const fail = (code: number, stderr: string): ExecResult => ({
  code,
  stdout: "",
  stderr,
  timedOut: false,
});
const missing = (chain: string, table: string) =>
  `iptables v1.8.9 (nf_tables): chain \`${chain}' in table \`${table}' is incompatible, use 'nft' tool.\n`;

function list(t: FakeTables, table: string, chain: string): ExecResult {
  const lines = t.tables[table]?.[chain];
  if (t.unparsable?.includes(chain))
    return {
      ...fail(
        3,
        "Error: meta sreg key not supported\niptables v1.8.9 (nf_tables): Parsing nftables rule failed\n",
      ),
      stdout: `-N ${chain}\n`,
    };
  return lines ? ok(`${lines.join("\n")}\n`) : fail(1, missing(chain, table));
}

function restore(t: FakeTables, input: string): ExecResult {
  const [head, ...rest] = input.trim().split("\n");
  const table = head!.slice(1);
  let out = "";
  for (const line of rest) {
    if (line === "COMMIT") break;
    const name = line.slice(3);
    if (!line.startsWith("-S ")) return fail(2, `unexpected line ${line}`);
    if (t.restoreIgnoresList) continue;
    const r = list(t, table, name);
    if (r.code !== 0) {
      const stderr = t.namesLine
        ? `iptables-restore: line ${rest.indexOf(line) + 2} failed\n`
        : r.stderr;
      return { ...r, stderr, stdout: out + r.stdout };
    }
    out += r.stdout;
  }
  return ok(out);
}

/** One fake program set; `calls` records every argv run. */
export function fakeIptables(t: FakeTables) {
  const calls: string[][] = [];
  const run = async (argv: string[], input?: string): Promise<ExecResult> => {
    calls.push(argv);
    if (argv[0] === "cat")
      return t.procTables
        ? ok(t.procTables.map((n) => `${n}\n`).join(""))
        : fail(1, "No such file");
    if (t.version === undefined) return fail(127, `spawn ${argv[0]} ENOENT`);
    if (argv[1] === "-V") return ok(`${t.version}\n`);
    if (argv[0]!.endsWith("-restore")) return restore(t, input ?? "");
    const at = argv.indexOf("-S");
    return list(t, argv[argv.indexOf("-t") + 1]!, argv[at + 1]!);
  };
  return { run, calls };
}

/**
 * A node with both backends: programs named `…-nft…` / `…-legacy…` go to their backend, plain
 * `iptables…` to `plain`, `cat /proc/net/ip_tables_names` to legacy.
 */
export function fakeNode(node: { nft: FakeTables; legacy: FakeTables; plain?: "nft" | "legacy" }) {
  const nft = fakeIptables(node.nft);
  const legacy = fakeIptables(node.legacy);
  const calls: string[][] = [];
  const plain = node.plain === "legacy" ? legacy : node.plain === "nft" ? nft : undefined;
  /** The backend a program talks to (undefined: it is not installed). */
  const backendOf = (prog: string) => {
    if (prog === "cat" || prog.includes("-legacy")) return legacy;
    return prog.includes("-nft") ? nft : plain;
  };
  const run = (argv: string[], input?: string) => {
    calls.push(argv);
    const prog = argv[0]!;
    const which = backendOf(prog);
    return which ? which.run(argv, input) : Promise.resolve(fail(127, `spawn ${prog} ENOENT`));
  };
  return { run, calls };
}
