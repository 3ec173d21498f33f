// Windows nodes: the masquerade intent lives in the node's CNI config as the OutBoundNAT
// policy's ExceptionList (destinations in it keep the pod address). This backend reads that file
// with the shared parser, applies a config by rewriting only the list(s) (shared
// rewriteExceptionLists: every other byte kept), keeps the previous file as a backup, replaces
// the file atomically (temp file in the same directory, fsync, rename, directory fsync), verifies
// by reading back with the shared drift rules and restores the previous content on a mismatch.
// A file it cannot parse is never written. Plain Node fs, so the same code runs on Linux (tests)
// and in a Windows HostProcess pod (C:\etc\cni\net.d\...).
import { type FSWatcher, watch as fsWatch } from "node:fs";
import * as fsp from "node:fs/promises";
import { release } from "node:os";
import { basename, dirname } from "node:path";
import { performance } from "node:perf_hooks";
import { fsyncDir, NotDurableError, replaceFile, sleep } from "@masq/node-util";
import {
  type AgentFlags,
  type ApplyTrigger,
  desiredExceptions,
  driftReport,
  type ExceptionListSnapshot,
  MAX_CNI_CONFIG_CHARS,
  MAX_CNI_PATH_CHARS,
  MAX_READ_ERROR_CHARS,
  MAX_WINDOWS_SNAPSHOT_JSON,
  type MasqConfig,
  parseCniConfig,
  retryDelay,
  rewriteExceptionLists,
  setLongInterval,
  type WindowsSnapshot,
  windowsDrift,
} from "@masq/shared";
import { refusal } from "../config-check.js";
import { type Logger, silentLogger } from "../log.js";
import { coalescer, MONITOR_RESTART } from "../watcher.js";
import type {
  BackendInfo,
  ChangeSource,
  Watch,
  WindowsApplyOutcome,
  WindowsBackend,
} from "./types.js";

/** The previous content of the file before the last rewrite (overwritten at every rewrite). */
export const DEFAULT_BACKUP_SUFFIX = ".ipmasq-backup";
/** The content before the first rewrite this node ever saw (written once, never overwritten). */
export const ORIGINAL_SUFFIX = ".ipmasq-original";
/** Extensions the container runtime loads from the CNI config directory (libcni ConfFiles). */
export const CNI_CONFIG_EXTENSIONS = [".conf", ".conflist", ".json"] as const;

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
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

