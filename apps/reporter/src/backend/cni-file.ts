// The Windows backend's file system side: the CNI config read, decoded and parsed (never
// throwing: a failure is a reason), its snapshot for the dashboard, and the atomic rewrite
// (@masq/node-util replaceFile with the file's own mode and owner, a temp name no container
// runtime loads, and Windows' transient rename refusals retried). Plain Node fs, so the same
// code runs on Linux (tests) and in a Windows HostProcess pod.
import { type FSWatcher, watch as fsWatch } from "node:fs";
import * as fsp from "node:fs/promises";
import { dirname } from "node:path";
import { fsyncDir, NotDurableError, replaceFile, sleep } from "@masq/node-util";
import {
  type ExceptionListSnapshot,
  MAX_CNI_CONFIG_CHARS,
  MAX_CNI_PATH_CHARS,
  MAX_READ_ERROR_CHARS,
  MAX_WINDOWS_SNAPSHOT_JSON,
  parseCniConfig,
  type WindowsSnapshot,
} from "@masq/shared";
import type { Logger } from "../log.js";

/** Bytes: a CNI config is a few KiB; even UTF-8 worst case of the shared char limit. */
const MAX_FILE_BYTES = 4 * MAX_CNI_CONFIG_CHARS;

export interface CniFileStat {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
}

/** The file operations the backend uses; tests inject failures through it. */
export interface CniFs {
  realpath(path: string): Promise<string>;
  stat(path: string): Promise<CniFileStat>;
  readFile(path: string): Promise<Buffer>;
  /** Creates `path` (it must not exist) with `data`, the mode (and owner) of `like`, fsynced. */
  writeNew(path: string, data: Uint8Array, like: CniFileStat): Promise<void>;
  /** Replaces `to` atomically. */
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; no error when it does not exist. */
  rm(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  fsyncDir(dir: string): Promise<void>;
  /** Watches a directory (fs.watch, not keeping the process alive); tests emit events by hand. */
  watchDir(dir: string, listener: (filename: string | null) => void): DirWatcher;
}

/** What the change detection needs of an fs.FSWatcher. */
export type DirWatcher = Pick<FSWatcher, "close" | "on">;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export const nodeCniFs: CniFs = {
  realpath: (p) => fsp.realpath(p),
  stat: (p) => fsp.stat(p),
  readFile: (p) => fsp.readFile(p),
  watchDir: (dir, listener) =>
    fsWatch(dir, { persistent: false }, (_event, filename) => listener(filename)),
  async writeNew(path, data, like) {
    const mode = like.mode & 0o7777;
    const fh = await fsp.open(path, "wx", mode);
    try {
      await fh.writeFile(data);
      if (process.platform !== "win32") {
        await fh.chmod(mode); // open's mode went through the umask
        if (process.getuid?.() !== like.uid || process.getgid?.() !== like.gid)
          await fh.chown(like.uid, like.gid).catch(() => {}); // best effort (needs root)
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
  rename: (from, to) => fsp.rename(from, to),
  rm: (p) => fsp.rm(p, { force: true }),
  exists: (p) =>
    fsp.lstat(p).then(
      () => true,
      () => false,
    ),
  fsyncDir: (dir) => fsyncDir(dir),
};

export type Loaded =
  | {
      ok: true;
      /** The file written to (the configured path with symlinks resolved). */
      target: string;
      stat: CniFileStat;
      bytes: Buffer;
      text: string;
      plugin: string;
      lists: ExceptionListSnapshot[];
    }
  | { ok: false; error: string };

export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

export function errText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ?? err?.message ?? String(e);
}

/** UTF-8 text (a BOM kept, so the rewrite keeps it); refuses what a rewrite would damage. */
export function decodeCniBytes(
  bytes: Uint8Array,
): { ok: true; text: string } | { ok: false; error: string } {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return {
      ok: false,
      error: "the file is UTF-16 encoded; CNI plugins read UTF-8 JSON (save it as UTF-8)",
    };
  try {
    return {
      ok: true,
      text: new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes),
    };
  } catch {
    return { ok: false, error: "the file is not valid UTF-8" };
  }
}

/** Reads and parses the CNI config at `path` (symlinks followed); never throws. */
export async function loadCniFile(path: string, fs: CniFs): Promise<Loaded> {
  let target: string;
  let stat: CniFileStat;
  let bytes: Buffer;
  try {
    target = await fs.realpath(path);
    stat = await fs.stat(target);
    if ((stat.mode & S_IFMT) !== S_IFREG)
      return { ok: false, error: `${path} is not a regular file` };
    if (stat.size > MAX_FILE_BYTES)
      return { ok: false, error: `${path} is ${stat.size} bytes: too large for a CNI config` };
    bytes = await fs.readFile(target);
  } catch (e) {
    return { ok: false, error: `cannot read ${path}: ${errText(e)}` };
  }
  const decoded = decodeCniBytes(bytes);
  if (!decoded.ok) return { ok: false, error: `cannot parse ${path}: ${decoded.error}` };
  const parsed = parseCniConfig(decoded.text);
  if (!parsed.ok) return { ok: false, error: `cannot parse ${path}: ${parsed.error}` };
  return {
    ok: true,
    target,
    stat,
    bytes,
    text: decoded.text,
    plugin: parsed.plugin,
    lists: parsed.lists,
  };
}

/** What a read reports: the lists, or why not (clipped to the protocol's limits). */
export function cniSnapshot(path: string, l: Loaded): WindowsSnapshot {
  const p = clip(path, MAX_CNI_PATH_CHARS);
  if (!l.ok) return { path: p, lists: [], readError: clip(l.error, MAX_READ_ERROR_CHARS) };
  const snap: WindowsSnapshot = { path: p, lists: l.lists };
  if (JSON.stringify(snap).length <= MAX_WINDOWS_SNAPSHOT_JSON) return snap;
  const entries = l.lists.reduce((n, x) => n + x.exceptions.length, 0);
  return {
    path: p,
    lists: [],
    readError: `the OutBoundNAT exception lists are too large to report (${entries} entries in ${l.lists.length} lists)`,
  };
}

/** Writes `data` over `target` atomically (replaceFile) with the mode and owner of `like`. */
export async function replaceCniFile(
  io: { fs: CniFs; log: Logger },
  target: string,
  data: Uint8Array,
  like: CniFileStat,
): Promise<void> {
  const { fs, log } = io;
  try {
    await replaceFile(target, data, {
      // Not a CNI extension, so the runtime never loads a half-written temp file.
      tempSuffix: ".ipmasq-tmp",
      io: {
        writeNew: (p, d) => fs.writeNew(p, typeof d === "string" ? Buffer.from(d) : d, like),
        rename: (from, to) => renameWithRetry(fs, from, to),
        rm: fs.rm,
        fsyncDir: fs.fsyncDir,
      },
    });
  } catch (e) {
    // The rename is the commit point: from there on the new content is in place.
    if (!(e instanceof NotDurableError)) throw e;
    log.warn(
      { dir: dirname(target), err: errText(e.cause) },
      "cannot fsync the CNI config directory",
    );
  }
}

/** Windows refuses a rename while another process holds the file open without sharing delete. */
async function renameWithRetry(fs: CniFs, from: string, to: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fs.rename(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const transient = code === "EPERM" || code === "EBUSY" || code === "EACCES";
      if (process.platform !== "win32" || !transient || attempt >= 4) throw e;
      await sleep(50 * (attempt + 1));
    }
  }
}
