// Crash-safe file replacement: write a temp file in the same directory, fsync it, rename it
// over the target, fsync the directory so the rename itself is durable. Readers see the old or
// the new content, never a mix. Used by the dashboard's file store and secrets, the reporter's
// state file and the Windows CNI backend.
import { randomBytes } from "node:crypto";
import { open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

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

/** The file operations of a replace; tests and the Windows backend swap some of them. */
export interface ReplaceIo {
  /** Creates `path` (it must not exist) with `data` and `mode`, fsynced. */
  writeNew(path: string, data: string | Uint8Array, mode: number): Promise<void>;
  /** Replaces `to` with `from` atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; no error when it does not exist. */
  rm(path: string): Promise<void>;
  fsyncDir(dir: string): Promise<void>;
}

export interface ReplaceOptions {
  /** Mode of a new file (default 0o644; open applies the umask). */
  mode?: number;
  /** Ends the temp file's name (default ".tmp"); pick one no reader of the directory loads. */
  tempSuffix?: string;
  io?: Partial<ReplaceIo>;
}

export const nodeReplaceIo: ReplaceIo = {
  async writeNew(path, data, mode) {
    const fh = await open(path, "wx", mode);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => rename(from, to),
  rm: (p) => rm(p, { force: true }),
  fsyncDir: (dir) => fsyncDir(dir),
};

/** Temp files are `.<name>.<12 hex><suffix>` beside their target (see removeStaleTemps). */
export function tempPathFor(path: string, suffix = ".tmp"): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}${suffix}`);
}

/**
 * Replaces `path` with `data` atomically. Errors before the rename leave `path` untouched (the
 * temp file is removed); a failed directory fsync after it throws NotDurableError.
 */
export async function replaceFile(
  path: string,
  data: string | Uint8Array,
  opts: ReplaceOptions = {},
): Promise<void> {
  const io = { ...nodeReplaceIo, ...opts.io };
  const tmp = tempPathFor(path, opts.tempSuffix);
  try {
    await io.writeNew(tmp, data, opts.mode ?? 0o644);
    await io.rename(tmp, path);
  } catch (e) {
    await io.rm(tmp).catch(() => {});
    throw e;
  }
  try {
    await io.fsyncDir(dirname(path));
  } catch (e) {
    throw new NotDurableError(path, e);
  }
}

/**
 * Deletes the temp files replaceFile leaves in `dir` when the process dies mid-write (they
 * are never renamed, so nothing refers to them). Returns the names it removed; one it cannot
 * remove (a read-only disk) is left for a later start.
 */
export async function removeStaleTemps(dir: string, suffix = ".tmp"): Promise<string[]> {
  const temp = new RegExp(`^\\..+\\.[0-9a-f]{12}${suffix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`);
  const names = (await readdir(dir)).filter((n) => temp.test(n));
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

/**
 * fsync a directory so a rename in it survives a crash. Windows cannot open a directory as a
 * file (EISDIR/EPERM; NTFS journals the rename itself), so there it is skipped.
 */
export async function fsyncDir(
  dir: string,
  platform: NodeJS.Platform = process.platform,
): Promise<void> {
  if (platform === "win32") return;
  const dh = await open(dir, "r");
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
