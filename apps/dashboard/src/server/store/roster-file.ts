// The node roster's file in the file store's data dir (fleet/roster-keeper.ts): written as the
// store writes its own (temp file, fsync, rename, directory fsync), read with a size bound.
import { readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { ROSTER_FILE } from "../fleet/node-roster.js";
import type { RosterFile } from "../fleet/roster-keeper.js";
import type { FileWriter } from "../util/atomic-write.js";

export function rosterFile(dir: string, write: FileWriter): RosterFile {
  const path = join(dir, ROSTER_FILE);
  return {
    path,
    async read(maxBytes) {
      const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null;
        throw e;
      });
      if (st === null) return null;
      // Refused unopened: a FIFO would hold the start until a writer came, a device (a link to
      // /dev/zero) never ends; neither is a roster.
      if (!st.isFile()) throw new Error(`${path} is not a regular file`);
      const size = st.size;
      // Refused unread: a huge file would hold the start and its memory.
      if (size > maxBytes)
        throw new Error(`${path} is ${size} bytes, over the ${maxBytes} allowed`);
      return readFile(path, "utf8");
    },
    write: (text) => write(path, text, 0o600),
    async setAside() {
      const to = `${path}.bad-${Date.now()}`;
      await rename(path, to);
      return to;
    },
  };
}
