// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it
// over the target, fsync the directory so the rename itself is durable.
import { randomBytes } from "node:crypto";
import { open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** Writes `data` to `path` so that readers see the old or the new content, never a mix. */
export type FileWriter = (path: string, data: string, mode?: number) => Promise<void>;

/**
 * The rename happened (the new content is what readers see) but the directory fsync failed,
 * so it may not survive a power loss. Callers that treat the rename as a commit must not
 * report this as "not written".
 */
export class NotDurableError extends Error {
  constructor(
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`${path} was replaced but the directory could not be synced: ${String(cause)}`);
    this.name = "NotDurableError";
  }
}

/** Temp files are `.<name>.<12 hex>.tmp` beside their target (see removeStaleTemps). */
const TEMP = /^\..+\.[0-9a-f]{12}\.tmp$/;

export const atomicWrite: FileWriter = async (path, data, mode = 0o644) => {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", mode);
  try {
    try {
      await fh.writeFile(data, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  try {
    await fsyncDir(dir);
  } catch (e) {
    throw new NotDurableError(path, e);
  }
};

/**
 * Deletes the temp files atomicWrite leaves in `dir` when the process dies mid-write (they
 * are never renamed, so nothing refers to them). Returns the names it removed; one it cannot
 * remove (a read-only disk) is left for a later start.
 */
export async function removeStaleTemps(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => TEMP.test(n));
  const removed = await Promise.all(
    names.map((n) =>
      rm(join(dir, n), { force: true }).then(
        () => n,
        () => undefined,
      ),
    ),
  );
  return removed.filter((n): n is string => n !== undefined);
}

async function fsyncDir(dir: string): Promise<void> {
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
