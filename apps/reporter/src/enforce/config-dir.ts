// A mounted config directory read as Azure's ip-masq-agent-v2 reads /etc/config
// (cmd/ip-masq-agent-v2/ip-masq-agent.go, syncConfig): every entry whose name starts with
// `ip-masq` is a config source, merged with the shared merge (config-merge.ts: union of the
// lists, booleans OR'd). Where v2 exits on the first bad file, a bad file or a disagreement
// between files is a refusal here, and the node keeps enforcing its last good config.
// Bounded: at most MAX_CONFIG_SOURCES entries, MAX_CONFIG_SOURCE_BYTES read of each.
import type { Dirent } from "node:fs";
import { open, readdir } from "node:fs/promises";
import { join } from "node:path";
import { sha256 } from "@masq/node-util";
import {
  type AgentFlags,
  MAX_CONFIG_SOURCE_BYTES,
  MAX_CONFIG_SOURCES,
  type MasqConfig,
  mergeSources,
  type SourceText,
} from "@masq/shared";

/** v2's configFilePrefix: ConfigMap keys projected as files (`ip-masq-agent`, `ip-masq-agent-reconciled`). */
export const CONFIG_DIR_PREFIX = "ip-masq";

export type DirRead =
  | { ok: true; hash: string; config: MasqConfig; files: string[] }
  | { ok: false; hash: string; reason: string };

/** At most `max` bytes of a file (one more tells the merge it is too large). */
async function readBounded(path: string, max: number): Promise<string> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    while (n < buf.length) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
    }
    return buf.subarray(0, n).toString("utf8");
  } finally {
    await fh.close();
  }
}

/** The directory's config entries, sorted (as Go's os.ReadDir), at most MAX_CONFIG_SOURCES + 1. */
async function configEntries(dir: string): Promise<Dirent[]> {
  const out: Dirent[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (!e.name.startsWith(CONFIG_DIR_PREFIX)) continue;
    out.push(e);
    if (out.length > MAX_CONFIG_SOURCES) break;
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Reads and merges the directory. `undefined` when it holds no config file (the caller keeps what
 * it has, as for a missing --config-file). Throws when the directory cannot be listed.
 */
export async function readConfigDir(dir: string, flags: AgentFlags): Promise<DirRead | undefined> {
  const entries = await configEntries(dir);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_CONFIG_SOURCES) {
    const reason = `config refused (${dir}): more than ${MAX_CONFIG_SOURCES} ${CONFIG_DIR_PREFIX}* files`;
    return { ok: false, hash: `too-many:${entries.length}`, reason };
  }
  const inputs: SourceText[] = [];
  const unreadable: string[] = [];
  for (const e of entries) {
    const source = { kind: "file" as const, name: e.name, key: e.name };
    try {
      inputs.push({ source, text: await readBounded(join(dir, e.name), MAX_CONFIG_SOURCE_BYTES) });
    } catch (err) {
      unreadable.push(
        `${e.name}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  const hash = sha256(JSON.stringify([inputs, unreadable]));
  if (unreadable.length > 0)
    return {
      ok: false,
      hash,
      reason: `config refused (${dir}): cannot read ${unreadable.join(", ")}`,
    };
  const merged = mergeSources(inputs, flags);
  if (!merged.ok) {
    const why = merged.conflicts.map((c) => c.message).join("; ");
    return { ok: false, hash, reason: `config refused (${dir}): the files conflict: ${why}` };
  }
  return { ok: true, hash, config: merged.config, files: entries.map((e) => e.name) };
}
