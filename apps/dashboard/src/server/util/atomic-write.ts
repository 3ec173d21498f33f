// The file store writes through a FileWriter so tests can inject faults (a full disk, a failed
// directory fsync); the real one is the shared crash-safe replace of @masq/node-util.
import { replaceFile } from "@masq/node-util";

/** Writes `data` to `path` so that readers see the old or the new content, never a mix. */
export type FileWriter = (path: string, data: string, mode?: number) => Promise<void>;

/** replaceFile: temp file, fsync, rename, directory fsync (NotDurableError when only that fails). */
export const atomicWrite: FileWriter = (path, data, mode = 0o644) =>
  replaceFile(path, data, { mode });
