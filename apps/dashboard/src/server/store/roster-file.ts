// The files the dashboard keeps in the file store's data dir (fleet/kept-file.ts: the node
// roster, the nodes' events): written as the store writes its own (temp file, fsync, rename,
// directory fsync), read with a size bound.
import { readFile, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import type { DataFile } from "../fleet/kept-file.js";
import { NODE_EVENTS_FILE } from "../fleet/node-events.js";
import { ROSTER_FILE } from "../fleet/node-roster.js";
import type { FileWriter } from "../util/atomic-write.js";

export function rosterFile(dir: string, write: FileWriter): DataFile {
  return dataFile(join(dir, ROSTER_FILE), write);
}

export function nodeEventsFile(dir: string, write: FileWriter): DataFile {
  return dataFile(join(dir, NODE_EVENTS_FILE), write);
}

function dataFile(path: string, write: FileWriter): DataFile {
  return {
    path,
    async read(maxBytes) {
      const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
        if (e.code === "ENOENT") return null;
        throw e;
      });
      if (st === null) return null;
      // Refused unopened: a FIFO would hold the start until a writer came, a device (a link to
      // /dev/zero) never ends; neither is what is kept.
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