export const nodeCniFs: CniFs = {
  realpath: (p) => fsp.realpath(p),
  stat: (p) => fsp.stat(p),
  readFile: (p) => fsp.readFile(p),
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

export interface WindowsCniBackendOptions {
  /** The CNI config file (`.conf` or `.conflist`), e.g. C:\etc\cni\net.d\10-flannel.conf. */
  path: string;
  flags: AgentFlags;
  logger?: Logger;
  /** Fallback poll of the file (default 10 s); fs.watch on its directory does the fast path. */
  pollIntervalMs?: number;
  /** Appended to the file name for the backup of the previous content (default .ipmasq-backup). */
  backupSuffix?: string;
  /** Keep `<file>.ipmasq-original`, the content before the first rewrite (default true). */
  keepOriginal?: boolean;
  /** File operations (tests). */
  fs?: Partial<CniFs>;
  /** Coalescing of watch events (defaults 15 ms quiet, 100 ms max). */
  debounceMs?: number;
  maxWaitMs?: number;
}

export interface WindowsCniBackend extends WindowsBackend {
  readonly path: string;
  /** Where the previous content is kept after a rewrite. */
  readonly backupPath: string;
  /** Where the content before the first rewrite is kept (null when not kept). */
  readonly originalPath: string | null;
  /** The plugin type of the last successful read ("flannel/win-overlay"), if any. */
  plugin(): string | undefined;
}

type Loaded =
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

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 3)}...` : s);

function errText(e: unknown): string {
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

/** Why the lists are not what the config wants, or undefined when they are (drift in sync). */
export function verifyExceptionLists(
  config: MasqConfig,
  lists: readonly ExceptionListSnapshot[],
): string | undefined {
  const r = driftReport(windowsDrift(config, lists));
  return r.status === "in-sync" ? undefined : r.summary;
}

function checkSuffix(suffix: string): string {
  if (suffix === "" || /[\\/]/.test(suffix))
    throw new Error(`backup suffix "${suffix}" must be a non-empty file name suffix`);
  if (CNI_CONFIG_EXTENSIONS.some((ext) => suffix.toLowerCase().endsWith(ext)))
    throw new Error(
      `backup suffix "${suffix}" ends like a CNI config: the container runtime would load the backup`,
    );
  return suffix;
}

export function createWindowsCniBackend(opts: WindowsCniBackendOptions): WindowsCniBackend {
  const path = opts.path;
  const fs: CniFs = { ...nodeCniFs, ...opts.fs };
  const log = opts.logger ?? silentLogger();
  const suffix = checkSuffix(opts.backupSuffix ?? DEFAULT_BACKUP_SUFFIX);
  const keepOriginal = opts.keepOriginal !== false;
  const flags = opts.flags;
  let plugin: string | undefined;
  let lock: Promise<unknown> = Promise.resolve();

  async function load(): Promise<Loaded> {
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
    plugin = parsed.plugin;
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

  function snapshotOf(l: Loaded): WindowsSnapshot {
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

  const read = async () => snapshotOf(await load());

  /** Writes `data` over `target` atomically (replaceFile) with the mode and owner of `like`. */
  async function replaceAtomically(target: string, data: Uint8Array, like: CniFileStat) {
    try {
      await replaceFile(target, data, {
        // Not a CNI extension, so the runtime never loads a half-written temp file.
        tempSuffix: ".ipmasq-tmp",
        io: {
          writeNew: (p, d) => fs.writeNew(p, typeof d === "string" ? Buffer.from(d) : d, like),
          rename: renameWithRetry,
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
  async function renameWithRetry(from: string, to: string) {
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

  async function applyNow(config: MasqConfig, trigger: ApplyTrigger): Promise<WindowsApplyOutcome> {
    const t0 = performance.now();
    const done = (o: Omit<WindowsApplyOutcome, "durationMs">): WindowsApplyOutcome => {
      const outcome = { ...o, durationMs: performance.now() - t0 };
      log[!outcome.ok ? "error" : outcome.changed ? "info" : "debug"](
        { trigger, path, ok: outcome.ok, changed: outcome.changed, error: outcome.error },
        "CNI config apply finished",
      );
      return outcome;
    };
    const fail = (error: string, snapshots: WindowsSnapshot | undefined, changed = false) =>
      done({ ok: false, changed, rolledBack: false, error, snapshots });

    const refused = refusal(config, flags);
    if (refused) return fail(refused, undefined);
    const before = await load();
    if (!before.ok) return fail(`${before.error}; the file was not touched`, snapshotOf(before));
    const rewrite = rewriteExceptionLists(before.text, desiredExceptions(config));
    if (!rewrite.ok)
      return fail(
        `cannot apply to ${path}: ${rewrite.error}; the file was not touched`,
        snapshotOf(before),
      );
    if (!rewrite.changed) {
      const problem = verifyExceptionLists(config, before.lists);
      return problem
        ? fail(`${path} has the desired list but does not verify: ${problem}`, snapshotOf(before))
        : done({ ok: true, changed: false, rolledBack: false, snapshots: snapshotOf(before) });
    }

    const target = before.target;
    const backupPath = target + suffix;
    const next = Buffer.from(rewrite.text, "utf8");
    try {
      const originalPath = target + ORIGINAL_SUFFIX;
      if (keepOriginal && !(await fs.exists(originalPath)))
        await replaceAtomically(originalPath, before.bytes, before.stat);
      await replaceAtomically(backupPath, before.bytes, before.stat);
      // Someone else's edit made while we worked wins; the next read or resync sees it.
      const now = await fs.readFile(target);
      if (!now.equals(before.bytes))
        return fail(
          `${path} changed while applying; not written (the next resync retries)`,
          await read(),
        );
      await replaceAtomically(target, next, before.stat);
    } catch (e) {
      return fail(`writing ${path} failed: ${errText(e)}; the file is unchanged`, await read());
    }

    const after = await load();
    const problem = after.ok ? verifyExceptionLists(config, after.lists) : after.error;
    if (!problem)
      return done({
        ok: true,
        changed: true,
        rolledBack: false,
        backupPath,
        snapshots: snapshotOf(after),
      });
    const failed = `${path} verification failed (${problem})`;
    try {
      await replaceAtomically(target, before.bytes, before.stat);
    } catch (e) {
      return done({
        ok: false,
        changed: true,
        rolledBack: false,
        backupPath,
        error: `${failed}; restoring the previous file also failed: ${errText(e)} (it is kept at ${backupPath})`,
        snapshots: await read(),
      });
    }
    return done({
      ok: false,
      changed: true,
      rolledBack: true,
      backupPath,
      error: `${failed}; previous file restored`,
      snapshots: await read(),
    });
  }

  const apply = (config: MasqConfig, trigger: ApplyTrigger): Promise<WindowsApplyOutcome> => {
    const next = lock.then(() => applyNow(config, trigger));
    lock = next.catch(() => {});
    return next;
  };

  function watch(onChange: (source: ChangeSource) => void): Watch {
    const pollIntervalMs = opts.pollIntervalMs ?? 10_000;
    const burst = coalescer(() => onChange("event"), opts.debounceMs ?? 15, opts.maxWaitMs ?? 100);
    // --poll-interval is a Go duration: any length (timers.ts).
    const poll =
      pollIntervalMs > 0 ? setLongInterval(() => onChange("poll"), pollIntervalMs) : undefined;
    const watchers = new Map<string, FSWatcher>();
    const timers = new Set<NodeJS.Timeout>();
    const names = new Set([basename(path)]);
    let closed = false;

    // Editors and installers replace the file by renaming another onto it, which a watch on the
    // file itself would lose: watch the directory and pick our name out.
    const follow = (dir: string, failures: number) => {
      if (closed) return;
      try {
        const w = fsWatch(dir, { persistent: false }, (_event, filename) => {
          if (!filename || names.has(filename.toString())) burst.poke();
        });
        w.on("error", (e) => {
          w.close();
          if (watchers.get(dir) === w) watchers.delete(dir);
          retry(dir, failures + 1, e);
        });
        watchers.set(dir, w);
        if (failures > 0) onChange("monitor-restart");
      } catch (e) {
        retry(dir, failures + 1, e);
      }
    };
    const retry = (dir: string, failures: number, e: unknown) => {
      if (closed) return;
      const delay = retryDelay(failures, MONITOR_RESTART);
      log.warn(
        { dir, err: errText(e), retryInMs: delay },
        "cannot watch the CNI config directory; polling",
      );
      const t = setTimeout(() => {
        timers.delete(t);
        follow(dir, failures);
      }, delay);
      timers.add(t);
    };

    follow(dirname(path), 0);
    // A symlinked file: also watch where it really lives.
    fs.realpath(path).then(
      (target) => {
        if (closed || target === path) return;
        names.add(basename(target));
        if (dirname(target) !== dirname(path)) follow(dirname(target), 0);
      },
      () => {},
    );
    return {
      close() {
        closed = true;
        burst.cancel();
        poll?.clear();
        for (const t of timers) clearTimeout(t);
        for (const w of watchers.values()) w.close();
        watchers.clear();
      },
    };
  }

  const info = async (): Promise<BackendInfo> => ({
    backend: "cni",
    iptablesVersion: "",
    randomFullySupported: false,
    kernel: release() || "unknown",
    monitor: true,
    warnings: [],
  });

  return {
    os: "windows",
    path,
    backupPath: path + suffix,
    originalPath: keepOriginal ? path + ORIGINAL_SUFFIX : null,
    plugin: () => plugin,
    info,
    effectiveFlags: async () => flags,
    read,
    apply,
    watch,
  };
}
