// The last applied config, persisted on the node (--state-dir) so a restarted reporter keeps
// enforcing it while the dashboard is unreachable. Written atomically; a damaged or invalid
// file is ignored (and said so), never applied.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { readFileIfExists, replaceFile } from "@masq/node-util";
import {
  fromLegacyRevisionNames,
  MAX_RESOURCE_VERSION_CHARS,
  masqConfigSchema,
} from "@masq/shared";
import { z } from "zod";

/** C:\ProgramData\ipmasq on Windows (the Helm chart sets it explicitly either way). */
export const DEFAULT_STATE_DIR =
  process.platform === "win32" ? "C:\\ProgramData\\ipmasq" : "/var/lib/ipmasq";
export const STATE_FILE = "state.json";

/** The version of state.json's shape (`v`). */
export const STATE_VERSION = 1;

export const configSourceSchema = z.enum(["dashboard", "file", "cli"]);
export type ConfigSource = z.infer<typeof configSourceSchema>;

export const persistedStateSchema = z.strictObject({
  v: z.literal(STATE_VERSION),
  config: masqConfigSchema,
  revision: z.number().int().nonnegative().nullable(),
  resourceVersion: z.string().max(MAX_RESOURCE_VERSION_CHARS).nullable(),
  source: configSourceSchema,
  /** Epoch ms of the successful apply. */
  appliedAt: z.number().int().nonnegative(),
  /** sha256 of the mounted ConfigMap file last adopted, so only a new edit of it wins. */
  fileHash: z.string().max(128).nullable(),
});
export type PersistedState = z.infer<typeof persistedStateSchema>;

export type LoadResult =
  | { ok: true; state: PersistedState | undefined }
  | { ok: false; reason: string };

export interface StateStore {
  readonly path: string;
  load(): Promise<LoadResult>;
  save(state: PersistedState): Promise<void>;
}

export function createStateStore(dir: string): StateStore {
  const path = join(dir, STATE_FILE);
  return {
    path,
    async load() {
      let text: string | undefined;
      try {
        text = await readFileIfExists(path);
      } catch (e) {
        return { ok: false, reason: (e as Error).message };
      }
      if (text === undefined) return { ok: true, state: undefined };
      try {
        // A file of the previous release says `generation` and a string `revision`.
        const r = persistedStateSchema.safeParse(fromLegacyRevisionNames(JSON.parse(text)));
        return r.success
          ? { ok: true, state: r.data }
          : { ok: false, reason: r.error.issues[0]?.message ?? "invalid" };
      } catch (e) {
        return { ok: false, reason: `not JSON: ${(e as Error).message}` };
      }
    },
    async save(state) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const text = `${JSON.stringify(persistedStateSchema.parse(state), null, 2)}\n`;
      await replaceFile(path, text, { mode: 0o600 });
    },
  };
}
