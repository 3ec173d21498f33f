// The `nft` program, run the one way the reporter runs programs (exec.ts: argument arrays, a
// timeout, bounded output). Lists go in as JSON commands (`nft -j -f FILE`), so a table or
// chain name read from the node is never parsed by nft's command scanner (a name holding `;` or
// spaces would otherwise be a second command). One list per process: nft 1.0.6 fails a batch of
// several list commands ("No such file or directory") because their cache is not loaded.
// Scripts go through a private temporary file: `nft -f -` opens /dev/stdin, which fails on the
// socket Node gives a child as stdin (ENXIO).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_READ_ERROR_CHARS } from "@masq/shared";
import { type ExecResult, programMissing } from "../exec.js";

/** Runs `argv` with `script` in a file only this process can read, named by the last argument. */
async function withScript<T>(script: string, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "ipmasq-nft-"));
  try {
    const path = join(dir, "script.nft");
    await writeFile(path, script, { mode: 0o600 });
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every chain of a node with 5,000 kube-proxy services lists in ~2.6 MB of JSON. */
export const NFT_LIST_CHAINS_MAX_BYTES = 64 * 1024 * 1024;
/** One table, chain, set or map. */
export const NFT_LIST_MAX_BYTES = 16 * 1024 * 1024;

export type NftRun = (
  argv: string[],
  input?: string,
  maxOutputBytes?: number,
) => Promise<ExecResult>;

export type NftList =
  | { kind: "ok"; objects: unknown[] }
  | { kind: "missing"; message: string }
  | { kind: "error"; message: string };

export type NftObjectKind = "table" | "chain" | "set" | "map";

export interface NftRef {
  family: string;
  /** The table (for a table: its name). */
  table: string;
  /** Chain, set or map name (absent for a table). */
  name?: string;
}

/** The first lines of nft's complaint, bounded for a snapshot's readError. */
export function nftError(r: ExecResult, what: string, nft: string): string {
  if (programMissing(r)) return `${nft} is not installed or cannot run (${r.stderr.trim()})`;
  if (r.timedOut) return `${what} timed out`;
  if (r.truncated) return `${what} printed more than the reporter reads`;
  const text = r.stderr.trim().split("\n").slice(0, 3).join(" | ") || `exit ${r.code}`;
  return `${what} failed: ${text}`.slice(0, MAX_READ_ERROR_CHARS);
}

function parseListing(r: ExecResult, what: string, nft: string): NftList {
  if (r.code !== 0 || r.truncated) {
    const missing =
      r.code === 1 && /No such file or directory/.test(r.stderr) && !programMissing(r);
    return { kind: missing ? "missing" : "error", message: nftError(r, what, nft) };
  }
  try {
    const doc = JSON.parse(r.stdout) as unknown;
    const list = (doc as { nftables?: unknown }).nftables;
    if (!Array.isArray(list)) return { kind: "error", message: `${what}: no "nftables" array` };
    return { kind: "ok", objects: list.filter((o) => !("metainfo" in (o as object))) };
  } catch (e) {
    return { kind: "error", message: `${what}: not JSON (${(e as Error).message})` };
  }
}

/** The JSON command that lists one object (names as data, never as command text). */
export function listCommand(kind: NftObjectKind, ref: NftRef): string {
  const obj =
    kind === "table"
      ? { family: ref.family, name: ref.table }
      : { family: ref.family, table: ref.table, name: ref.name };
  return JSON.stringify({ nftables: [{ list: { [kind]: obj } }] });
}

export function createNft(run: NftRun, nft = "nft") {
  const describe = (kind: NftObjectKind, ref: NftRef) =>
    `${nft} list ${kind} ${ref.family} ${ref.table}${ref.name ? ` ${ref.name}` : ""}`;
  return {
    nft,
    /** Every chain of every table (base chains with type, hook and priority); no rules. */
    async listChains(): Promise<NftList> {
      const r = await run([nft, "-j", "list", "chains"], undefined, NFT_LIST_CHAINS_MAX_BYTES);
      return parseListing(r, `${nft} list chains`, nft);
    },
    /** One table whole, or one chain with its rules, or one set or map with its elements. */
    async list(kind: NftObjectKind, ref: NftRef): Promise<NftList> {
      const r = await withScript(listCommand(kind, ref), (path) =>
        run([nft, "-j", "-f", path], undefined, NFT_LIST_MAX_BYTES),
      );
      return parseListing(r, describe(kind, ref), nft);
    },
    /** One transaction (`nft -f`, or `-j -f` for JSON); the error text, or undefined. */
    async apply(script: string, json = false): Promise<string | undefined> {
      const argv = (path: string) => [nft, ...(json ? ["-j"] : []), "-f", path];
      const r = await withScript(script, (path) => run(argv(path), undefined, NFT_LIST_MAX_BYTES));
      return r.code === 0 ? undefined : nftError(r, `${nft} -f`, nft);
    },
  };
}

export type Nft = ReturnType<typeof createNft>;
