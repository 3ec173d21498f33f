// Small file-system helpers shared by the state store and the Windows CNI backend.
import { open } from "node:fs/promises";

/**
 * fsync a directory so a rename in it survives a crash. Windows cannot open a directory as a
 * file (EISDIR/EPERM; NTFS journals the rename itself), so there it is skipped.
 */
export async function fsyncDir(dir: string, platform: NodeJS.Platform = process.platform) {
  if (platform === "win32") return;
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
